// Named models: the architectures of the course's labs, as unbuilt Sequential models. Build
// them on the input they were designed for: model.build({1, 28, 28}, seed) for MNIST and
// Fashion-MNIST, model.build({3, 32, 32}, seed) for CIFAR.
//
// Every convolution and hidden Dense layer is followed by ReLU (Keras's activation='relu');
// classifiers end with Softmax, so that the probability cross-entropy losses apply and Sequential
// fuses them (see sequential.hpp). Parameter counts, as Keras's summary() reports them, are in
// the comments and checked by tests/test_sequential.cpp.
#pragma once

#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/sequential.hpp"

namespace minicnn {

// The default of the MNIST trainer: Keras's "simple MNIST convnet" example. Conv2D 32,3 -
// MaxPool 2 - Conv2D 64,3 - MaxPool 2 - Flatten - Dropout .5 - Dense 10 - Softmax on
// (1, 28, 28): 34,826 parameters. Small and fast, and above 98.5 % test accuracy within a few
// epochs (docs/experiments.md).
template <typename T>
Sequential<T> mnist_cnn() {
  Sequential<T> model;
  model.template add<Conv2D>(32, 3).template add<ReLU>().template add<MaxPool2D>(2);
  model.template add<Conv2D>(64, 3).template add<ReLU>().template add<MaxPool2D>(2);
  model.template add<Flatten>().template add<Dropout>(0.5);
  model.template add<Dense>(10).template add<Softmax>();
  return model;
}

// Conv2D 32,3 - Flatten - Dense 10 - Softmax on (1, 28, 28): 216,650 parameters.
template <typename T>
Sequential<T> mnist_model1() {
  Sequential<T> model;
  model.template add<Conv2D>(32, 3).template add<ReLU>();
  model.template add<Flatten>().template add<Dense>(10).template add<Softmax>();
  return model;
}

// Conv2D 32,3 - Conv2D 64,3 - MaxPool 2 stride 1 - Conv2D 128,3 - Flatten - Dense 10 - Softmax
// on (1, 28, 28): 657,162 parameters.
template <typename T>
Sequential<T> mnist_model2() {
  Sequential<T> model;
  model.template add<Conv2D>(32, 3).template add<ReLU>();
  model.template add<Conv2D>(64, 3).template add<ReLU>();
  model.template add<MaxPool2D>(2, 1);
  model.template add<Conv2D>(128, 3).template add<ReLU>();
  model.template add<Flatten>().template add<Dense>(10).template add<Softmax>();
  return model;
}

// Conv2D 32,5 - Conv2D 64,5 - BatchNorm - MaxPool 2 - Conv2D 128,5 - Flatten - Dense 10 -
// Softmax on (1, 28, 28): 303,370 parameters, of which BatchNorm's 128 moving statistics are
// non-trainable. ReLU comes before BatchNorm, as in the Keras lab (activation='relu' inside
// Conv2D).
template <typename T>
Sequential<T> mnist_model4() {
  Sequential<T> model;
  model.template add<Conv2D>(32, 5).template add<ReLU>();
  model.template add<Conv2D>(64, 5).template add<ReLU>();
  model.template add<BatchNorm>().template add<MaxPool2D>(2, 2);
  model.template add<Conv2D>(128, 5).template add<ReLU>();
  model.template add<Flatten>().template add<Dense>(10).template add<Softmax>();
  return model;
}

// CIFAR-100 with its 20 coarse labels, on (3, 32, 32): 592,552 parameters.
// Conv2D 8,3 - Dropout .2 - Conv2D 16,3 - MaxPool 2 - Dropout .2 - Conv2D 32,3 - MaxPool 2 -
// Flatten - Dense 500 - Dropout .2 - Dense 20 - Softmax
template <typename T>
Sequential<T> cifar100_coarse_first() {
  Sequential<T> model;
  model.template add<Conv2D>(8, 3).template add<ReLU>().template add<Dropout>(0.2);
  model.template add<Conv2D>(16, 3).template add<ReLU>();
  model.template add<MaxPool2D>(2).template add<Dropout>(0.2);
  model.template add<Conv2D>(32, 3).template add<ReLU>().template add<MaxPool2D>(2);
  model.template add<Flatten>().template add<Dense>(500).template add<ReLU>();
  model.template add<Dropout>(0.2).template add<Dense>(20).template add<Softmax>();
  return model;
}

}  // namespace minicnn
