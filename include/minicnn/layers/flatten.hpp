// Flatten: (N, C, H, W) -> (N, C*H*W); any sample rank, e.g. (N, F) -> (N, F) and (N) -> (N, 1).
//
// The flattened order is the row-major order of the sample, (C, H, W) with W fastest: PyTorch's
// torch.flatten(x, 1). Keras's default channels-last layout flattens (H, W, C) instead, so a
// Dense layer after Flatten needs its kernel rows permuted when weights move between the two.
//
// The Layer contract gives forward() its own, owning output tensor, so flattening is one
// contiguous copy (memcpy speed, no index arithmetic) rather than a view of x.
#pragma once

#include <algorithm>
#include <memory>

#include "minicnn/layer.hpp"

namespace minicnn {

template <typename T>
class Flatten : public Layer<T> {
 public:
  static std::unique_ptr<Layer<T>> from_config(const Config&) {
    return std::make_unique<Flatten>();
  }
  std::string kind() const override { return "Flatten"; }
  Config config() const override { return Config(); }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Flatten>(*this); }

  // y[n, (c*H + h)*W + w] = x[n, c, h, w]        x: (N, C, H, W), y: (N, C*H*W)
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode) override {
    this->check_input(x);
    y.resize(this->output_shape().with_batch(x.dim(0)));
    std::copy(x.begin(), x.end(), y.begin());
  }

  // dx = dy with x's shape: flattening moves no element, so its gradient moves none either
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    dx.resize(x.shape());
    std::copy(dy.begin(), dy.end(), dx.begin());
  }

 private:
  // (C, H, W) -> (C*H*W); Layer::plan() has checked that the product fits.
  LayerPlan plan_layer(const Shape& input_shape) const override {
    return {{input_shape.size()}, {}};
  }
};

}  // namespace minicnn
