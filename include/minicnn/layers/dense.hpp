// Dense: a fully connected layer. Input (N, in), output (N, units).
#pragma once

#include <memory>

#include "minicnn/gemm.hpp"
#include "minicnn/initializers.hpp"
#include "minicnn/layer.hpp"

namespace minicnn {

template <typename T>
class Dense : public Layer<T> {
 public:
  explicit Dense(Index units, bool use_bias = true,
                 Initializer kernel_initializer = Initializer::glorot_uniform)
      : units_(units), use_bias_(use_bias), kernel_initializer_(kernel_initializer) {
    if (units <= 0) fail("Dense: expected units > 0, got ", units);
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<Dense>(config.get_int("units"), config.get_bool("use_bias"),
                                   initializer_from_string(config.get("kernel_initializer")));
  }

  std::string kind() const override { return "Dense"; }
  Config config() const override {
    return Config()
        .set("units", units_)
        .set("use_bias", use_bias_)
        .set("kernel_initializer", to_string(kernel_initializer_));
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Dense>(*this); }

  std::vector<Parameter<T>*> parameters() override {
    if (use_bias_) return {&kernel_, &bias_};
    return {&kernel_};
  }

  // y = x W + b        x: (N, in), W: (in, units), b: (units), y: (N, units)
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode) override {
    this->check_input(x);
    const Index batch = x.dim(0);
    y.resize({batch, units_});
    auto out = y.matrix();
    out.noalias() = x.matrix() * kernel_.value.matrix();
    if (use_bias_) out.rowwise() += bias_.value.vector().transpose();
  }

  // y = clamp(s_u (x W + b)_u + t_u, low, high) per unit u (layer.hpp, model/fusion.hpp): the map
  // in one pass over y after Eigen's product, instead of one pass per following layer.
  bool fuses_output_map() const override { return true; }
  void forward_fused(const Tensor<T>& x, Tensor<T>& y, const gemm::Epilogue<T>& after) override {
    forward(x, y, Mode::inference);
    T* out = y.data();
    for (Index n = 0; n < y.dim(0); ++n)
      for (Index u = 0; u < units_; ++u)
        out[n * units_ + u] = after.apply(out[n * units_ + u], u);
  }

  // dx = dy W^T,   dW += x^T dy,   db += sum over the batch of dy
  void backward(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& dy, Tensor<T>& dx,
                Mode mode) override {
    backward_parameters(x, y, dy, dx, mode);
    dx.resize(x.shape());
    dx.matrix().noalias() = dy.matrix() * kernel_.value.matrix().transpose();
  }

  // dW += x^T dy,   db += sum over the batch of dy   (no dx)
  void backward_parameters(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>&,
                           Mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    const auto upstream = dy.matrix();
    kernel_.grad.matrix().noalias() += x.matrix().transpose() * upstream;
    if (use_bias_) bias_.grad.vector() += upstream.colwise().sum().transpose();
  }

 private:
  // (in) -> (units); kernel (in, units), bias (units).
  LayerPlan plan_layer(const Shape& input_shape) const override {
    if (input_shape.rank() != 1)
      fail(this->label(), ": expected input of rank 1 per sample (features), got ", input_shape,
           "; add a Flatten layer before Dense");
    LayerPlan plan{{units_}, {{"kernel", {input_shape[0], units_}}}};
    if (use_bias_) plan.parameters.push_back({"bias", {units_}});
    return plan;
  }

  // The bias stays 0.
  void build_layer(const Shape& input_shape, Random& random) override {
    initialize(kernel_.value, kernel_initializer_, input_shape[0], units_, random);
  }

  Index units_;
  bool use_bias_;
  Initializer kernel_initializer_;
  Parameter<T> kernel_{"kernel", {0, 0}};
  Parameter<T> bias_{"bias", {0}};
};

}  // namespace minicnn
