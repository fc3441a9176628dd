// The reference convolution: Conv2D's definition written as plain loops, forward and backward,
// with strides, explicit padding on each side, dilation and groups. Slow (no lowering, no
// product, one multiply-add at a time) and meant to be read: conv2d.hpp computes the same thing
// fast, and the tests hold it (and any other convolution) to these loops in double.
//
// Shapes: x (N, C, H, W); w (F, C/G, KH, KW) with G = groups; b (F) or none; y (N, F, OH, OW).
// Filter f belongs to group g = f / (F/G) and sees the input channels g*C/G + c, c < C/G (G = 1:
// every filter sees every channel; G = C = F: one filter per channel, a depthwise convolution).
// Tap (i, j) of output (oh, ow) reads the input at
//
//   ih = oh*SH + i*DH - pad_top,   iw = ow*SW + j*DW - pad_left    (x = 0 outside [0,H) x [0,W))
//   OH = floor((H + pad_top + pad_bottom - DH*(KH-1) - 1) / SH) + 1, and OW alike.
//
// forward:   y[n, f, oh, ow] = b[f] + sum over c, i, j of w[f, c, i, j] * x[n, g*C/G + c, ih, iw]
// backward:  every term of that sum is a product w * x, so with dy = dL/dy each term adds
//              dx[n, g*C/G + c, ih, iw] += w[f, c, i, j] * dy[n, f, oh, ow]
//              dw[f, c, i, j]            += x[n, g*C/G + c, ih, iw] * dy[n, f, oh, ow]
//            and db[f] = sum over n, oh, ow of dy[n, f, oh, ow].
// Keras's 'valid' is Pads(0); its 'same' is WindowGeometry::of(...).pads() (im2col.hpp).
#pragma once

#include <algorithm>

#include "minicnn/layers/window.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn::reference {

// Everything but the tensors; the defaults are stride 1, no padding, no dilation, one group.
struct Conv2DArguments {
  Size2 strides = 1;
  Pads pads = Pads(0);
  Size2 dilation = 1;
  Index groups = 1;
};

template <typename T>
struct Conv2DGradients {
  Tensor<T> dx, dw, db;  // db is empty without a bias
};

// y's shape (N, F, OH, OW), once x, w and the arguments are checked.
template <typename T>
Shape conv2d_output_shape(const Tensor<T>& x, const Tensor<T>& w, const Conv2DArguments& a) {
  if (x.rank() != 4 || w.rank() != 4)
    fail("reference::conv2d: expected x (N, C, H, W) and w (F, C/groups, KH, KW), got ", x.shape(),
         " and ", w.shape());
  const Pads& p = a.pads;
  if (std::min({a.strides.height, a.strides.width, a.dilation.height, a.dilation.width}) <= 0 ||
      std::min({p.top, p.bottom, p.left, p.right}) < 0)
    fail("reference::conv2d: expected strides and dilation > 0 and pads >= 0, got strides ",
         a.strides.str(), ", dilation ", a.dilation.str(), ", pads ", p.str());
  if (a.groups <= 0 || w.dim(0) % a.groups != 0 || w.dim(1) * a.groups != x.dim(1))
    fail(
        "reference::conv2d: expected x's channels = w's channels per group * groups and groups "
        "dividing the filters, got x ",
        x.shape(), ", w ", w.shape(), " and ", a.groups, " groups");
  if (!dilated_extent_fits(w.dim(2), a.dilation.height) ||
      !dilated_extent_fits(w.dim(3), a.dilation.width) ||
      !padded_extent_fits(x.dim(2), p.top, p.bottom) ||
      !padded_extent_fits(x.dim(3), p.left, p.right))
    fail(
        "reference::conv2d: expected the dilated kernel and the padded input to fit in an Index, "
        "got x ",
        x.shape(), ", w ", w.shape(), ", pads ", p.str(), ", dilation ", a.dilation.str());
  const WindowAxis rows = window_axis(x.dim(2), dilated_extent(w.dim(2), a.dilation.height),
                                      a.strides.height, a.pads.top, a.pads.bottom);
  const WindowAxis cols = window_axis(x.dim(3), dilated_extent(w.dim(3), a.dilation.width),
                                      a.strides.width, a.pads.left, a.pads.right);
  if (rows.output == 0 || cols.output == 0)
    fail("reference::conv2d: expected the dilated kernel to fit the padded input, got x ",
         x.shape(), ", w ", w.shape(), ", pads ", a.pads.str(), ", dilation ", a.dilation.str());
  return {x.dim(0), w.dim(0), rows.output, cols.output};
}

