// Activation maximisation (Erhan et al. 2009; Simonyan et al. 2014): the input a unit responds
// to most, found by gradient ascent on the input with the weights fixed. The objective is
//   J(x) = a(x) - (l2_decay / 2) ||x||^2
// where a(x) is the mean over positions of channel `unit` of layer `layer`'s output (a Conv2D
// filter's map), or output `unit` of a rank-1 layer (a Dense unit, a class score). Each step
//   x <- clip(x + step_size * dJ/dx, low, high),   dJ/dx = da/dx - l2_decay x
// with da/dx from Model::input_gradient (inference mode: BatchNorm with its moving
// statistics, Dropout as the identity). The clip keeps x in the range real inputs have; the
// decay keeps it from growing without bound where the range does not. For a single linear
// filter a(x) = <w, x> + b the ascent converges to x = w / l2_decay (inside the range): the
// maximiser under an L2 penalty is the filter itself.
//
//   ActivationMaximizationOptions o;  o.layer = 0;  o.unit = 5;  o.steps = 200;
//   Tensor<float> x = maximize_activation(model, o);   // (1, input_shape...)
#pragma once

#include <algorithm>
#include <cstdint>

#include "minicnn/error.hpp"
#include "minicnn/model/model.hpp"
#include "minicnn/random.hpp"

namespace minicnn {

struct ActivationMaximizationOptions {
  Index layer = 0;         // the layer whose output is maximised
  Index unit = 0;          // the channel (rank-3 output) or the unit (rank-1 output)
  Index steps = 100;       // gradient ascent iterations
  double step_size = 0.1;  // learning rate of the ascent
  double l2_decay = 0.0;   // strength of the -(l2_decay / 2) ||x||^2 term
  double low = 0.0;        // inputs are clipped to [low, high] after every step
  double high = 1.0;
  std::uint64_t seed = 0;     // the start: U(low, high) scaled around the middle of the range
  double start_spread = 0.1;  // the start's width, as a fraction of high - low
};

struct ActivationMaximization {
  double activation = 0.0;  // a(x) at the returned x
};

// Returns x (1, input_shape...); `result`, when given, receives a(x) at that x.
template <typename T>
Tensor<T> maximize_activation(Model<T>& model, const ActivationMaximizationOptions& o,
                              ActivationMaximization* result = nullptr) {
  if (!model.built()) fail("maximize_activation: the model is not built; call build() first");
  if (o.layer < 0 || o.layer >= model.size())
    fail("maximize_activation: layer index ", o.layer, " is outside [0, ", model.size(), ")");
  const Shape out = model.layer(o.layer).output_shape();
  if (out.rank() != 1 && out.rank() != 3)
    fail("maximize_activation: expected ", model.layer(o.layer).label(),
         " to output units (K) or maps (C, H, W), got ", out);
  if (o.unit < 0 || o.unit >= out[0])
    fail("maximize_activation: unit ", o.unit, " is outside [0, ", out[0], ") of ",
         model.layer(o.layer).label());
  if (!(o.high > o.low) || o.steps < 0 || !(o.step_size > 0.0) || !(o.l2_decay >= 0.0))
    fail(
        "maximize_activation: expected low < high, steps >= 0, step_size > 0 and l2_decay >= 0,"
        " got [",
        o.low, ", ", o.high, "], ", o.steps, ", ", o.step_size, " and ", o.l2_decay);

  // The seed of input_gradient: 1 / positions on the unit's channel, 0 elsewhere, so that
  // L = <seed, output> is the channel's mean.
  Tensor<T> seed(out.with_batch(1), T(0));
  const Index positions = out.rank() == 3 ? out[1] * out[2] : 1;
  std::fill_n(seed.data() + o.unit * positions, positions,
              static_cast<T>(1.0 / static_cast<double>(positions)));

  Random random(o.seed);
  Tensor<T> x(model.input_shape().with_batch(1)), gradient;
  const double middle = (o.low + o.high) / 2, half = o.start_spread * (o.high - o.low) / 2;
  x.fill_uniform(random, static_cast<T>(middle - half), static_cast<T>(middle + half));
  const auto step = static_cast<T>(o.step_size), decay = static_cast<T>(o.l2_decay);
  for (Index s = 0; s < o.steps; ++s) {
    model.input_gradient(x, o.layer, seed, gradient);
    x.vector() += step * (gradient.vector() - decay * x.vector());
    x.vector() = x.vector().cwiseMax(static_cast<T>(o.low)).cwiseMin(static_cast<T>(o.high));
  }
  if (result != nullptr)
    result->activation = static_cast<double>(model.input_gradient(x, o.layer, seed, gradient));
  return x;
}

}  // namespace minicnn
