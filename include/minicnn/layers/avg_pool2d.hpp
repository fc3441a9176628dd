// AvgPool2D (Keras's AveragePooling2D): the mean of each KH x KW window, channel by channel.
// Input (N, C, H, W), output (N, C, OH, OW). Strides default to the pool size. With 'same'
// padding the mean is over the window's elements inside the input only, as in Keras/TensorFlow
// (PyTorch's count_include_pad=False): a corner window covering 2 of its 4 elements divides by 2.
#pragma once

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

  std::string kind() const override { return "AveragePooling2D"; }

  // y[n, c, oh, ow] = (1 / |S|) sum over (ih, iw) in S of x[n, c, ih, iw], where S is the set of
  // the window's elements inside the input: ih in [oh*SH - pad_top, +KH), iw in
  // [ow*SW - pad_left, +KW), clipped to the input.
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode) override {
    this->check_input(x);
    const WindowGeometry& g = geometry_;
    const Index planes = x.dim(0) * g.channels;
    y.resize({x.dim(0), g.channels, g.out_h, g.out_w});

#pragma omp parallel for schedule(static)
    for (Index p = 0; p < planes; ++p) {
      const T* in = x.data() + p * g.plane();
      T* out = y.data() + p * g.positions();
      for (Index oh = 0; oh < g.out_h; ++oh) {
        const Window rows = clip(oh * g.stride_h - g.pad_top, g.kernel_h, g.height);
        for (Index ow = 0; ow < g.out_w; ++ow) {
          const Window cols = clip(ow * g.stride_w - g.pad_left, g.kernel_w, g.width);
          T sum(0);
          for (Index ih = rows.begin; ih < rows.end; ++ih)
            for (Index iw = cols.begin; iw < cols.end; ++iw)
              sum += in[ih * g.width + iw];
          out[oh * g.out_w + ow] = sum / static_cast<T>(rows.count() * cols.count());
        }
      }
    }
  }

  // dx[n, c, ih, iw] = sum over the windows S containing (ih, iw) of dy[n, c, oh, ow] / |S|.
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    const WindowGeometry& g = geometry_;
    const Index planes = x.dim(0) * g.channels;
    dx.resize(x.shape());
    dx.set_zero();

#pragma omp parallel for schedule(static)
    for (Index p = 0; p < planes; ++p) {
      T* grad_in = dx.data() + p * g.plane();
      const T* grad_out = dy.data() + p * g.positions();
      for (Index oh = 0; oh < g.out_h; ++oh) {
        const Window rows = clip(oh * g.stride_h - g.pad_top, g.kernel_h, g.height);
        for (Index ow = 0; ow < g.out_w; ++ow) {
          const Window cols = clip(ow * g.stride_w - g.pad_left, g.kernel_w, g.width);
          const T share = grad_out[oh * g.out_w + ow] / static_cast<T>(rows.count() * cols.count());
          for (Index ih = rows.begin; ih < rows.end; ++ih)
            for (Index iw = cols.begin; iw < cols.end; ++iw)
              grad_in[ih * g.width + iw] += share;
        }
      }
    }
  }

 private:
  using Pool2D<T, AvgPool2D>::geometry_;

  // The part [begin, end) of a window [start, start + size) that lies inside [0, extent).
  struct Window {
    Index begin, end;
    Index count() const { return end - begin; }
  };
  static Window clip(Index start, Index size, Index extent) {
    return {std::max<Index>(start, 0), std::min(start + size, extent)};
  }
};

}  // namespace minicnn
