// The output of one layer of a model, in inference mode: what feature maps, unit summaries and
// occlusion maps look at.
//
//   Tensor<float> maps = layer_output(model, x, 0);    // (N, 32, 26, 26) after the first Conv2D
//
// The model's own inference walk (Model::layer_output) runs up to the layer, batch by batch;
// inference changes nothing in a layer (layer.hpp), so the model is left as it was.
#pragma once

#include "minicnn/error.hpp"
#include "minicnn/model/model.hpp"

namespace minicnn {

// x (N, input_shape...) -> (N, model.layer(layer).output_shape()...).
template <typename T>
Tensor<T> layer_output(const Model<T>& model, const Tensor<T>& x, Index layer,
                       Index batch_size = 64) {
  if (!model.built()) fail("layer_output: the model is not built; call build() first");
  if (layer < 0 || layer >= model.size())
    fail("layer_output: layer index ", layer, " is outside [0, ", model.size(), ")");
  if (x.rank() != model.input_shape().rank() + 1 || x.shape().sample() != model.input_shape())
    fail("layer_output: expected input of shape (N, ", model.input_shape().str().substr(1),
         ", got ", x.shape());
  if (batch_size < 1) fail("layer_output: expected batch_size > 0, got ", batch_size);
  return model.layer_output(x, layer, batch_size);
}

}  // namespace minicnn
