// The graph models of the comparisons (docs/performance.md, "Graph models" and "minicnn beside ONNX
// Runtime, PyTorch and dlib"), each with the workload it is measured on: the CIFAR ResNet-20 of He
// et al. trains at batch 128, the paper's; torchvision's ResNet-50 on 224x224 images infers at
// batch 8, ResNet-18 and MobileNetV2 at 16 (bench/compare_engines.py passes its own batches, 1 and
// 16).
// bench/compare_pytorch.py defines their PyTorch twins (torchvision's models, the twins of
// tests/model/test_zoo_graphs.cpp and tests/model/test_zoo_mobile.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "minicnn/minicnn.hpp"
#include "minicnn/models/mobilenet_v2.hpp"
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
      {"resnet18", 1000, {3, 224, 224}, 16, false},
      {"resnet50", 1000, {3, 224, 224}, 8, false},
      {"mobilenet_v2", 1000, {3, 224, 224}, 16, false},
  };
  return models;
}

// The model, built, with the loss of the comparison.
inline std::unique_ptr<minicnn::Model<float>> build_graph_model(const GraphModel& graph,
                                                                std::uint64_t seed) {
  using namespace minicnn;
  auto build = [&]() {
    if (graph.name == "resnet20")
      return cifar_resnet<float>(20, graph.classes, true, graph.input, seed);
    if (graph.name == "resnet18") return resnet18<float>(graph.classes, true, graph.input, seed);
    if (graph.name == "resnet50") return resnet50<float>(graph.classes, true, graph.input, seed);
    return mobilenet_v2<float>(graph.classes, true, graph.input, seed);
  };
  auto model = std::make_unique<Model<float>>(build());
  model->set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  return model;
}

}  // namespace bench
