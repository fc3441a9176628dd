// Feature maps: what each channel of a layer's output shows for one input, as a grid of grey
// images (one per channel, each scaled to its own range).
//
//   Image maps = feature_map_grid(model, x_test_one, 0);   // x_test_one (1, C, H, W)
#pragma once

#include "minicnn/analysis/layer_output.hpp"
#include "minicnn/visual/image_grid.hpp"

namespace minicnn {

// The output (C', H', W') of layer `layer` for the single sample `x` (1, input_shape...).
template <typename T>
Tensor<T> feature_maps(Model<T>& model, const Tensor<T>& x, Index layer) {
  if (x.rank() < 1 || x.dim(0) != 1)
    fail("feature_maps: expected one sample, of shape (1, ...), got ", x.shape());
  Tensor<T> maps = layer_output(model, x, layer);
  if (maps.rank() != 4)
    fail("feature_maps: expected ", model.layer(layer).label(), " to output maps (C, H, W), got ",
         model.layer(layer).output_shape());
  maps.reshape(maps.shape().sample());
  return maps;
}

// The channels of feature_maps(model, x, layer) side by side, each with its own range.
template <typename T>
Image feature_map_grid(Model<T>& model, const Tensor<T>& x, Index layer, GridOptions options = {}) {
  Tensor<T> maps = feature_maps(model, x, layer);
  maps.reshape({maps.dim(0), 1, maps.dim(1), maps.dim(2)});
  return image_grid(maps, options);
}

}  // namespace minicnn
