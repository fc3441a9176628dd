// Conv2D: a 2-D convolution (cross-correlation, as in every deep-learning library: the kernel is
// not flipped). Input (N, C, H, W), output (N, F, OH, OW), kernel (F, C, KH, KW) in PyTorch's
// OIHW layout, bias (F). Padding is Keras's 'valid' or 'same' (see window.hpp) or explicit pads
// on each side (PyTorch's and ONNX's); dilation_rate (DH, DW) spaces the kernel's taps DH rows
// and DW columns apart (Keras's dilation_rate, PyTorch's dilation).
//
// The definition, as plain loops: reference_conv2d.hpp (forward and backward). This file computes
// the same thing fast, and the tests hold it to the reference on many shapes.
//
// Computed by im2col (see im2col.hpp) and the register-tiled matrix product of gemm.hpp. Samples
// are lowered in groups of S side by side, so that one product W (F, C*KH*KW) * [col(x_n) ...
// col(x_n+S-1)] has S*OH*OW columns: enough for the product to run near its peak rate even when
// a sample has few output positions (a 6x6 output alone makes a product of 36 columns). S depends
// on the batch size and the layer's shape only (group_size()), never on the thread count; groups
// are spread over OpenMP threads with a static schedule, or, when there are fewer groups than
// threads (inference on one image), computed one after another, each product split among the
// threads (gemm.hpp). Either way every output is computed in one fixed order, so the forward pass
// and dx are bit-identical whatever the thread count. The
// kernel and bias gradients are summed per thread, then over threads in thread order: identical
// from run to run for a given thread count, equal up to rounding across thread counts.
//
// Workspaces: training-mode forward() and backward() use per-thread buffers kept in the layer
// (grown once, reused). Inference-mode forward() uses thread_local buffers instead, shared by all
// Conv2D<T> layers on that thread, so several threads may run inference on one layer at once.
#pragma once

#include <omp.h>

#include <memory>
#include <optional>
#include <vector>

#include "minicnn/gemm.hpp"
#include "minicnn/initializers.hpp"
#include "minicnn/layer.hpp"
#include "minicnn/layers/im2col.hpp"
#include "minicnn/layers/window.hpp"

namespace minicnn {

template <typename T>
class Conv2D : public Layer<T> {
 public:
  // dilation_rate comes last so that every call written before it existed keeps its meaning.
  Conv2D(Index filters, Size2 kernel_size, Size2 strides = 1, Padding padding = Padding::valid,
         bool use_bias = true, Initializer kernel_initializer = Initializer::glorot_uniform,
         Size2 dilation_rate = 1)
      : filters_(filters),
        kernel_size_(kernel_size),
        strides_(strides),
        padding_(padding),
        use_bias_(use_bias),
        kernel_initializer_(kernel_initializer),
        dilation_rate_(dilation_rate) {
    if (filters <= 0) fail("Conv2D: expected filters > 0, got ", filters);
    check_window_argument("Conv2D", "kernel_size", kernel_size);
    check_window_argument("Conv2D", "strides", strides);
    check_window_argument("Conv2D", "dilation_rate", dilation_rate);
  }

  // Explicit padding: Conv2D<float>(64, 7, 2, Pads(3)) is PyTorch's Conv2d(C, 64, 7, 2, 3).
  Conv2D(Index filters, Size2 kernel_size, Size2 strides, Pads pads, bool use_bias = true,
         Initializer kernel_initializer = Initializer::glorot_uniform, Size2 dilation_rate = 1)
      : Conv2D(filters, kernel_size, strides, Padding::valid, use_bias, kernel_initializer,
               dilation_rate) {
    if (pads.top < 0 || pads.bottom < 0 || pads.left < 0 || pads.right < 0)
      fail("Conv2D: expected pads >= 0 on every side, got ", pads.str(),
           " (top,bottom,left,right)");
    pads_ = pads;
  }

