// Pictures of a convolution's filters, the kernel (F, C, KH, KW) of a Conv2D (PyTorch's OIHW):
// with C = 3 input channels, one RGB picture per filter (what the first layer of a colour model
// looks for); otherwise one grey picture per (filter, channel), a row per filter. Each picture
// is scaled to its own range unless options.scaling says otherwise: positive weights light,
// negative dark.
//
//   Image first = filter_grid(model.layer(0), options);   // options.zoom = 8 for 3x3 kernels
#pragma once

#include "minicnn/layer.hpp"
#include "minicnn/visual/image_grid.hpp"

namespace minicnn {

// The kernel (F, C, KH, KW) of a layer, e.g. Conv2D; fails for a layer without one.
template <typename T>
const Tensor<T>& convolution_kernel(const Layer<T>& layer) {
  for (const Parameter<T>* p : layer.parameters())
    if (p->name == "kernel" && p->value.rank() == 4) return p->value;
  fail("filter_grid: expected a layer with a kernel (F, C, KH, KW), got ", layer.label());
}

template <typename T>
Image filter_grid(const Layer<T>& layer, GridOptions options = {}) {
  const Tensor<T>& kernel = convolution_kernel(layer);
  const Index filters = kernel.dim(0), channels = kernel.dim(1);
  if (channels == 3) return image_grid(kernel, options);
  // (F, C, KH, KW) read as F*C grey pictures (F*C, 1, KH, KW), C per row.
  Tensor<T> pictures = kernel;
  pictures.reshape({filters * channels, 1, kernel.dim(2), kernel.dim(3)});
  if (channels > 1) options.columns = channels;
  return image_grid(pictures, options);
}

}  // namespace minicnn
