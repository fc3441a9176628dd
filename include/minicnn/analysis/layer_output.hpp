// The output of one layer of a model, in inference mode: what feature maps, unit summaries and
// occlusion maps look at.
//
//   Tensor<float> maps = layer_output(model, x, 0);    // (N, 32, 26, 26) after the first Conv2D
//
// Layers 0..layer run forward in inference mode, batch by batch; inference changes nothing in a
// layer (layer.hpp), so the model is left as it was.
#pragma once

#include <algorithm>
#include <cstring>

#include "minicnn/error.hpp"
#include "minicnn/sequential.hpp"

namespace minicnn {

// x (N, input_shape...) -> (N, model.layer(layer).output_shape()...).
template <typename T>
Tensor<T> layer_output(Sequential<T>& model, const Tensor<T>& x, Index layer,
                       Index batch_size = 64) {
  if (!model.built()) fail("layer_output: the model is not built; call build() first");
  if (layer < 0 || layer >= model.size())
    fail("layer_output: layer index ", layer, " is outside [0, ", model.size(), ")");
  if (x.rank() != model.input_shape().rank() + 1 || x.shape().sample() != model.input_shape())
    fail("layer_output: expected input of shape (N, ", model.input_shape().str().substr(1),
         ", got ", x.shape());
  if (batch_size < 1) fail("layer_output: expected batch_size > 0, got ", batch_size);
  const Index samples = x.dim(0);
  const Shape out_shape = model.layer(layer).output_shape();
  Tensor<T> result(out_shape.with_batch(samples));
  const Index in_row = model.input_shape().size(), out_row = out_shape.size();
  Tensor<T> batch, buffers[2];
  for (Index first = 0; first < samples; first += batch_size) {
    const Index count = std::min(batch_size, samples - first);
    batch.resize(model.input_shape().with_batch(count));
    std::memcpy(batch.data(), x.data() + first * in_row,
                static_cast<std::size_t>(count * in_row) * sizeof(T));
    const Tensor<T>* input = &batch;
    for (Index k = 0; k <= layer; ++k) {
      model.layer(k).forward(*input, buffers[k % 2], Mode::inference);
      input = &buffers[k % 2];
    }
    std::memcpy(result.data() + first * out_row, input->data(),
                static_cast<std::size_t>(count * out_row) * sizeof(T));
  }
  return result;
}

}  // namespace minicnn