  // Configs written before pads and dilation_rate existed have neither key: 'valid' or 'same'
  // padding, and no dilation, as they meant then.
  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    const Index filters = config.get_int("filters");
    const Size2 kernel_size = Size2::parse(config.get("kernel_size"));
    const Size2 strides = Size2::parse(config.get("strides"));
    const bool use_bias = config.get_bool("use_bias");
    const Initializer initializer = initializer_from_string(config.get("kernel_initializer"));
    const Size2 dilation =
        config.has("dilation_rate") ? Size2::parse(config.get("dilation_rate")) : Size2(1);
    if (config.get("padding") == kExplicit)
      return std::make_unique<Conv2D>(filters, kernel_size, strides,
                                      Pads::parse(config.get("pads")), use_bias, initializer,
                                      dilation);
    return std::make_unique<Conv2D>(filters, kernel_size, strides,
                                    padding_from_string(config.get("padding")), use_bias,
                                    initializer, dilation);
  }

  std::string kind() const override { return "Conv2D"; }
  // padding is 'valid', 'same' or 'explicit'; the key pads (top,bottom,left,right) is there only
  // with 'explicit'.
  Config config() const override {
    Config config;
    config.set("filters", filters_)
        .set("kernel_size", kernel_size_.str())
        .set("strides", strides_.str())
        .set("padding", pads_ ? kExplicit : to_string(padding_));
    if (pads_) config.set("pads", pads_->str());
    return config.set("use_bias", use_bias_)
        .set("kernel_initializer", to_string(kernel_initializer_))
        .set("dilation_rate", dilation_rate_.str());
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Conv2D>(*this); }

  std::vector<Parameter<T>*> parameters() override {
    if (use_bias_) return {&kernel_, &bias_};
    return {&kernel_};
  }

