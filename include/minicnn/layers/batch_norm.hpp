// BatchNorm (Keras's BatchNormalization; Ioffe & Szegedy 2015): normalises each channel of
// (N, C, H, W) input over N, H and W, or each feature of (N, F) input over N, then scales and
// shifts it with the learned gamma and beta.
//
// Parameters, in Keras's order: gamma (C) = 1 and beta (C) = 0, trainable; moving_mean (C) = 0
// and moving_variance (C) = 1, non-trainable, used in inference mode.
//
// Conventions (three different "momentum"s exist in the wild; this is Keras's):
//   moving = momentum * moving + (1 - momentum) * batch_statistic,   momentum = 0.99 by default.
//   PyTorch's momentum is the weight of the new value: Keras's 0.99 is PyTorch's 0.01.
//   Normalisation uses the biased batch variance (divide by m, m = values per channel = N*H*W);
//   the moving variance averages the unbiased one (times m / (m - 1)), as the paper, PyTorch and
//   TF-Keras's fused kernel do. Training therefore needs m >= 2.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "minicnn/layer.hpp"

namespace minicnn {

template <typename T>
class BatchNorm : public Layer<T> {
 public:
  explicit BatchNorm(double momentum = 0.99, double epsilon = 1e-3)
      : momentum_(momentum), epsilon_(epsilon) {
    if (!(momentum >= 0.0 && momentum <= 1.0))
      fail("BatchNormalization: expected momentum in [0, 1], got ", momentum);
    if (!(epsilon > 0.0 && std::isfinite(epsilon)))
      fail("BatchNormalization: expected a finite epsilon > 0, got ", epsilon);
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<BatchNorm>(config.get_double("momentum"), config.get_double("epsilon"));
  }
  std::string kind() const override { return "BatchNormalization"; }
  Config config() const override {
    return Config().set("momentum", momentum_).set("epsilon", epsilon_);
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<BatchNorm>(*this); }

  std::vector<Parameter<T>*> parameters() override {
    return {&gamma_, &beta_, &moving_mean_, &moving_variance_};
  }
  // Frozen for fine-tuning, it normalises with its moving statistics and leaves them unchanged, as
  // Keras does: batch statistics of a small new data set would wreck what the backbone learnt.
  bool frozen_runs_inference() const override { return true; }

  // x, y: (N, C, H, W) or (N, C); m = N*H*W values per channel c (H = W = 1 for (N, C)).
  // training:   mean_c = sum x / m,   var_c = sum (x - mean_c)^2 / m   (biased)
  //             moving_mean_c     = momentum moving_mean_c     + (1 - momentum) mean_c
  //             moving_variance_c = momentum moving_variance_c + (1 - momentum) var_c m / (m - 1)
  // inference:  mean_c = moving_mean_c,   var_c = moving_variance_c   (nothing changes)
  // both:       y = gamma_c (x - mean_c) / sqrt(var_c + epsilon) + beta_c
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode mode) override {
    this->check_input(x);
    y.resize(x.shape());
    if (mode == Mode::inference) {
      normalize(x, y, [this](Index c) { return moving_statistics(c); });
      return;
    }
    const Index batch = x.dim(0);
    const Index m = batch * spatial_;
    if (m < 2)
      fail(this->label(), ": expected more than 1 value per channel in training mode (N*H*W), got ",
           m, " for input of shape ", x.shape());

    // One pass over the data: the sums of d = x - x_c0, the channel's first value, give
    // mean = x_c0 + sum d / m and var = sum d^2 / m - (sum d / m)^2. The shift keeps that
    // difference from cancelling catastrophically when |mean| >> std. Each run of H*W values is
    // summed in T (vectorised), the runs' sums in double, so that float input keeps its digits
    // over large batches. One thread reduces one channel in a fixed order: the numbers do not
    // depend on the thread count.
    const T* in = x.data();
    const Index channels = channels_;
    const Index spatial = spatial_;
#pragma omp parallel for schedule(static) if (x.size() >= kParallelThreshold)
    for (Index c = 0; c < channels; ++c) {
      const T shift = in[c * spatial];
      double sum = 0.0;
      double sum_squares = 0.0;
      for (Index n = 0; n < batch; ++n) {
        const ConstVectorMap<T> values(in + (n * channels + c) * spatial, spatial);
        const auto d = values.array() - shift;
        sum += static_cast<double>(d.sum());
        sum_squares += static_cast<double>(d.square().sum());
      }
      const double mean_shifted = sum / static_cast<double>(m);
      const double variance =
          std::max(sum_squares / static_cast<double>(m) - mean_shifted * mean_shifted, 0.0);
      const double mean = static_cast<double>(shift) + mean_shifted;
      const double unbiased = variance * static_cast<double>(m) / static_cast<double>(m - 1);
      batch_mean_[c] = static_cast<T>(mean);
      batch_inv_std_[c] = static_cast<T>(1.0 / std::sqrt(variance + epsilon_));
      T& moving_mean = moving_mean_.value[c];
      T& moving_variance = moving_variance_.value[c];
      moving_mean = static_cast<T>(momentum_ * moving_mean + (1.0 - momentum_) * mean);
      moving_variance = static_cast<T>(momentum_ * moving_variance + (1.0 - momentum_) * unbiased);
    }
    has_batch_statistics_ = true;
    normalize(x, y, [this](Index c) { return batch_statistics(c); });
  }

