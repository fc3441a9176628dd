// Parameter<T>: one named tensor of a layer with its gradient.
//
// Contract (the same as PyTorch's): a layer's backward() ADDS dL/dvalue into `grad`; the
// optimizer's zero_grad() clears every grad, and step() reads grads and updates values. Training
// therefore runs zero_grad -> forward -> backward -> step; skipping zero_grad accumulates the
// gradients of several batches on purpose.
//
// Non-trainable parameters (BatchNorm's moving mean and variance) are state saved with the
// weights and counted by summary(); they have no grad and optimizers skip them.
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
};

}  // namespace minicnn
