// Element-wise activation layers: ReLU, LeakyReLU, Tanh and Sigmoid. Each computes y = f(x)
// element by element on an input of any rank; the output has the input's shape. They are layers
// of their own (as in Keras's ReLU layer or PyTorch's nn.ReLU), so summary() lists them.
#pragma once

#include <cmath>
#include <memory>

#include "minicnn/layer.hpp"

namespace minicnn {

// The machinery the element-wise layers share. A Derived class supplies
//   T value(T x) const               y = f(x)
//   T derivative(T x, T y) const     f'(x), from x or from y = f(x), whichever is cheaper
// and this base applies them to every element (CRTP: the calls inline into the loops, no virtual
// call per element). Elements are independent, so the parallel loops give the same numbers for
// every thread count.
template <typename T, typename Derived>
class Elementwise : public Layer<T> {
 public:
  std::unique_ptr<Layer<T>> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }

  // y_i = f(x_i)        x, y: (N, ...), same shape
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode) override {
    this->check_input(x);
    y.resize(x.shape());
    const Derived& f = static_cast<const Derived&>(*this);
    const T* in = x.data();
    T* out = y.data();
    const Index n = x.size();
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
    for (Index i = 0; i < n; ++i)
      out[i] = f.value(in[i]);
  }

  // dx_i = f'(x_i) dy_i        x, y, dy, dx: (N, ...), same shape
  void backward(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& dy,
                Tensor<T>& dx) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    if (y.shape() != x.shape())
      fail(this->label(), ": expected output of shape ", x.shape(), ", got ", y.shape());
    dx.resize(x.shape());
    const Derived& f = static_cast<const Derived&>(*this);
    const T* in = x.data();
    const T* out = y.data();
    const T* upstream = dy.data();
    T* grad = dx.data();
    const Index n = x.size();
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
    for (Index i = 0; i < n; ++i)
      grad[i] = f.derivative(in[i], out[i]) * upstream[i];
  }

 protected:
  // Below this many elements a thread team costs more than it saves.
  static constexpr Index kParallelThreshold = Index(1) << 15;

  Shape build_layer(const Shape& input_shape, Random&) override {
    return input_shape;
  }
};

// ReLU: y = max(x, 0);  f'(x) = 1 for x > 0, else 0 (0 at the kink, as PyTorch). NaN propagates.
template <typename T>
class ReLU : public Elementwise<T, ReLU<T>> {
 public:
  static std::unique_ptr<Layer<T>> from_config(const Config&) { return std::make_unique<ReLU>(); }
  std::string kind() const override { return "ReLU"; }
  Config config() const override { return Config(); }

  T value(T x) const { return x < T(0) ? T(0) : x; }
  T derivative(T x, T) const { return x > T(0) ? T(1) : T(0); }
};

// LeakyReLU: y = x for x > 0, alpha x otherwise;  f'(x) = 1 for x > 0, else alpha.
// alpha defaults to Keras's 0.3 (PyTorch's negative_slope defaults to 0.01).
template <typename T>
class LeakyReLU : public Elementwise<T, LeakyReLU<T>> {
 public:
  explicit LeakyReLU(double alpha = 0.3) : alpha_(alpha), slope_(static_cast<T>(alpha)) {
    if (!(alpha >= 0.0 && std::isfinite(alpha)))
      fail("LeakyReLU: expected a finite alpha >= 0, got ", alpha);
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<LeakyReLU>(config.get_double("alpha"));
  }
  std::string kind() const override { return "LeakyReLU"; }
  Config config() const override { return Config().set("alpha", alpha_); }

  T value(T x) const { return x > T(0) ? x : slope_ * x; }
  T derivative(T x, T) const { return x > T(0) ? T(1) : slope_; }

 private:
  double alpha_;  // as given, for config()
  T slope_;       // alpha in T, for the loops
};

// Tanh: y = tanh(x);  f'(x) = 1 - y^2 (from the output: no second tanh).
template <typename T>
class Tanh : public Elementwise<T, Tanh<T>> {
 public:
  static std::unique_ptr<Layer<T>> from_config(const Config&) { return std::make_unique<Tanh>(); }
  std::string kind() const override { return "Tanh"; }
  Config config() const override { return Config(); }

  T value(T x) const { return std::tanh(x); }
  T derivative(T, T y) const { return T(1) - y * y; }
};

// Sigmoid: y = 1 / (1 + e^-x);  f'(x) = y (1 - y) (from the output: no second exponential).
// With e = e^-|x| <= 1, y = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0: the exponential
// never overflows, so y is finite and accurate for any finite x (0 and 1 at -1000 and 1000).
template <typename T>
class Sigmoid : public Elementwise<T, Sigmoid<T>> {
 public:
  static std::unique_ptr<Layer<T>> from_config(const Config&) {
    return std::make_unique<Sigmoid>();
  }
  std::string kind() const override { return "Sigmoid"; }
  Config config() const override { return Config(); }

  T value(T x) const {
    const T e = std::exp(-std::abs(x));
    return (x >= T(0) ? T(1) : e) / (T(1) + e);
  }
  T derivative(T, T y) const { return y * (T(1) - y); }
};

}  // namespace minicnn
