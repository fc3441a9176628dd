// The graph models of the comparison with PyTorch (docs/performance.md, "Graph models"), each with
// the workload it is measured on: the CIFAR ResNet-20 of He et al. trains at batch 128, the
// paper's; torchvision's ResNet-50 on 224x224 images infers at batch 8. bench/compare_pytorch.py
// defines their PyTorch twins (torchvision's resnet50, the twin of
// tests/model/test_zoo_graphs.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "minicnn/minicnn.hpp"
#include "minicnn/models/resnet.hpp"

namespace bench {

struct GraphModel {
  std::string name;
  minicnn::Index classes;
  minicnn::Shape input;  // one sample
  minicnn::Index batch;  // the workload's batch size
  bool trains;           // training is measured too (else inference only)
};

inline const std::vector<GraphModel>& graph_models() {
  static const std::vector<GraphModel> models = {
      {"resnet20", 10, {3, 32, 32}, 128, true},
      {"resnet50", 1000, {3, 224, 224}, 8, false},
  };
  return models;
}

// The model, built, with the loss of the comparison.
inline std::unique_ptr<minicnn::Model<float>> build_graph_model(const GraphModel& graph,
                                                                std::uint64_t seed) {
  using namespace minicnn;
  auto model = std::make_unique<Model<float>>(
      graph.name == "resnet20" ? cifar_resnet<float>(20, graph.classes, true, graph.input, seed)
                               : resnet50<float>(graph.classes, true, graph.input, seed));
  model->set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  return model;
}

}  // namespace bench
