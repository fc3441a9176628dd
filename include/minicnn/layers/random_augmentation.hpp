// RandomAugmentation: data augmentation (data/image_transform.hpp) as the first layer of a
// model, kind "RandomAugmentation", no parameters. Training mode draws one number b from the
// layer's own stream per batch (seeded at build, saved and restored by checkpoints through
// random_stream(), like Dropout's), and sample n of the batch gets the transform of
// sample_seed(b, 0, n). Inference mode is the identity.
//
// Put first, it augments every training batch of Sequential::fit(), while evaluate() and
// predict() see the images unchanged (Keras's RandomFlip/RandomTranslation/... preprocessing
// layers). Registered in layer_registry.hpp like every layer, so models holding it save and load.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "minicnn/data/image_transform.hpp"
#include "minicnn/layer.hpp"

namespace minicnn {

template <typename T>
class RandomAugmentation : public Layer<T> {
 public:
  explicit RandomAugmentation(AugmentationSettings settings) : settings_(settings) {
    settings_.check();
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<RandomAugmentation>(AugmentationSettings::from_config(config));
  }
  std::string kind() const override { return "RandomAugmentation"; }
  Config config() const override { return settings_.config(); }
  std::unique_ptr<Layer<T>> clone() const override {
    return std::make_unique<RandomAugmentation>(*this);
  }
  Random* random_stream() override { return &random_; }
  const AugmentationSettings& settings() const { return settings_; }

  // training:   y[n, ch, p] = x[n, ch, source_n[p]]   (source_n: sample n's table, kept)
  // inference:  y = x
  // x, y: (N, C, H, W).
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode mode) override {
    this->check_input(x);
    y.resize(x.shape());
    if (mode == Mode::inference) {
      std::copy(x.begin(), x.end(), y.begin());
      return;
    }
    const std::uint64_t batch_seed = random_.next_u64();
    sources_.resize(static_cast<std::size_t>(x.dim(0) * x.dim(2) * x.dim(3)));
    detail::augment_samples(settings_, x.shape(), x.data(), y.data(), sources_.data(),
                            [batch_seed](Index n) {
                              return sample_seed(batch_seed, 0, static_cast<std::uint64_t>(n));
                            });
    mapped_batch_ = x.dim(0);
  }

  // training:   dx[n, ch, q] = sum of dy[n, ch, p] over the p with source_n[p] = q, the
  //             transpose of the last training-mode forward()'s copy (a pixel copied to several
  //             places receives all their gradients, one never copied none).
  // inference:  dx = dy (the identity's gradient).
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    dx.resize(x.shape());
    if (mode == Mode::inference) {
      std::copy(dy.begin(), dy.end(), dx.begin());
      return;
    }
    if (mapped_batch_ < 0)
      fail(this->label(), ": backward() called before a training-mode forward()");
    if (x.dim(0) != mapped_batch_)
      fail(this->label(), ": expected the batch of the last training-mode forward(), of ",
           mapped_batch_, " samples, got ", x.dim(0));
    dx.fill(T(0));
    const Index samples = x.dim(0), channels = x.dim(1), pixels = x.dim(2) * x.dim(3);
#pragma omp parallel for schedule(static) if (samples > 1)
    for (Index n = 0; n < samples; ++n) {
      const Index* table = sources_.data() + n * pixels;
      for (Index ch = 0; ch < channels; ++ch) {
        const T* from = dy.data() + (n * channels + ch) * pixels;
        T* to = dx.data() + (n * channels + ch) * pixels;
        for (Index p = 0; p < pixels; ++p)
          to[table[p]] += from[p];
      }
    }
  }

 private:
  LayerPlan plan_layer(const Shape& input_shape) const override {
    if (input_shape.rank() != 3)
      fail(this->label(), ": expected images (C, H, W), got ", input_shape);
    return {input_shape, {}};
  }
  void build_layer(const Shape&, Random& random) override {
    random_ = random.fork();
    mapped_batch_ = -1;
  }

  AugmentationSettings settings_;
  Random random_;
  std::vector<Index> sources_;  // (N, H, W): the tables of the last training batch
  Index mapped_batch_ = -1;     // N of the last training-mode forward(); -1 before any
};

}  // namespace minicnn
