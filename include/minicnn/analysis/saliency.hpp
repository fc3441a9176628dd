// Saliency map (Simonyan et al. 2014): how much each pixel of an image moves the score of a
// class, |d output_class / dx| at the image, maximised over the channels. One input_gradient()
// call (inference mode), so it is cheap next to an occlusion map, but local: it says what a tiny
// change of a pixel does, not what removing a region does.
#pragma once

#include <algorithm>
#include <cmath>

#include "minicnn/error.hpp"
#include "minicnn/model/model.hpp"

namespace minicnn {

// x: one image (1, C, H, W); label: the class whose output (the model's last layer, (K)) is
// differentiated. Returns (H, W).
template <typename T>
Tensor<double> saliency_map(Model<T>& model, const Tensor<T>& x, Index label) {
  if (x.rank() != 4 || x.dim(0) != 1)
    fail("saliency_map: expected one image of shape (1, C, H, W), got ", x.shape());
  const Index last = model.size() - 1;
  const Shape out = model.layer(last).output_shape();
  if (out.rank() != 1 || label < 0 || label >= out[0])
    fail("saliency_map: expected a class in [0, ", out.rank() == 1 ? out[0] : 0,
         ") of a model with output (K), got class ", label, " and output ", out);
  Tensor<T> seed(out.with_batch(1), T(0)), gradient;
  seed[label] = T(1);
  model.input_gradient(x, last, seed, gradient);
  const Index channels = x.dim(1), height = x.dim(2), width = x.dim(3);
  Tensor<double> map({height, width}, 0.0);
  for (Index c = 0; c < channels; ++c)
    for (Index i = 0; i < height * width; ++i)
      map[i] = std::max(map[i], std::abs(static_cast<double>(gradient[c * height * width + i])));
  return map;
}

}  // namespace minicnn