  // Inference as an affine map per channel, what a convolution before it folds (model/fusion.hpp):
  //   y = scale_c x + shift_c,  scale_c = gamma_c / sqrt(moving_variance_c + epsilon),
  //                             shift_c = beta_c - moving_mean_c scale_c
  // computed in double from the current parameters and rounded once.
  bool inference_affine(std::vector<T>& scale, std::vector<T>& shift) const override {
    scale.resize(static_cast<std::size_t>(channels_));
    shift.resize(static_cast<std::size_t>(channels_));
    for (Index c = 0; c < channels_; ++c) {
      const double s = static_cast<double>(gamma_.value[c]) /
                       std::sqrt(static_cast<double>(moving_variance_.value[c]) + epsilon_);
      scale[static_cast<std::size_t>(c)] = static_cast<T>(s);
      shift[static_cast<std::size_t>(c)] = static_cast<T>(
          static_cast<double>(beta_.value[c]) - static_cast<double>(moving_mean_.value[c]) * s);
    }
    return true;
  }

  // With xhat = (x - mean_c) inv_std_c, inv_std_c = 1 / sqrt(var_c + epsilon), sums over the m
  // values of channel c:
  //   dbeta_c  += sum dy,      dgamma_c += sum dy xhat
  //   training:   dx = gamma_c inv_std_c (dy - sum(dy) / m - xhat sum(dy xhat) / m)
  //               with the batch statistics of the last training-mode forward() (the Layer
  //               contract), which normalised this x.
  //   inference:  dx = gamma_c inv_std_c dy   with the moving statistics, constants here; no
  //               training cache is read or written.
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    const bool training = mode == Mode::training;
    if (training && !has_batch_statistics_)
      fail(this->label(), ": backward() called before a training-mode forward()");
    dx.resize(x.shape());
    const Index batch = x.dim(0);
    const Index channels = channels_;
    const Index spatial = spatial_;
    const T* in = x.data();
    const T* upstream = dy.data();
    T* grad = dx.data();
    const auto statistics = [&](Index c) {
      return training ? batch_statistics(c) : moving_statistics(c);
    };

    // Per channel: sum dy and sum dy xhat, in double and in a fixed order. Inference keeps them
    // in locals: only training's dx needs them again.
#pragma omp parallel for schedule(static) if (x.size() >= kParallelThreshold)
    for (Index c = 0; c < channels; ++c) {
      const auto [mean, inv_std] = statistics(c);
      double sum_dy = 0.0;
      double sum_dy_centered = 0.0;
      for (Index n = 0; n < batch; ++n) {  // in T per run of H*W values, in double over runs
        const Index offset = (n * channels + c) * spatial;
        const ConstVectorMap<T> dy_run(upstream + offset, spatial);
        const ConstVectorMap<T> x_run(in + offset, spatial);
        sum_dy += static_cast<double>(dy_run.sum());
        sum_dy_centered += static_cast<double>((dy_run.array() * (x_run.array() - mean)).sum());
      }
      const double sum_dy_xhat = sum_dy_centered * static_cast<double>(inv_std);
      if (training) {
        sum_dy_[static_cast<std::size_t>(c)] = sum_dy;
        sum_dy_xhat_[static_cast<std::size_t>(c)] = sum_dy_xhat;
      }
      beta_.grad[c] += static_cast<T>(sum_dy);
      gamma_.grad[c] += static_cast<T>(sum_dy_xhat);
    }

