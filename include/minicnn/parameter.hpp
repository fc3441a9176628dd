// Parameter<T>: one named tensor of a layer with its gradient.
//
// Contract (the same as PyTorch's): a layer's backward() ADDS dL/dvalue into `grad`; the
// optimizer's zero_grad() clears every grad, and step() reads grads and updates values. Training
// therefore runs zero_grad -> forward -> backward -> step; skipping zero_grad accumulates the
// gradients of several batches on purpose.
//
// `trainable` is the parameter's role: a weight that gradients update, or (false) state saved with
// the weights, such as BatchNorm's moving mean and variance, which has no grad and which
// optimizers skip. Whether a weight is updated now also depends on its layer being frozen or not
// (Layer::set_trainable), which the model decides: freezing changes no parameter.
#pragma once

#include <string>

#include "minicnn/tensor.hpp"

namespace minicnn {

template <typename T>
struct Parameter {
  Parameter(std::string parameter_name, const Shape& shape, bool is_trainable = true)
      : name(std::move(parameter_name)),
        value(shape, T(0)),
        grad(is_trainable ? Tensor<T>(shape, T(0)) : Tensor<T>()),
        trainable(is_trainable) {}

  std::string name;  // "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"
  Tensor<T> value;
  Tensor<T> grad;  // shape of value when trainable, empty otherwise
  bool trainable;
  // "<layer name>/<name>" (e.g. "conv2d_1/kernel") once a model has built the layer; empty for a
  // parameter outside a model. Optimizers key their state by it (optimizers/slot_table.hpp), so a
  // frozen, unfrozen or new layer leaves the other layers' state where it was.
  std::string path;
};

}  // namespace minicnn
