// Conv2D: a 2-D convolution (cross-correlation, as in every deep-learning library: the kernel is
// not flipped). Input (N, C, H, W), output (N, F, OH, OW), kernel (F, C, KH, KW) in PyTorch's
// OIHW layout, bias (F). 'same' padding follows Keras/TensorFlow (see window.hpp).
//
// Computed by im2col + GEMM (see im2col.hpp), one sample at a time, samples spread over OpenMP
// threads with a static schedule. Each sample's output is computed by one thread in one fixed
// order, so the forward pass and dx are bit-identical whatever the thread count. The kernel and
// bias gradients are summed per thread, then over threads in thread order: identical from run to
// run for a given thread count, equal up to rounding across thread counts.
//
// Workspaces: training-mode forward() and backward() use per-thread buffers kept in the layer
// (grown once, reused). Inference-mode forward() uses a thread_local buffer instead, shared by all
// Conv2D<T> layers on that thread, so several threads may run inference on one layer at once.
#pragma once

#include <omp.h>

#include <memory>
#include <vector>

#include "minicnn/initializers.hpp"
#include "minicnn/layer.hpp"
#include "minicnn/layers/im2col.hpp"
#include "minicnn/layers/window.hpp"

namespace minicnn {

template <typename T>
class Conv2D : public Layer<T> {
 public:
  Conv2D(Index filters, Size2 kernel_size, Size2 strides = 1, Padding padding = Padding::valid,
         bool use_bias = true, Initializer kernel_initializer = Initializer::glorot_uniform)
      : filters_(filters),
        kernel_size_(kernel_size),
        strides_(strides),
        padding_(padding),
        use_bias_(use_bias),
        kernel_initializer_(kernel_initializer) {
    if (filters <= 0) fail("Conv2D: expected filters > 0, got ", filters);
    check_window_argument("Conv2D", "kernel_size", kernel_size);
    check_window_argument("Conv2D", "strides", strides);
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<Conv2D>(
        config.get_int("filters"), Size2::parse(config.get("kernel_size")),
        Size2::parse(config.get("strides")), padding_from_string(config.get("padding")),
        config.get_bool("use_bias"), initializer_from_string(config.get("kernel_initializer")));
  }

  std::string kind() const override { return "Conv2D"; }
  Config config() const override {
    return Config()
        .set("filters", filters_)
        .set("kernel_size", kernel_size_.str())
        .set("strides", strides_.str())
        .set("padding", to_string(padding_))
        .set("use_bias", use_bias_)
        .set("kernel_initializer", to_string(kernel_initializer_));
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Conv2D>(*this); }

  std::vector<Parameter<T>*> parameters() override {
    if (use_bias_) return {&kernel_, &bias_};
    return {&kernel_};
  }

  // Y_n = W col(x_n) + b   for each sample n, where
  //   x_n: (C, H, W) = (C, H*W),  col(x_n): (C*KH*KW, OH*OW),  W: (F, C*KH*KW),  b: (F)
  //   (added to every position),  Y_n: (F, OH*OW) = (F, OH, OW).
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode mode) override {
    this->check_input(x);
    const Index batch = x.dim(0);
    y.resize({batch, filters_, geometry_.out_h, geometry_.out_w});
    if (mode == Mode::training) reserve_workspaces();
    const auto weights = kernel_matrix();
    const Index in_size = this->input_shape().size();  // C*H*W
    const Index out_size = filters_ * geometry_.positions();

#pragma omp parallel for schedule(static)
    for (Index n = 0; n < batch; ++n) {
      Tensor<T>& columns =
          mode == Mode::training ? workspaces_[thread()].columns : inference_columns();
      auto cols = lower(x.data() + n * in_size, columns);
      MatrixMap<T> out(y.data() + n * out_size, filters_, geometry_.positions());
      out.noalias() = weights * cols;
      if (use_bias_) out.colwise() += bias_.value.vector();
    }
  }

