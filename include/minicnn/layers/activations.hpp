// Element-wise activation layers: ReLU, LeakyReLU, Tanh and Sigmoid. Each computes y = f(x)
// element by element on an input of any rank; the output has the input's shape. They are layers
// of their own (as in Keras's ReLU layer or PyTorch's nn.ReLU), so summary() lists them.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "minicnn/layer.hpp"

namespace minicnn {

// The machinery the element-wise layers share. A Derived class supplies, as Eigen array
// expressions on a run of contiguous elements,
//   value(x)            y = f(x)
//   gradient(x, y, dy)  dx = f'(x) dy, with f'(x) from x or from y = f(x), whichever is cheaper
// and this base applies them run by run (CRTP: no virtual call, and Eigen vectorises exp and
// tanh). Runs are independent, so the parallel loops give the same numbers on any thread count.
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
    const Index size = x.size();
    const Index runs = (size + kRun - 1) / kRun;
#pragma omp parallel for schedule(static) if (size >= kParallelThreshold)
    for (Index r = 0; r < runs; ++r) {
      const Index begin = r * kRun, length = std::min(kRun, size - begin);
      const ConstVectorMap<T> in(x.data() + begin, length);
      VectorMap<T> out(y.data() + begin, length);
      out.array() = f.value(in.array());
    }
  }

  // dx_i = f'(x_i) dy_i        x, y, dy, dx: (N, ...), same shape
  void backward(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& dy, Tensor<T>& dx,
                Mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    if (y.shape() != x.shape())
      fail(this->label(), ": expected output of shape ", x.shape(), ", got ", y.shape());
    dx.resize(x.shape());
    const Derived& f = static_cast<const Derived&>(*this);
    const Index size = x.size();
    const Index runs = (size + kRun - 1) / kRun;
#pragma omp parallel for schedule(static) if (size >= kParallelThreshold)
    for (Index r = 0; r < runs; ++r) {
      const Index begin = r * kRun, length = std::min(kRun, size - begin);
      const ConstVectorMap<T> in(x.data() + begin, length);
      const ConstVectorMap<T> out(y.data() + begin, length);
      const ConstVectorMap<T> upstream(dy.data() + begin, length);
      VectorMap<T> grad(dx.data() + begin, length);
      grad.array() = f.gradient(in.array(), out.array(), upstream.array());
    }
  }

 protected:
  // Elements per run: a few pages, long enough for SIMD loops, short enough to spread evenly.
  static constexpr Index kRun = 4096;
  // Below this many elements a thread team costs more than it saves.
  static constexpr Index kParallelThreshold = Index(1) << 15;

  LayerPlan plan_layer(const Shape& input_shape) const override {
    return {input_shape, {}};
  }
};

// ReLU: y = max(x, 0), or with Keras's max_value m, y = min(max(x, 0), m) (ReLU6 is m = 6; ONNX's
// Clip(0, m)). f'(x) = 1 for 0 < x <= m, else 0: 0 at x = 0 as in PyTorch; 1 at x = m, as
// TensorFlow's clip_by_value and PyTorch's clamp (the dedicated relu6 kernels of both give 0
// there: the kinks have no derivative, and either choice is a convention). Without max_value,
// m = +infinity: one expression serves both, and the extra compare and select cost nothing
// measurable on this memory-bound layer (ReLU on 32 x 32 x 56 x 56 floats, forward and backward,
// within the run-to-run noise of 10 %). NaN propagates. Keras's negative_slope (LeakyReLU covers
// it) and threshold (a discontinuous rarity) are left out.
template <typename T>
class ReLU : public Elementwise<T, ReLU<T>> {
 public:
  explicit ReLU(std::optional<double> max_value = std::nullopt)
      : max_value_(max_value),
        cap_(max_value ? static_cast<T>(*max_value) : std::numeric_limits<T>::infinity()) {
    if (max_value && !(*max_value >= 0.0 && std::isfinite(*max_value)))
      fail("ReLU: expected a finite max_value >= 0, got ", *max_value);
  }

  // A config without max_value (every ReLU written before it existed) has no maximum.
  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    if (config.has("max_value")) return std::make_unique<ReLU>(config.get_double("max_value"));
    return std::make_unique<ReLU>();
  }
  std::string kind() const override { return "ReLU"; }
  Config config() const override {
    return max_value_ ? Config().set("max_value", *max_value_) : Config();
  }

  const std::optional<double>& max_value() const { return max_value_; }

  // y = clamp(x, 0, max_value or +infinity): what a layer before it can apply in its output pass
  // (model/fusion.hpp).
  bool inference_clamp(T& low, T& high) const override {
    low = T(0);
    high = cap_;
    return true;
  }

  template <typename X>
  auto value(const X& x) const {
    return (x < T(0)).select(T(0), (x > cap_).select(cap_, x));
  }
  template <typename X, typename Y, typename D>
  auto gradient(const X& x, const Y&, const D& dy) const {
    return (x > T(0) && x <= cap_).select(dy, T(0));  // selects, which compile to vector blends
  }

 private:
  std::optional<double> max_value_;  // as given, for config()
  T cap_;                            // max_value in T, or +infinity, for the loops
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

  template <typename X>
  auto value(const X& x) const {
    return (x > T(0)).select(x, slope_ * x);
  }
  template <typename X, typename Y, typename D>
  auto gradient(const X& x, const Y&, const D& dy) const {
    return (x > T(0)).select(dy, slope_ * dy);
  }

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

  template <typename X>
  auto value(const X& x) const {
    return x.tanh();
  }
  template <typename X, typename Y, typename D>
  auto gradient(const X&, const Y& y, const D& dy) const {
    return (T(1) - y.square()) * dy;
  }
};

// Sigmoid: y = 1 / (1 + e^-x);  f'(x) = y (1 - y) (from the output: no second exponential).
// Computed as y = e^min(x, 0) / (1 + e^-|x|), which is 1 / (1 + e^-x) for x >= 0 and
// e^x / (1 + e^x) for x < 0: both exponents are <= 0, so nothing overflows and y is finite and
// accurate to the last digits for any x (0 and 1 at -1000 and 1000); two vectorised exponentials
// instead of a branch per element.
template <typename T>
class Sigmoid : public Elementwise<T, Sigmoid<T>> {
 public:
  static std::unique_ptr<Layer<T>> from_config(const Config&) {
    return std::make_unique<Sigmoid>();
  }
  std::string kind() const override { return "Sigmoid"; }
  Config config() const override { return Config(); }

  template <typename X>
  auto value(const X& x) const {
    return x.min(T(0)).exp() / (T(1) + (-x.abs()).exp());
  }
  template <typename X, typename Y, typename D>
  auto gradient(const X&, const Y& y, const D& dy) const {
    return y * (T(1) - y) * dy;
  }
};

}  // namespace minicnn
