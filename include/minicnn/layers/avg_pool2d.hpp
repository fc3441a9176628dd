// AvgPool2D (Keras's AveragePooling2D): the mean of each KH x KW window, channel by channel.
// Input (N, C, H, W), output (N, C, OH, OW). Strides default to the pool size. With 'same' or
// explicit padding (pool2d.hpp) the mean is over the window's elements inside the input only, as in
// Keras/TF (PyTorch's count_include_pad=False): a corner window covering 2 of its 4 elements
// divides by 2.
#pragma once

#include <algorithm>
#include <memory>

#include "minicnn/layer.hpp"
#include "minicnn/layers/im2col.hpp"
#include "minicnn/layers/pool2d.hpp"
#include "minicnn/layers/window.hpp"

namespace minicnn {

template <typename T>
class AvgPool2D : public Pool2D<T, AvgPool2D<T>> {
 public:
  explicit AvgPool2D(Size2 pool_size = 2) : AvgPool2D(pool_size, pool_size) {}
  AvgPool2D(Size2 pool_size, Size2 strides, Padding padding = Padding::valid)
      : Pool2D<T, AvgPool2D>("AveragePooling2D", pool_size, strides, padding) {}
  // Explicit padding: AvgPool2D<float>(3, 2, Pads(1)) is PyTorch's AvgPool2d(3, 2, 1,
  // count_include_pad=False).
  AvgPool2D(Size2 pool_size, Size2 strides, Pads pads)
      : Pool2D<T, AvgPool2D>("AveragePooling2D", pool_size, strides, pads) {}

  std::string kind() const override { return "AveragePooling2D"; }

  // y[n, c, oh, ow] = (1 / |S|) sum over (ih, iw) in S of x[n, c, ih, iw], where S is the set of
  // the window's elements inside the input: ih in [oh*SH - pad_top, +KH), iw in
  // [ow*SW - pad_left, +KW), clipped to the input.
  // As in MaxPool2D, the window offsets (i, j) are folded in row-major order into whole output
  // rows (every output keeps its own running sum, so neighbouring outputs add independently and
  // vectorise); each sum adds its window's elements in row-major order, as one window at a time
  // would.
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode) override {
    this->check_input(x);
    const WindowGeometry& g = geometry_;
    const Index planes = x.dim(0) * g.channels;
    y.resize({x.dim(0), g.channels, g.out_h, g.out_w});

#pragma omp parallel for schedule(static)
    for (Index p = 0; p < planes; ++p) {
      const T* __restrict in = x.data() + p * g.plane();
      T* __restrict out = y.data() + p * g.positions();
      std::fill(out, out + g.positions(), T(0));
      for_each_offset([&](Index oh, Index base, Index begin, Index end) {
        T* __restrict out_row = out + oh * g.out_w;
        for (Index ow = begin; ow < end; ++ow)
          out_row[ow] += in[base + ow * g.stride_w];
      });
      for (Index oh = 0; oh < g.out_h; ++oh) {
        const Index rows = inside_rows(oh);
        for (Index ow = 0; ow < g.out_w; ++ow)
          out[oh * g.out_w + ow] /= static_cast<T>(rows * inside_cols(ow));
      }
    }
  }

  // dx[n, c, ih, iw] = sum over the windows S containing (ih, iw) of dy[n, c, oh, ow] / |S|,
  // folded over the window offsets like forward().
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    const WindowGeometry& g = geometry_;
    const Index planes = x.dim(0) * g.channels;
    dx.resize(x.shape());

#pragma omp parallel for schedule(static)
    for (Index p = 0; p < planes; ++p) {
      T* __restrict grad_in = dx.data() + p * g.plane();
      const T* __restrict grad_out = dy.data() + p * g.positions();
      std::fill(grad_in, grad_in + g.plane(), T(0));
      for_each_offset([&](Index oh, Index base, Index begin, Index end) {
        const Index rows = inside_rows(oh);
        const T* __restrict grad_row = grad_out + oh * g.out_w;
        for (Index ow = begin; ow < end; ++ow)
          grad_in[base + ow * g.stride_w] += grad_row[ow] / static_cast<T>(rows * inside_cols(ow));
      });
    }
  }

 private:
  using Pool2D<T, AvgPool2D>::geometry_;

  // Calls visit(oh, base, begin, end) for every window offset (i, j) in row-major order and every
  // output row oh it reaches inside the input: the outputs ow in [begin, end) of that row read the
  // input element at base + ow*SW of the plane.
  template <typename Visit>
  void for_each_offset(Visit&& visit) const {
    const WindowGeometry& g = geometry_;
    for (Index i = 0; i < g.kernel_h; ++i) {
      const auto rows = g.inside_rows(i);
      for (Index j = 0; j < g.kernel_w; ++j) {
        const auto cols = g.inside_cols(j);
        for (Index oh = rows.begin; oh < rows.end; ++oh)
          visit(oh, (oh * g.stride_h + i - g.pad_top) * g.width + j - g.pad_left, cols.begin,
                cols.end);
      }
    }
  }

  // How many rows (columns) of output row oh's (column ow's) window lie inside the input: |S| is
  // their product.
  Index inside_rows(Index oh) const {
    const WindowGeometry& g = geometry_;
    return clipped_length(oh * g.stride_h - g.pad_top, g.kernel_h, g.height);
  }
  Index inside_cols(Index ow) const {
    const WindowGeometry& g = geometry_;
    return clipped_length(ow * g.stride_w - g.pad_left, g.kernel_w, g.width);
  }
  // The length of [start, start + size) within [0, extent).
  static Index clipped_length(Index start, Index size, Index extent) {
    return std::min(start + size, extent) - std::max<Index>(start, 0);
  }
};

}  // namespace minicnn
