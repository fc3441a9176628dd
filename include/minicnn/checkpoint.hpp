// Checkpoint<T>: everything a checkpoint file holds, as plain data. A model fills it (and
// optionally its optimizer's state), io/checkpoint_file.hpp writes and reads it.
//
// The architecture is the model's graph: its input, its layers in the model's order (a
// topological order), each with the names of the layers it reads (or of the input), and the layer
// whose output is the model's. A chain (Sequential) is the graph whose layers each read the one
// before.
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
    std::vector<std::string> inputs;   // the names of the layers it reads, or the input's
    bool trainable = true;             // Layer::trainable(): false when frozen
    std::vector<NamedTensor> tensors;  // Layer::parameters() values, by Parameter::name, in order
    bool has_random = false;           // Layer::random_stream() != nullptr
    Random::State random{};            // its state when has_random
  };

  std::string input_name = "input";
  Shape input_shape;  // of one sample
  std::vector<LayerEntry> layers;
  std::string output_name;  // the layer whose output is the model's

  bool has_optimizer = false;
  std::string optimizer_kind;  // Optimizer::kind()
  Config optimizer_config;     // Optimizer::config()
  double learning_rate = 0.0;  // Optimizer::learning_rate() (may differ from config: schedules)
  Index iterations = 0;        // Optimizer::iterations()
  std::vector<NamedTensor> optimizer_slots;  // Optimizer::slots(): "<slot>/<parameter path>"

  // Chains written before graphs were stored (format version 1) read as this graph: layer i reads
  // layer i - 1, the first reads the input, the last is the output.
  void link_as_chain() {
    for (std::size_t i = 0; i < layers.size(); ++i)
      layers[i].inputs = {i == 0 ? input_name : layers[i - 1].name};
    output_name = layers.empty() ? "" : layers.back().name;
  }

  Index epochs_completed = 0;  // training progress: fit(initial_epoch = epochs_completed) resumes
};

}  // namespace minicnn
