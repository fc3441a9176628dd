// Checkpoint<T>: everything a checkpoint file holds, as plain data. Sequential fills it from a
// model (and optionally its optimizer), io/checkpoint_file.hpp writes and reads it.
//
// Resuming is exact because everything that decides the next step is here: the weights, the
// non-trainable state, every layer's random stream (Dropout), the optimizer's slots, iteration
// count and learning rate, and the number of completed epochs (the shuffle order of an epoch is
// derived from the seed and the epoch number, so it needs no state of its own).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "minicnn/config.hpp"
#include "minicnn/random.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

template <typename T>
struct Checkpoint {
  using NamedTensor = std::pair<std::string, Tensor<T>>;

  struct LayerEntry {
    std::string kind;                  // Layer::kind(), e.g. "Conv2D"
    std::string name;                  // Layer::name(), e.g. "conv2d_1"
    Config config;                     // Layer::config()
    std::vector<NamedTensor> tensors;  // Layer::parameters() values, by Parameter::name, in order
    bool has_random = false;           // Layer::random_stream() != nullptr
    Random::State random{};            // its state when has_random
  };

  Shape input_shape;  // of one sample
  std::vector<LayerEntry> layers;

  bool has_optimizer = false;
  std::string optimizer_kind;  // Optimizer::kind()
  Config optimizer_config;     // Optimizer::config()
  double learning_rate = 0.0;  // Optimizer::learning_rate() (may differ from config: schedules)
  Index iterations = 0;        // Optimizer::iterations()
  std::vector<NamedTensor> optimizer_slots;  // Optimizer::slots(), in order

  Index epochs_completed = 0;  // training progress: fit(initial_epoch = epochs_completed) resumes
};

}  // namespace minicnn
