// The reference models of the performance comparison (issue 4, docs/performance.md): five
// networks of the labs whose PyTorch twins bench/compare_pytorch.py defines layer for layer.
// Both sides train them with Adam on sparse cross-entropy, batch 64, data already in memory.
#pragma once

#include <string>
#include <vector>

#include "minicnn/minicnn.hpp"
#include "minicnn/models.hpp"

namespace bench {

struct ReferenceModel {
  std::string name;        // a minicnn::model_zoo() name
  minicnn::Index classes;  // outputs of the classifier
};

inline const std::vector<ReferenceModel>& reference_models() {
  static const std::vector<ReferenceModel> models = {
      {"mnist_model1", 10},   // (1, 28, 28): Conv 32,3 - Dense 10
      {"mnist_model4", 10},   // (1, 28, 28): Conv 32,5 - Conv 64,5 - BN - MaxPool 2 - Conv 128,5
      {"lenet5", 10},         // (3, 32, 32): LeNet-5, tanh and average pooling
      {"cifar10_basic", 10},  // (3, 32, 32): two VGG blocks of 3x3 'valid' convolutions, Dropout
      {"cifar100_coarse_first", 20},  // (3, 32, 32): Conv 8/16/32, Dense 500, 20 coarse classes
  };
  return models;
}

// The model built for its zoo input shape, with the loss of the comparison.
template <typename T>
minicnn::Sequential<T> build_reference_model(const ReferenceModel& reference, std::uint64_t seed) {
  const auto& entry = minicnn::zoo_model<T>(reference.name);
  minicnn::Sequential<T> model = entry.build(reference.classes);
  model.build(entry.input, seed);
  model.set_loss(std::make_unique<minicnn::SparseCategoricalCrossentropy<T>>());
  return model;
}

// `batches` batches of uniformly random inputs in [0, 1) and random class indices: the speed
// of a training step does not depend on what the pixels show.
template <typename T>
struct SyntheticBatches {
  std::vector<minicnn::Tensor<T>> inputs, labels;

  SyntheticBatches(const minicnn::Shape& sample, minicnn::Index classes, minicnn::Index batch_size,
                   minicnn::Index batches, std::uint64_t seed) {
    minicnn::Random random(seed);
    for (minicnn::Index b = 0; b < batches; ++b) {
      minicnn::Tensor<T> x(sample.with_batch(batch_size)), y({batch_size});
      x.fill_uniform(random, T(0), T(1));
      for (minicnn::Index n = 0; n < batch_size; ++n)
        y[n] = static_cast<T>(random.below(classes));
      inputs.push_back(std::move(x));
      labels.push_back(std::move(y));
    }
  }
};

}  // namespace bench
