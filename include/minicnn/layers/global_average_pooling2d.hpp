// GlobalAveragePooling2D: the mean of each channel over all positions. Input (N, C, H, W),
// output (N, C); it replaces Flatten before the classifier in all-convolutional networks.
#pragma once

#include <memory>

#include "minicnn/layer.hpp"

namespace minicnn {

template <typename T>
class GlobalAveragePooling2D : public Layer<T> {
 public:
  GlobalAveragePooling2D() = default;

  static std::unique_ptr<Layer<T>> from_config(const Config&) {
    return std::make_unique<GlobalAveragePooling2D>();
  }

  std::string kind() const override { return "GlobalAveragePooling2D"; }
  Config config() const override { return Config(); }
  std::unique_ptr<Layer<T>> clone() const override {
    return std::make_unique<GlobalAveragePooling2D>(*this);
  }

  // y[n, c] = (1 / (H*W)) sum over h, w of x[n, c, h, w]
  // x viewed as (N*C, H*W): y is the mean of each row.
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode) override {
    this->check_input(x);
    y.resize({x.dim(0), channels_});
    y.vector() = x.matrix(x.dim(0) * channels_, plane_).rowwise().mean();
  }

  // dx[n, c, h, w] = dy[n, c] / (H*W): every position shares its channel's gradient equally.
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    dx.resize(x.shape());
    dx.matrix(x.dim(0) * channels_, plane_).colwise() = dy.vector() / static_cast<T>(plane_);
  }

 private:
  // (C, H, W) -> (C); no parameters.
  LayerPlan plan_layer(const Shape& input_shape) const override {
    if (input_shape.rank() != 3)
      fail(this->label(), ": expected input of rank 3 per sample (channels, height, width), got ",
           input_shape);
    if (input_shape.size() == 0)
      fail(this->label(), ": expected a non-empty input, got ", input_shape);
    return {{input_shape[0]}, {}};
  }
  void build_layer(const Shape& input_shape, Random&) override {
    channels_ = input_shape[0];
    plane_ = input_shape[1] * input_shape[2];
  }

  Index channels_ = 0;
  Index plane_ = 0;  // H*W
};

}  // namespace minicnn
