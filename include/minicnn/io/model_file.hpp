// Models from checkpoints: Model::from_checkpoint and Sequential::from_checkpoint (and so their
// load()), which make each saved layer from its kind and config through the layer registry. They
// live here, apart from the models, so that including a model does not include every layer.
#pragma once

#include <string>
#include <vector>

#include "minicnn/layer_registry.hpp"
#include "minicnn/model/model.hpp"
#include "minicnn/model/sequential.hpp"

namespace minicnn {

// Each layer made, named and connected as saved; the checks of the plans, the build and the
// restore are Model::rebuild_from's. A layer may read only the input or a layer saved before it,
// so a checkpoint cannot describe a cycle.
template <typename T>
Model<T> Model<T>::from_checkpoint(const Checkpoint<T>& c) {
  const char* function = "from_checkpoint";
  Model model;
  model.input(Shape(), c.input_name);
  for (const auto& entry : c.layers) {
    std::vector<Node> inputs;
    for (const std::string& name : entry.inputs) {
      const Index vertex = model.graph_.find(name);
      if (vertex < 0)
        fail(model.who(function), ": layer '", entry.name, "' reads '", name,
             "', which is neither the input nor a layer saved before it");
      inputs.push_back({vertex});
    }
    auto layer = make_layer<T>(entry.kind, entry.config);
    layer->set_name(entry.name);
    model.add(std::move(layer), inputs);
  }
  const Index output = model.graph_.find(c.output_name);
  if (output < 0)
    fail(model.who(function), ": the output '", c.output_name,
         "' is not a layer of the checkpoint");
  model.rebuild_from(c, {output}, function);
  return model;
}

template <typename T>
Sequential<T> Sequential<T>::from_checkpoint(const Checkpoint<T>& c) {
  for (std::size_t i = 0; i < c.layers.size(); ++i) {
    const auto& entry = c.layers[i];
    const std::string previous = i == 0 ? c.input_name : c.layers[i - 1].name;
    if (entry.inputs != std::vector<std::string>{previous})
      fail("Sequential::from_checkpoint: the checkpoint holds a graph, not a chain: layer '",
           entry.name, "' does not read only '", previous, "'; load it with Model::load");
  }
  if (c.layers.empty() || c.output_name != c.layers.back().name)
    fail("Sequential::from_checkpoint: the checkpoint holds a graph, not a chain: its output '",
         c.output_name, "' is not its last layer; load it with Model::load");
  Sequential model;
  for (const auto& entry : c.layers) {
    auto layer = make_layer<T>(entry.kind, entry.config);
    layer->set_name(entry.name);
    model.add(std::move(layer));
  }
  model.rebuild_from(c, model.tail_, "from_checkpoint");
  return model;
}

}  // namespace minicnn