// y = the forward formula above; `b` may be null (no bias).
template <typename T>
Tensor<T> conv2d_forward(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>* b,
                         const Conv2DArguments& a) {
  const Shape shape = conv2d_output_shape(x, w, a);
  const Index filters = shape[1], group_channels = w.dim(1);
  if (b != nullptr && b->shape() != Shape{filters})
    fail("reference::conv2d: expected b of shape (", filters, "), got ", b->shape());
  Tensor<T> y(shape);
  for (Index n = 0; n < shape[0]; ++n)
    for (Index f = 0; f < filters; ++f)
      for (Index oh = 0; oh < shape[2]; ++oh)
        for (Index ow = 0; ow < shape[3]; ++ow) {
          const Index first = f / (filters / a.groups) * group_channels;  // the group's channels
          T sum = b != nullptr ? (*b)[f] : T(0);
          for (Index c = 0; c < group_channels; ++c)
            for (Index i = 0; i < w.dim(2); ++i)
              for (Index j = 0; j < w.dim(3); ++j) {
                const Index ih = oh * a.strides.height + i * a.dilation.height - a.pads.top;
                const Index iw = ow * a.strides.width + j * a.dilation.width - a.pads.left;
                if (ih >= 0 && ih < x.dim(2) && iw >= 0 && iw < x.dim(3))
                  sum += w(f, c, i, j) * x(n, first + c, ih, iw);
              }
          y(n, f, oh, ow) = sum;
        }
  return y;
}

// dx, dw and (with_bias) db = the backward formulas above, for the upstream gradient dy: the
// loops of the forward pass, each term sending dy back to the two factors it multiplied.
template <typename T>
Conv2DGradients<T> conv2d_backward(const Tensor<T>& x, const Tensor<T>& w, bool with_bias,
                                   const Tensor<T>& dy, const Conv2DArguments& a) {
  const Shape shape = conv2d_output_shape(x, w, a);
  const Index filters = shape[1], group_channels = w.dim(1);
  if (dy.shape() != shape)
    fail("reference::conv2d: expected dy of shape ", shape, ", got ", dy.shape());
  Conv2DGradients<T> g{Tensor<T>(x.shape(), T(0)), Tensor<T>(w.shape(), T(0)),
                       with_bias ? Tensor<T>({filters}, T(0)) : Tensor<T>()};
  for (Index n = 0; n < shape[0]; ++n)
    for (Index f = 0; f < filters; ++f)
      for (Index oh = 0; oh < shape[2]; ++oh)
        for (Index ow = 0; ow < shape[3]; ++ow) {
          const Index first = f / (filters / a.groups) * group_channels;
          const T grad = dy(n, f, oh, ow);
          if (with_bias) g.db[f] += grad;
          for (Index c = 0; c < group_channels; ++c)
            for (Index i = 0; i < w.dim(2); ++i)
              for (Index j = 0; j < w.dim(3); ++j) {
                const Index ih = oh * a.strides.height + i * a.dilation.height - a.pads.top;
                const Index iw = ow * a.strides.width + j * a.dilation.width - a.pads.left;
                if (ih >= 0 && ih < x.dim(2) && iw >= 0 && iw < x.dim(3)) {
                  g.dx(n, first + c, ih, iw) += w(f, c, i, j) * grad;
                  g.dw(f, c, i, j) += x(n, first + c, ih, iw) * grad;
                }
              }
        }
  return g;
}

}  // namespace minicnn::reference