  // With dY_n = dL/dY_n (F, OH*OW):
  //   dW += sum_n dY_n col(x_n)^T          (F, C*KH*KW)
  //   db += sum_n sum over positions dY_n  (F)
  //   dx_n = col2im(W^T dY_n)              (C*KH*KW, OH*OW) -> (C, H, W)
  // col(x_n) is recomputed rather than kept from forward(): it costs one copy, while keeping it
  // would cost N*C*KH*KW*OH*OW elements of memory.
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    const Index batch = x.dim(0);
    dx.resize(x.shape());
    reserve_workspaces();
    for (Workspace& w : workspaces_) {
      w.kernel_grad.set_zero();
      w.bias_grad.set_zero();
    }
    const auto weights = kernel_matrix();
    const Index in_size = this->input_shape().size();  // C*H*W
    const Index out_size = filters_ * geometry_.positions();

#pragma omp parallel for schedule(static)
    for (Index n = 0; n < batch; ++n) {
      Workspace& w = workspaces_[thread()];
      auto cols = lower(x.data() + n * in_size, w.columns);
      ConstMatrixMap<T> upstream(dy.data() + n * out_size, filters_, geometry_.positions());
      MatrixMap<T> kernel_grad(w.kernel_grad.data(), filters_, geometry_.patch_size());
      kernel_grad.noalias() += upstream * cols.transpose();
      if (use_bias_) w.bias_grad.vector() += upstream.rowwise().sum();
      MatrixMap<T> column_grad(w.column_grad.data(), geometry_.patch_size(), geometry_.positions());
      column_grad.noalias() = weights.transpose() * upstream;
      T* dx_n = dx.data() + n * in_size;
      std::fill(dx_n, dx_n + in_size, T(0));
      col2im(geometry_, w.column_grad.data(), dx_n);
    }

    // The per-thread partial sums, added in thread order: deterministic for a thread count.
    for (const Workspace& w : workspaces_) {
      kernel_.grad.vector() += w.kernel_grad.vector();
      if (use_bias_) bias_.grad.vector() += w.bias_grad.vector();
    }
  }

 private:
  // One thread's buffers: col(x_n), dL/dcol(x_n), and its partial sums of dW and db.
  struct Workspace {
    Tensor<T> columns, column_grad, kernel_grad, bias_grad;
  };

  // (C, H, W) -> (F, OH, OW); kernel (F, C, KH, KW), bias (F).
  LayerPlan plan_layer(const Shape& input_shape) const override {
    const WindowGeometry g = geometry(input_shape);
    LayerPlan plan{{filters_, g.out_h, g.out_w},
                   {{"kernel", {filters_, g.channels, g.kernel_h, g.kernel_w}}}};
    if (use_bias_) plan.parameters.push_back({"bias", {filters_}});
    return plan;
  }

  // fan_in = C*KH*KW, fan_out = F*KH*KW (initializers.hpp); the bias stays 0.
  void build_layer(const Shape& input_shape, Random& random) override {
    geometry_ = geometry(input_shape);
    const Index window = geometry_.kernel_h * geometry_.kernel_w;
    initialize(kernel_.value, kernel_initializer_, geometry_.channels * window, filters_ * window,
               random);
    workspaces_.clear();
  }

  WindowGeometry geometry(const Shape& input_shape) const {
    return WindowGeometry::of(this->label(), "kernel", input_shape, kernel_size_, strides_,
                              padding_);
  }

  static Index thread() {
    return omp_get_thread_num();
  }

  // Sizes one workspace per possible OpenMP thread; allocates only when the shapes or the thread
  // count grow.
  void reserve_workspaces() {
    const auto threads = static_cast<std::size_t>(omp_get_max_threads());
    if (workspaces_.size() < threads) workspaces_.resize(threads);
    for (Workspace& w : workspaces_) {
      w.columns.resize({geometry_.patch_size(), geometry_.positions()});
      w.column_grad.resize({geometry_.patch_size(), geometry_.positions()});
      w.kernel_grad.resize({filters_, geometry_.patch_size()});
      w.bias_grad.resize({filters_});
    }
  }

  // This thread's buffer for inference, grown to the largest layer it has served.
  static Tensor<T>& inference_columns() {
    thread_local Tensor<T> columns;
    return columns;
  }

  // col(x_n) written into `columns`, returned as a (C*KH*KW, OH*OW) matrix.
  ConstMatrixMap<T> lower(const T* sample, Tensor<T>& columns) const {
    columns.resize({geometry_.patch_size(), geometry_.positions()});
    im2col(geometry_, sample, columns.data());
    return ConstMatrixMap<T>(columns.data(), geometry_.patch_size(), geometry_.positions());
  }

  // The kernel (F, C, KH, KW) read as the matrix W (F, C*KH*KW).
  ConstMatrixMap<T> kernel_matrix() const {
    return ConstMatrixMap<T>(kernel_.value.data(), filters_, geometry_.patch_size());
  }

  Index filters_;
  Size2 kernel_size_;
  Size2 strides_;
  Padding padding_;
  bool use_bias_;
  Initializer kernel_initializer_;
  WindowGeometry geometry_;
  Parameter<T> kernel_{"kernel", {0, 0, 0, 0}};
  Parameter<T> bias_{"bias", {0}};
  std::vector<Workspace> workspaces_;
};

}  // namespace minicnn