    const double m = static_cast<double>(batch * spatial);
#pragma omp parallel for schedule(static) if (x.size() >= kParallelThreshold)
    for (Index segment = 0; segment < batch * channels; ++segment) {
      const Index c = segment % channels;
      const auto [mean, inv_std] = statistics(c);
      const T scale = gamma_.value[c] * inv_std;
      const Index offset = segment * spatial;
      const ConstVectorMap<T> dy_run(upstream + offset, spatial);
      const ConstVectorMap<T> x_run(in + offset, spatial);
      VectorMap<T> dx_run(grad + offset, spatial);
      if (!training) {
        dx_run.array() = scale * dy_run.array();
        continue;
      }
      const T mean_dy = static_cast<T>(sum_dy_[static_cast<std::size_t>(c)] / m);
      const T mean_dy_xhat = static_cast<T>(sum_dy_xhat_[static_cast<std::size_t>(c)] / m);
      dx_run.array() =
          scale * (dy_run.array() - mean_dy - (x_run.array() - mean) * inv_std * mean_dy_xhat);
    }
  }

 private:
  // Below this many elements a thread team costs more than it saves.
  static constexpr Index kParallelThreshold = Index(1) << 15;

  // (C, H, W) or (C) -> the same; gamma, beta, moving_mean and moving_variance (C) each.
  LayerPlan plan_layer(const Shape& input_shape) const override {
    if (input_shape.rank() != 1 && input_shape.rank() != 3)
      fail(this->label(),
           ": expected input of rank 1 (features) or 3 (channels, height, width) per sample, got ",
           input_shape);
    const Index channels = input_shape[0];
    return {input_shape,
            {{"gamma", {channels}},
             {"beta", {channels}},
             {"moving_mean", {channels}, false},
             {"moving_variance", {channels}, false}}};
  }

  // gamma = 1, beta = 0, moving_mean = 0, moving_variance = 1; the per-channel buffers.
  void build_layer(const Shape& input_shape, Random&) override {
    channels_ = input_shape[0];
    spatial_ = input_shape.rank() == 3 ? input_shape[1] * input_shape[2] : 1;
    gamma_.value.fill(T(1));
    moving_variance_.value.fill(T(1));
    batch_mean_.resize({channels_});
    batch_inv_std_.resize({channels_});
    sum_dy_.resize(static_cast<std::size_t>(channels_));
    sum_dy_xhat_.resize(static_cast<std::size_t>(channels_));
    has_batch_statistics_ = false;
  }

  // (mean_c, 1 / sqrt(var_c + epsilon)) of the last training batch, or of the moving averages.
  std::pair<T, T> batch_statistics(Index c) const {
    return {batch_mean_[c], batch_inv_std_[c]};
  }
  std::pair<T, T> moving_statistics(Index c) const {
    const double variance = static_cast<double>(moving_variance_.value[c]);
    return {moving_mean_.value[c], static_cast<T>(1.0 / std::sqrt(variance + epsilon_))};
  }

  // y = (x - mean_c) gamma_c inv_std_c + beta_c, one (n, c) run of H*W contiguous values at a
  // time; statistics(c) gives (mean_c, inv_std_c). Subtracting the mean first keeps the
  // cancellation exact when x and mean are close but large.
  template <typename Statistics>
  void normalize(const Tensor<T>& x, Tensor<T>& y, Statistics statistics) const {
    const Index channels = channels_;
    const Index spatial = spatial_;
    const Index segments = x.dim(0) * channels;
#pragma omp parallel for schedule(static) if (x.size() >= kParallelThreshold)
    for (Index segment = 0; segment < segments; ++segment) {
      const Index c = segment % channels;
      const auto [mean, inv_std] = statistics(c);
      const T scale = gamma_.value[c] * inv_std;
      const Index offset = segment * spatial;
      const ConstVectorMap<T> x_run(x.data() + offset, spatial);
      VectorMap<T> y_run(y.data() + offset, spatial);
      y_run.array() = (x_run.array() - mean) * scale + beta_.value[c];
    }
  }

  double momentum_;
  double epsilon_;
  Index channels_ = 0;
  Index spatial_ = 1;  // H*W values per channel and sample; 1 for (N, F) input
  Parameter<T> gamma_{"gamma", {0}};
  Parameter<T> beta_{"beta", {0}};
  Parameter<T> moving_mean_{"moving_mean", {0}, false};
  Parameter<T> moving_variance_{"moving_variance", {0}, false};
  // Saved by training-mode forward() for backward(): the statistics that normalised x.
  Tensor<T> batch_mean_;     // (C)
  Tensor<T> batch_inv_std_;  // (C): 1 / sqrt(biased batch variance + epsilon)
  bool has_batch_statistics_ = false;
  // backward()'s per-channel sums, reused across calls.
  std::vector<double> sum_dy_;       // (C): sum dy
  std::vector<double> sum_dy_xhat_;  // (C): sum dy xhat
};

}  // namespace minicnn
