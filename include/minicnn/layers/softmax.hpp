// Softmax: turns each sample's K scores into probabilities over K classes. Input and output
// (N, K). For training a classifier, prefer a loss with from_logits = true on the raw scores:
// it fuses softmax and log with log-sum-exp and never takes the log of a rounded-to-zero p.
#pragma once

#include <memory>

#include "minicnn/layer.hpp"

namespace minicnn {

template <typename T>
class Softmax : public Layer<T> {
 public:
  static std::unique_ptr<Layer<T>> from_config(const Config&) {
    return std::make_unique<Softmax>();
  }
  std::string kind() const override { return "Softmax"; }
  Config config() const override { return Config(); }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Softmax>(*this); }

  // y_nk = exp(x_nk - max_j x_nj) / sum_j exp(x_nj - max_j x_nj)        x, y: (N, K)
  // Subtracting the row maximum changes nothing mathematically but keeps every exponent <= 0:
  // no overflow for logits like 1000, and the sum is >= 1, so no division by zero.
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode) override {
    this->check_input(x);
    y.resize(x.shape());
    const auto scores = x.matrix();
    auto probabilities = y.matrix();
    const Index rows = scores.rows();
#pragma omp parallel for schedule(static) if (x.size() >= kParallelThreshold)
    for (Index n = 0; n < rows; ++n) {
      auto row = probabilities.row(n);
      row = (scores.row(n).array() - scores.row(n).maxCoeff()).exp().matrix();
      row /= row.sum();
    }
  }

  // dx_n = y_n * (dy_n - <dy_n, y_n>)        (the Jacobian diag(y_n) - y_n y_n^T applied to dy_n)
  void backward(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& dy, Tensor<T>& dx,
                Mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    if (y.shape() != x.shape())
      fail(this->label(), ": expected output of shape ", x.shape(), ", got ", y.shape());
    dx.resize(x.shape());
    const auto probabilities = y.matrix();
    const auto upstream = dy.matrix();
    auto grad = dx.matrix();
    const Index rows = probabilities.rows();
#pragma omp parallel for schedule(static) if (x.size() >= kParallelThreshold)
    for (Index n = 0; n < rows; ++n) {
      const T projection = upstream.row(n).dot(probabilities.row(n));
      grad.row(n) =
          (probabilities.row(n).array() * (upstream.row(n).array() - projection)).matrix();
    }
  }

 private:
  // Below this many elements a thread team costs more than it saves.
  static constexpr Index kParallelThreshold = Index(1) << 14;

  LayerPlan plan_layer(const Shape& input_shape) const override {
    if (input_shape.rank() != 1)
      fail(this->label(), ": expected input of rank 1 per sample (class scores), got ", input_shape,
           "; add a Flatten layer before Softmax");
    if (input_shape[0] < 1)
      fail(this->label(), ": expected at least 1 class, got ", input_shape[0]);
    return {input_shape, {}};
  }
};

}  // namespace minicnn
