// Dropout (inverted): in training, each element is kept with probability 1 - rate and scaled by
// 1 / (1 - rate), or zeroed; in inference, y = x. The scaling keeps E[y] = x during training, so
// inference needs no rescaling (Srivastava et al. 2014 scale at inference instead; Keras and
// PyTorch, like this layer, scale in training).
//
// The layer owns its random stream, seeded at build() from the model's Random (random.fork()),
// and exposes it through random_stream() so that a checkpoint can save and restore it: a resumed
// run then draws the same masks as an uninterrupted one.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "minicnn/layer.hpp"

namespace minicnn {

template <typename T>
class Dropout : public Layer<T> {
 public:
  explicit Dropout(double rate) : rate_(rate) {
    if (!(rate >= 0.0 && rate < 1.0)) fail("Dropout: expected rate in [0, 1), got ", rate);
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<Dropout>(config.get_double("rate"));
  }
  std::string kind() const override { return "Dropout"; }
  Config config() const override { return Config().set("rate", rate_); }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Dropout>(*this); }

  Random* random_stream() override { return &random_; }

  // training:   mask_i = 1 / (1 - rate) with probability 1 - rate, else 0;   y = x * mask
  // inference:  y = x
  // x, y, mask: (N, ...), same shape. The mask is kept for backward.
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode mode) override {
    this->check_input(x);
    y.resize(x.shape());
    if (mode == Mode::inference) {
      std::copy(x.begin(), x.end(), y.begin());
      return;
    }
    draw_mask_and_apply(x, y);
    has_mask_ = true;
  }

  // training:   dx = dy * mask: the gradient flows through the kept elements only, with the
  //             same scale, as the last training-mode forward() drew them.
  // inference:  dx = dy (the identity's gradient; the mask is neither read nor drawn).
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    dx.resize(x.shape());
    if (mode == Mode::inference) {
      std::copy(dy.begin(), dy.end(), dx.begin());
      return;
    }
    if (!has_mask_) fail(this->label(), ": backward() called before a training-mode forward()");
    if (mask_.shape() != x.shape())
      fail(this->label(), ": expected the input of the last training-mode forward(), of shape ",
           mask_.shape(), ", got ", x.shape());
    dx.vector() = dy.vector().cwiseProduct(mask_.vector());
  }

 private:
  // Mask elements drawn from one generator. Part of the reproducibility contract: changing it
  // changes the masks a seed gives.
  static constexpr Index kBlock = 4096;

  LayerPlan plan_layer(const Shape& input_shape) const override { return {input_shape, {}}; }
  void build_layer(const Shape&, Random& random) override {
    random_ = random.fork();
    has_mask_ = false;
  }

  // Block b of kBlock elements draws from its own generator, seeded with the b-th number of
  // random_. The blocks can then be filled in parallel, and the mask depends on the seed only,
  // never on the number of threads.
  void draw_mask_and_apply(const Tensor<T>& x, Tensor<T>& y) {
    const Index size = x.size();
    const Index blocks = (size + kBlock - 1) / kBlock;
    block_seeds_.resize(static_cast<std::size_t>(blocks));
    for (std::uint64_t& seed : block_seeds_)
      seed = random_.next_u64();
    mask_.resize(x.shape());
    const T scale = static_cast<T>(1.0 / (1.0 - rate_));
    const T* in = x.data();
    T* out = y.data();
    T* mask = mask_.data();
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (Index b = 0; b < blocks; ++b) {
      Random stream(block_seeds_[static_cast<std::size_t>(b)]);
      const Index end = std::min(size, (b + 1) * kBlock);
      for (Index i = b * kBlock; i < end; ++i) {
        mask[i] = stream.uniform() >= rate_ ? scale : T(0);  // P(keep) = 1 - rate
        out[i] = in[i] * mask[i];
      }
    }
  }

  double rate_;
  Random random_;
  Tensor<T> mask_;                          // (N, ...): 0 or 1 / (1 - rate)
  bool has_mask_ = false;                   // a training-mode forward() has drawn mask_
  std::vector<std::uint64_t> block_seeds_;  // reused: no allocation once shapes are stable
};

}  // namespace minicnn