  // Y_n = W col(x_n) + b   for each sample n (im2col.hpp lays out the padding and dilation), where
  //   x_n: (C, H, W) = (C, H*W),  col(x_n): (C*KH*KW, OH*OW),  W: (F, C*KH*KW),  b: (F)
  //   (added to every position),  Y_n: (F, OH*OW) = (F, OH, OW).
  // A group of S samples is one product W [col(x_n) ... col(x_n+S-1)] + b (F, S*OH*OW), whose
  // column blocks are the Y_n; the product adds b as it stores them.
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode mode) override {
    forward_groups(x, y, mode, nullptr);
  }

  // Inference with a per-filter map in the product's pass (layer.hpp, model/fusion.hpp):
  //   Y_n = clamp(diag(s) W col(x_n) + b', low, high),   b' = s b + t
  // the same as clamp(s (W col(x_n) + b) + t, low, high) up to rounding, with the bias folded in.
  bool fuses_output_map() const override { return true; }
  void forward_fused(const Tensor<T>& x, Tensor<T>& y, const gemm::Epilogue<T>& after) override {
    thread_local std::vector<T> bias;  // the calling thread's: several may infer at once
    const gemm::Epilogue<T> folded =
        after.with_bias(use_bias_ ? bias_.value.data() : nullptr, filters_, bias);
    forward_groups(x, y, Mode::inference, &folded);
  }

 private:
  // forward(), through `after` when it is not null (forward_fused()).
  void forward_groups(const Tensor<T>& x, Tensor<T>& y, Mode mode, const gemm::Epilogue<T>* after) {
    this->check_input(x);
    const Index batch = x.dim(0);
    y.resize({batch, filters_, geometry_.out_h, geometry_.out_w});
    const Index group = group_size(batch);
    if (mode == Mode::training) reserve_workspaces(group);
    const Index positions = geometry_.positions();
    // One group: its samples lowered side by side, multiplied, the product copied out when the
    // group holds several samples (one sample's product is Y_n itself).
    const auto compute_group = [&](Index first, Buffers& b) {
      const Index count = std::min(group, batch - first);
      const Index width = count * positions;
      const T* panels = lower_into_panels(x, first, count, b);
      T* product = y.data() + first * filters_ * positions;
      if (count > 1) {
        b.product.resize({filters_, width});
        product = b.product.data();
      }
      gemm::Epilogue<T> bias_only;
      bias_only.row_bias = use_bias_ ? bias_.value.data() : nullptr;
      gemm::multiply_packed<T>({kernel_.value.data(), geometry_.patch_size(), 1}, panels, filters_,
                               width, geometry_.patch_size(), product, width,
                               after != nullptr ? *after : bias_only);
      for (Index s = 0; count > 1 && s < count; ++s)
        MatrixMap<T>(y.data() + (first + s) * filters_ * positions, filters_, positions) =
            ConstMatrixMap<T>(product, filters_, width).middleCols(s * positions, positions);
    };
    const auto buffers = [&]() -> Buffers& {
      return mode == Mode::training ? workspaces_[thread()] : inference_buffers();
    };
    // Enough groups to go round: each thread takes whole groups. Fewer (a batch of one image):
    // the groups run one after another on this thread, each product split among the threads
    // (outside any parallel region, where gemm.hpp can start its own).
    if ((batch + group - 1) / group < omp_get_max_threads()) {
      for (Index first = 0; first < batch; first += group)
        compute_group(first, buffers());
      return;
    }
#pragma omp parallel
    {
      Buffers& b = buffers();
#pragma omp for schedule(static)
      for (Index first = 0; first < batch; first += group)
        compute_group(first, b);
    }
  }

 public:
  // With dY_n = dL/dY_n (F, OH*OW), per group of S samples side by side
  // (dY = [dY_n ... dY_n+S-1] (F, S*OH*OW), col = [col(x_n) ... col(x_n+S-1)]):
  //   dW += dY col^T                      (F, C*KH*KW)
  //   db += sum over columns of dY         (F)
  //   dcol = W^T dY                        (C*KH*KW, S*OH*OW),  dx_n = col2im(its block of dcol)
  // col(x_n) is recomputed rather than kept from forward(): it costs one copy, while keeping it
  // would cost N*C*KH*KW*OH*OW elements of memory.
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode) override {
    accumulate_gradients(x, dy, &dx);
  }

  // dW and db alone: no dcol product, no col2im (the first layer of a model).
  void backward_parameters(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>&,
                           Mode) override {
    accumulate_gradients(x, dy, nullptr);
  }

 private:
  // The formulas above; dx is skipped when null.
  void accumulate_gradients(const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>* dx) {
    this->check_input(x);
    this->check_gradient(x, dy);
    const Index batch = x.dim(0);
    if (dx != nullptr) dx->resize(x.shape());
    const Index group = group_size(batch);
    reserve_workspaces(group);
    for (Workspace& w : workspaces_) {
      w.kernel_grad_transposed.set_zero();
      w.bias_grad.set_zero();
    }
    const Index in_size = this->input_shape().size();  // C*H*W
    const Index positions = geometry_.positions();
    const Index patch = geometry_.patch_size();
    // W^T (C*KH*KW, F) row-major, the left operand of dcol, read by every thread.
    if (dx != nullptr)
      kernel_transposed_.matrix(patch, filters_) =
          kernel_.value.matrix(filters_, patch).transpose();

#pragma omp parallel
    {
      Workspace& w = workspaces_[thread()];
#pragma omp for schedule(static)
      for (Index first = 0; first < batch; first += group) {
        const Index count = std::min(group, batch - first);
        const Index width = count * positions;
        const auto columns = lower(x, first, count, w.columns);
        const auto upstream = gather(dy, first, count, w.product);
        accumulate_kernel_gradient(columns, upstream, w);
        if (use_bias_) w.bias_grad.vector() += upstream.rowwise().sum();
        if (dx == nullptr) continue;
        w.column_grad.resize({patch, width});
        gemm::multiply<T>({kernel_transposed_.data(), filters_, 1}, {upstream.data(), width, 1},
                          patch, width, filters_, w.column_grad.data(), width);
        for (Index s = 0; s < count; ++s) {
          T* dx_n = dx->data() + (first + s) * in_size;
          std::fill(dx_n, dx_n + in_size, T(0));
          col2im(geometry_, w.column_grad.data() + s * positions, dx_n, width);
        }
      }
    }

    // The per-thread partial sums, added in thread order: deterministic for a thread count.
    for (const Workspace& w : workspaces_) {
      kernel_.grad.matrix(filters_, patch) +=
          w.kernel_grad_transposed.matrix(patch, filters_).transpose();
      if (use_bias_) bias_.grad.vector() += w.bias_grad.vector();
    }
  }

  // dY of samples [first, first + count) as one (F, count*OH*OW) matrix, their blocks side by
  // side: dy's own storage for one sample, else a copy into `gathered`.
  ConstMatrixMap<T> gather(const Tensor<T>& dy, Index first, Index count,
                           Tensor<T>& gathered) const {
    const Index positions = geometry_.positions();
    const Index out_size = filters_ * positions;
    if (count == 1) return ConstMatrixMap<T>(dy.data() + first * out_size, filters_, positions);
    gathered.resize({filters_, count * positions});
    MatrixMap<T> blocks = gathered.matrix();
    for (Index s = 0; s < count; ++s)
      blocks.middleCols(s * positions, positions) =
          ConstMatrixMap<T>(dy.data() + (first + s) * out_size, filters_, positions);
    return ConstMatrixMap<T>(gathered.data(), filters_, count * positions);
  }

  // One thread's buffers for one group: col in the product's panels, one channel's rows of col
  // on their way there, and the product W col (F, S*OH*OW) in forward(); col, dY gathered into
  // `product`, dY^T (S*OH*OW, F), dcol (C*KH*KW, S*OH*OW) and the thread's partial sums of dW and
  // db in backward().
  struct Buffers {
    Tensor<T> panels, channel_rows, product;
  };
  struct Workspace : Buffers {
    Tensor<T> columns, upstream_transposed, column_grad, kernel_grad_transposed, bias_grad;
  };

  // dW^T += col dY^T (C*KH*KW, F), into the thread's partial sum: the products' K is the long
  // side S*OH*OW. gemm.hpp's product pays when both F and C*KH*KW fill at least one register block
  // of it; on thinner layers (a first layer on 1 or 3 channels, LeNet's 6 or 16 filters) most of
  // its blocks would be edges, and Eigen's product is faster. Its right operand dY^T is copied
  // out of dY (F x S*OH*OW elements), as the product needs B's columns contiguous.
  void accumulate_kernel_gradient(const ConstMatrixMap<T>& columns,
                                  const ConstMatrixMap<T>& upstream, Workspace& w) const {
    const Index patch = geometry_.patch_size(), width = columns.cols();
    if (std::min(filters_, patch) < gemm::Kernel<T>::kCols) {
      MatrixMap<T>(w.kernel_grad_transposed.data(), patch, filters_).noalias() +=
          columns * upstream.transpose();
      return;
    }
    w.upstream_transposed.resize({width, filters_});
    w.upstream_transposed.matrix(width, filters_) = upstream.transpose();
    gemm::multiply<T>({columns.data(), width, 1}, {w.upstream_transposed.data(), filters_, 1},
                      patch, filters_, width, w.kernel_grad_transposed.data(), filters_, true);
  }

  // Samples per product: about kTargetColumns columns, rounded down to a power of two and at most
  // batch / 8, so that a power-of-two batch splits into equal groups, at least 8 of them, to share
  // among threads. Never depends on the thread count (see the top of the file). 256 keeps a
  // group's columns near the size of a 1 MiB L2 cache on mnist_model4's second convolution (one
  // sample: 800 x 400 floats), where 512 (two samples) was slower (docs/performance.md).
  static constexpr Index kTargetColumns = 256;
  Index group_size(Index batch) const {
    const Index positions = geometry_.positions();
    const Index wanted = std::min((kTargetColumns + positions - 1) / positions, batch / 8);
    Index group = 1;
    while (group * 2 <= wanted)
      group *= 2;
    return group;
  }

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
    if (pads_)
      return WindowGeometry::of(this->label(), "kernel", input_shape, kernel_size_, strides_,
                                *pads_, dilation_rate_);
    return WindowGeometry::of(this->label(), "kernel", input_shape, kernel_size_, strides_,
                              padding_, dilation_rate_);
  }

  static Index thread() {
    return omp_get_thread_num();
  }

  // Sizes one workspace per possible OpenMP thread for groups of `group` samples; allocates only
  // when the shapes, the group or the thread count grow.
  void reserve_workspaces(Index group) {
    const auto threads = static_cast<std::size_t>(omp_get_max_threads());
    if (workspaces_.size() < threads) workspaces_.resize(threads);
    const Index width = group * geometry_.positions();
    const Index patch = geometry_.patch_size();
    kernel_transposed_.resize({patch, filters_});
    for (Workspace& w : workspaces_) {
      w.columns.resize({patch, width});
      w.product.resize({filters_, width});
      w.upstream_transposed.resize({width, filters_});
      w.column_grad.resize({patch, width});
      w.kernel_grad_transposed.resize({patch, filters_});
      w.bias_grad.resize({filters_});
    }
  }

  // This thread's buffers for inference, grown to the largest layer it has served.
  static Buffers& inference_buffers() {
    thread_local Buffers buffers;
    return buffers;
  }

  // [col(x_first) ... col(x_first+count-1)] written into `columns`, returned as a
  // (C*KH*KW, count*OH*OW) matrix.
  // A window of one pixel with stride 1 and no padding (ResNet's and MobileNet's pointwise
  // convolutions) lowers a sample to itself, col(x_n) = x_n (C, H*W): one sample is then read in
  // place, not copied.
  ConstMatrixMap<T> lower(const Tensor<T>& x, Index first, Index count, Tensor<T>& columns) const {
    const Index positions = geometry_.positions();
    const Index width = count * positions;
    const Index in_size = this->input_shape().size();
    if (count == 1 && geometry_.lowers_to_itself())
      return ConstMatrixMap<T>(x.data() + first * in_size, geometry_.patch_size(), positions);
    columns.resize({geometry_.patch_size(), width});
    for (Index s = 0; s < count; ++s)
      im2col(geometry_, x.data() + (first + s) * in_size, columns.data() + s * positions, width);
    return ConstMatrixMap<T>(columns.data(), geometry_.patch_size(), width);
  }

  // [col(x_first) ... col(x_first+count-1)] written straight into gemm::multiply_packed's panels
  // (im2col_panels), the last panel's columns past the group's zero; returns the panels.
  const T* lower_into_panels(const Tensor<T>& x, Index first, Index count, Buffers& b) const {
    constexpr Index kPanel = gemm::Kernel<T>::kCols;
    const Index positions = geometry_.positions(), rows = geometry_.patch_size();
    const Index width = count * positions, panels = (width + kPanel - 1) / kPanel;
    const Index in_size = this->input_shape().size();
    b.panels.resize({panels * rows * kPanel});
    b.channel_rows.resize({geometry_.kernel_h * geometry_.kernel_w * positions});
    for (Index s = 0; s < count; ++s)
      im2col_panels(geometry_, x.data() + (first + s) * in_size, s * positions, kPanel,
                    b.panels.data(), b.channel_rows.data());
    if (const Index used = width % kPanel; used != 0)
      for (Index r = 0; r < rows; ++r) {
        T* tail = b.panels.data() + ((panels - 1) * rows + r) * kPanel;
        std::fill(tail + used, tail + kPanel, T(0));
      }
    return b.panels.data();
  }

  static constexpr const char* kExplicit = "explicit";  // config's padding with pads_

  Index filters_;
  Size2 kernel_size_;
  Size2 strides_;
  Padding padding_;           // 'valid' or 'same', when pads_ is empty
  std::optional<Pads> pads_;  // explicit padding, in place of padding_
  bool use_bias_;
  Initializer kernel_initializer_;
  Size2 dilation_rate_;
  WindowGeometry geometry_;
  Parameter<T> kernel_{"kernel", {0, 0, 0, 0}};
  Parameter<T> bias_{"bias", {0}};
  std::vector<Workspace> workspaces_;
  Tensor<T> kernel_transposed_;  // W^T for backward(), rewritten by every call
};

}  // namespace minicnn
