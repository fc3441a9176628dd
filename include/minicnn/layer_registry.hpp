// The registry: from a kind() and a config() back to an object. Checkpoints store each layer's,
// optimizer's and loss's kind and config; these functions rebuild them when a model is loaded.
// A layer written outside minicnn can take part by registering its from_config.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/add.hpp"
#include "minicnn/layers/avg_pool2d.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/concatenate.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/depthwise_conv2d.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "minicnn/layers/random_augmentation.hpp"
#include "minicnn/layers/separable_conv2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/layers/zero_padding2d.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/losses/mean_squared_error.hpp"
#include "minicnn/optimizers/adam.hpp"
#include "minicnn/optimizers/rmsprop.hpp"
#include "minicnn/optimizers/sgd.hpp"

namespace minicnn {

namespace detail {

// kind -> from_config, for one family (Layer, Optimizer or Loss).
template <typename Base>
using Factories = std::map<std::string, std::function<std::unique_ptr<Base>(const Config&)>>;

template <typename Base>
std::unique_ptr<Base> make_from(const Factories<Base>& factories, const char* family,
                                const std::string& kind, const Config& config) {
  const auto found = factories.find(kind);
  if (found == factories.end()) {
    std::string known;
    for (const auto& entry : factories)
      known += (known.empty() ? "" : ", ") + entry.first;
    fail("make_", family, ": unknown kind '", kind, "'; known kinds: ", known);
  }
  return found->second(config);
}

}  // namespace detail

// The layer factories, keyed by Layer::kind(); add to it to make your own layers loadable.
template <typename T>
detail::Factories<Layer<T>>& layer_factories() {
  static detail::Factories<Layer<T>> factories = {
      {"Add", Add<T>::from_config},
      {"AveragePooling2D", AvgPool2D<T>::from_config},
      {"BatchNormalization", BatchNorm<T>::from_config},
      {"Concatenate", Concatenate<T>::from_config},
      {"Conv2D", Conv2D<T>::from_config},
      {"Dense", Dense<T>::from_config},
      {"DepthwiseConv2D", DepthwiseConv2D<T>::from_config},
      {"Dropout", Dropout<T>::from_config},
      {"Flatten", Flatten<T>::from_config},
      {"GlobalAveragePooling2D", GlobalAveragePooling2D<T>::from_config},
      {"LeakyReLU", LeakyReLU<T>::from_config},
      {"MaxPooling2D", MaxPool2D<T>::from_config},
      {"RandomAugmentation", RandomAugmentation<T>::from_config},
      {"ReLU", ReLU<T>::from_config},
      {"SeparableConv2D", SeparableConv2D<T>::from_config},
      {"Sigmoid", Sigmoid<T>::from_config},
      {"Softmax", Softmax<T>::from_config},
      {"Tanh", Tanh<T>::from_config},
      {"ZeroPadding2D", ZeroPadding2D<T>::from_config},
  };
  return factories;
}

template <typename T>
std::unique_ptr<Layer<T>> make_layer(const std::string& kind, const Config& config) {
  return detail::make_from(layer_factories<T>(), "layer", kind, config);
}

template <typename T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& kind, const Config& config) {
  static const detail::Factories<Optimizer<T>> factories = {
      {"Adam", Adam<T>::from_config},
      {"RMSprop", RMSprop<T>::from_config},
      {"SGD", SGD<T>::from_config},
  };
  return detail::make_from(factories, "optimizer", kind, config);
}

template <typename T>
std::unique_ptr<Loss<T>> make_loss(const std::string& kind, const Config& config) {
  static const detail::Factories<Loss<T>> factories = {
      {"CategoricalCrossentropy", CategoricalCrossentropy<T>::from_config},
      {"MeanSquaredError", MeanSquaredError<T>::from_config},
      {"SparseCategoricalCrossentropy", SparseCategoricalCrossentropy<T>::from_config},
  };
  return detail::make_from(factories, "loss", kind, config);
}

}  // namespace minicnn
