// Add (Keras's Add): the sum of two or more inputs of one shape; a residual block's y = F(x) + x.
//
// Inputs of different shapes are refused rather than broadcast: in a residual network a shape
// mismatch means a missing projection shortcut, which broadcasting would hide.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "minicnn/layers/merge.hpp"

namespace minicnn {

template <typename T>
class Add : public MergeLayer<T> {
 public:
  static std::unique_ptr<Layer<T>> from_config(const Config&) { return std::make_unique<Add>(); }
  std::string kind() const override { return "Add"; }
  Config config() const override { return Config(); }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Add>(*this); }

  // y = x_0 + x_1 + ... + x_(K-1)            every x_k and y: (N, ...), one shape
  void forward_inputs(const std::vector<const Tensor<T>*>& xs, Tensor<T>& y, Mode) override {
    this->check_inputs(xs);
    y.resize(xs[0]->shape());
    auto sum = y.vector();
    sum = xs[0]->vector();
    for (std::size_t k = 1; k < xs.size(); ++k)
      sum += xs[k]->vector();
  }

  // dL/dx_k = dy for every k: each input contributes to y with weight 1
  void backward_inputs(const std::vector<const Tensor<T>*>& xs, const Tensor<T>&,
                       const Tensor<T>& dy, const std::vector<Tensor<T>*>& dxs, Mode) override {
    this->check_inputs(xs);
    this->check_gradient(*xs[0], dy);
    for (Tensor<T>* dx : dxs) {
      if (dx == nullptr) continue;
      dx->resize(dy.shape());
      std::copy(dy.begin(), dy.end(), dx->begin());
    }
  }

 private:
  LayerPlan plan_merge(const std::vector<Shape>& shapes) const override {
    for (std::size_t k = 1; k < shapes.size(); ++k)
      if (shapes[k] != shapes[0])
        fail(this->label(), ": expected inputs of one shape, got ", shapes[0], " (input 0) and ",
             shapes[k], " (input ", k, "); a residual branch that changes the shape needs a ",
             "projection shortcut");
    return {shapes[0], {}};
  }
};

}  // namespace minicnn
