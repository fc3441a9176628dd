// ZeroPadding2D: rows and columns of zeros around every channel of an image (Keras's
// ZeroPadding2D; PyTorch's F.pad(x, (left, right, top, bottom)); ONNX's Pad in 'constant' mode
// with value 0 on the last two axes). Input (N, C, H, W), output (N, C, OH, OW) with
// OH = top + H + bottom and OW = left + W + right.
//
// Pads (window.hpp), the four widths, is also how Conv2D, DepthwiseConv2D and SeparableConv2D
// take explicit padding (ONNX's `pads`): such a convolution is this layer followed by a 'valid'
// one.
#pragma once

#include <algorithm>
#include <memory>
#include <string>

#include "minicnn/layer.hpp"
#include "minicnn/layers/window.hpp"

namespace minicnn {

// before + extent + after, or -1 when that exceeds `limit` (checked without overflowing: the
// widths may come from any checkpoint's config). All three are >= 0.
inline Index padded_extent(Index extent, Index before, Index after, Index limit) {
  if (before > limit - extent || after > limit - extent - before) return -1;
  return before + extent + after;
}

template <typename T>
class ZeroPadding2D : public Layer<T> {
 public:
  // Keras's three forms: one width for all four sides (1 by default, as Keras), (height, width)
  // for symmetric rows and columns, or every side on its own.
  explicit ZeroPadding2D(Index padding = 1) : ZeroPadding2D(padding, padding) {}
  ZeroPadding2D(Index height, Index width) : ZeroPadding2D(Pads(height, width)) {}
  explicit ZeroPadding2D(Pads padding) : padding_(padding) {
    if (padding.any_negative())
      fail("ZeroPadding2D: expected padding >= 0 on every side, got ", padding.str());
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<ZeroPadding2D>(Pads::parse(config.get("padding")));
  }

  std::string kind() const override { return "ZeroPadding2D"; }
  Config config() const override { return Config().set("padding", padding_.str()); }
  std::unique_ptr<Layer<T>> clone() const override {
    return std::make_unique<ZeroPadding2D>(*this);
  }

  const Pads& padding() const { return padding_; }

  // y[n, c, top + h, left + w] = x[n, c, h, w];  every other element of y is 0.
  // Channel planes are independent: one (H, W) -> (OH, OW) copy each, spread over threads.
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode) override {
    this->check_input(x);
    const Shape& out = this->output_shape();
    const Index planes = x.dim(0) * out[0], height = x.dim(2), width = x.dim(3);
    const Index out_h = out[1], out_w = out[2];
    y.resize(out.with_batch(x.dim(0)));

#pragma omp parallel for schedule(static)
    for (Index p = 0; p < planes; ++p) {
      const T* in = x.data() + p * height * width;
      T* plane = y.data() + p * out_h * out_w;
      std::fill(plane, plane + padding_.top * out_w, T(0));
      for (Index h = 0; h < height; ++h) {
        T* row = plane + (padding_.top + h) * out_w;
        std::fill(row, row + padding_.left, T(0));
        std::copy(in + h * width, in + (h + 1) * width, row + padding_.left);
        std::fill(row + padding_.left + width, row + out_w, T(0));
      }
      std::fill(plane + (padding_.top + height) * out_w, plane + out_h * out_w, T(0));
    }
  }

  // dx[n, c, h, w] = dy[n, c, top + h, left + w]: dy cropped; the zeros' gradients are dropped.
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    const Shape& out = this->output_shape();
    const Index planes = x.dim(0) * out[0], height = x.dim(2), width = x.dim(3);
    const Index out_h = out[1], out_w = out[2];
    dx.resize(x.shape());

#pragma omp parallel for schedule(static)
    for (Index p = 0; p < planes; ++p) {
      const T* plane = dy.data() + p * out_h * out_w;
      T* in = dx.data() + p * height * width;
      for (Index h = 0; h < height; ++h) {
        const T* row = plane + (padding_.top + h) * out_w + padding_.left;
        std::copy(row, row + width, in + h * width);
      }
    }
  }

 private:
  // (C, H, W) -> (C, top + H + bottom, left + W + right); no parameters.
  LayerPlan plan_layer(const Shape& input_shape) const override {
    if (input_shape.rank() != 3)
      fail(this->label(), ": expected input of rank 3 per sample (channels, height, width), got ",
           input_shape);
    const Index limit = Layer<T>::kMaxElements;
    const Index out_h = padded_extent(input_shape[1], padding_.top, padding_.bottom, limit);
    const Index out_w = padded_extent(input_shape[2], padding_.left, padding_.right, limit);
    if (out_h < 0 || out_w < 0)
      fail(this->label(), ": expected padded extents of at most ", limit, ", got padding ",
           padding_.str(), " around ", input_shape[1], "x", input_shape[2]);
    return {{input_shape[0], out_h, out_w}, {}};
  }

  Pads padding_;
};

}  // namespace minicnn
