// A training step in steady state makes no heap allocation: every buffer a layer, the loss and the
// optimizer need is sized by the first steps and reused after (Tensor::resize only allocates to
// grow). Proven on the five reference models of the performance comparison (docs/performance.md),
// which between them use every layer kind of the hot path, with a counting operator new.
#include <doctest/doctest.h>

#include <string>

#include "minicnn/layers/add.hpp"
#include "minicnn/layers/concatenate.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/models.hpp"
#include "minicnn/models/resnet.hpp"
#include "minicnn/optimizers/adam.hpp"
#include "minicnn/optimizers/rmsprop.hpp"
#include "minicnn/optimizers/sgd.hpp"
#include "support/allocation_counter.hpp"

using namespace minicnn;

namespace {

// Allocations made by `steps` training steps after two warm-up steps (buffers sized, optimizer
// slots created).
long allocations_in_steady_state(const std::string& name, Index classes,
                                 Optimizer<float>& optimizer, int steps) {
  const ZooModel<float>& entry = zoo_model<float>(name);
  Sequential<float> model = entry.build(classes);
  model.build(entry.input, 1);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  constexpr Index kBatch = 8;
  Tensor<float> x(entry.input.with_batch(kBatch)), y({kBatch});
  Random random(2);
  x.fill_uniform(random, 0.0f, 1.0f);
  for (Index n = 0; n < kBatch; ++n)
    y[n] = static_cast<float>(n % classes);
  model.train_on_batch(x, y, optimizer);
  model.train_on_batch(x, y, optimizer);
  const long before = testing::allocations.load();
  for (int i = 0; i < steps; ++i)
    model.train_on_batch(x, y, optimizer);
  return testing::allocations.load() - before;
}

// A graph with what a ResNet has and a chain has not: fan-out, a residual Add, a Concatenate, a
// frozen BatchNorm (inference mode inside training), global average pooling.
Model<float> residual_graph() {
  Model<float> model;
  const Node input = model.input({3, 12, 12});
  const Node stem = model.add<ReLU>(model.add<Conv2D>(input, 8, 3, 1, Padding::same));
  Node y = model.add<BatchNorm>(model.add<Conv2D>(stem, 8, 3, 1, Padding::same));
  model.layer(model.size() - 1).set_trainable(false);
  y = model.add<ReLU>(model.add<Add>({y, stem}));
  y = model.add<Concatenate>({y, stem});
  y = model.add<Dense>(model.add<GlobalAveragePooling2D>(y), 4);
  model.build(model.add<Softmax>(y), 1);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  return model;
}

}  // namespace

TEST_CASE("A steady-state training step allocates nothing, on a residual graph") {
  Model<float> model = residual_graph();
  constexpr Index kBatch = 8;
  Tensor<float> x({kBatch, 3, 12, 12}), y({kBatch});
  Random random(2);
  x.fill_uniform(random, 0.0f, 1.0f);
  for (Index n = 0; n < kBatch; ++n)
    y[n] = static_cast<float>(n % 4);
  Adam<float> adam;
  model.train_on_batch(x, y, adam);
  model.train_on_batch(x, y, adam);
  long before = testing::allocations.load();
  for (int i = 0; i < 3; ++i)
    model.train_on_batch(x, y, adam);
  CHECK(testing::allocations.load() - before == 0);
  model.predict(x, kBatch);
  before = testing::allocations.load();
  const Tensor<float> probabilities = model.predict(x, kBatch);
  CHECK(testing::allocations.load() - before == 1);  // the returned tensor's storage
}

TEST_CASE("A steady-state training step allocates nothing, on the CIFAR ResNet-20") {
  // He et al.'s 20 layers: 9 residual blocks, two of them with a projection shortcut (option B),
  // BatchNorm after every convolution, in training mode.
  Model<float> model = cifar_resnet<float>(20, 10, true, {3, 32, 32}, 1);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  constexpr Index kBatch = 4;
  Tensor<float> x({kBatch, 3, 32, 32}), y({kBatch});
  Random random(2);
  x.fill_uniform(random, 0.0f, 1.0f);
  for (Index n = 0; n < kBatch; ++n)
    y[n] = static_cast<float>(n);
  SGD<float> sgd(0.1, 0.9);
  model.train_on_batch(x, y, sgd);
  model.train_on_batch(x, y, sgd);
  const long before = testing::allocations.load();
  model.train_on_batch(x, y, sgd);
  model.train_on_batch(x, y, sgd);
  CHECK(testing::allocations.load() - before == 0);
}

TEST_CASE("A steady-state training step allocates nothing, on every reference model") {
  const std::pair<const char*, Index> models[] = {{"mnist_model1", 10},
                                                  {"mnist_model4", 10},
                                                  {"lenet5", 10},
                                                  {"cifar10_basic", 10},
                                                  {"cifar100_coarse_first", 20}};
  for (const auto& [name, classes] : models) {
    CAPTURE(name);
    Adam<float> adam;
    CHECK(allocations_in_steady_state(name, classes, adam, 3) == 0);
  }
}

TEST_CASE("A steady-state training step allocates nothing, with every optimizer") {
  SGD<float> sgd(0.01, 0.9, true);
  RMSprop<float> rmsprop;
  Adam<float> adam;
  for (Optimizer<float>* optimizer :
       {static_cast<Optimizer<float>*>(&sgd), static_cast<Optimizer<float>*>(&rmsprop),
        static_cast<Optimizer<float>*>(&adam)}) {
    CAPTURE(optimizer->kind());
    CHECK(allocations_in_steady_state("mnist_model4", 10, *optimizer, 2) == 0);
  }
}

TEST_CASE("predict and evaluate reuse their buffers: a repeated call allocates only its result") {
  // The activations of a finished call go back to the model's pool; the next call on batches of
  // the same size takes them (and Conv2D its thread's buffers) instead of allocating anew.
  const ZooModel<float>& entry = zoo_model<float>("mnist_model4");
  Sequential<float> model = entry.build(10);
  model.build(entry.input, 1);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  constexpr Index kBatch = 8;
  Tensor<float> x(entry.input.with_batch(kBatch)), y({kBatch}, 3.0f);
  model.predict(x, kBatch);
  model.evaluate(x, y, kBatch);

  long before = testing::allocations.load();
  const Tensor<float> probabilities = model.predict(x, kBatch);
  CHECK(testing::allocations.load() - before == 1);  // the returned tensor's storage
  before = testing::allocations.load();
  model.evaluate(x, y, kBatch);
  CHECK(testing::allocations.load() - before == 1);  // its own view's list of batch indices
}

TEST_CASE("The counter sees allocations: a step that must size new buffers is counted") {
  // Guards the tests above against a counter that counts nothing.
  const ZooModel<float>& entry = zoo_model<float>("lenet5");
  Sequential<float> model = entry.build(10);
  model.build(entry.input, 1);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  Tensor<float> x(entry.input.with_batch(4)), y({4});
  Adam<float> adam;
  const long before = testing::allocations.load();
  model.train_on_batch(x, y, adam);  // first step: workspaces and Adam's slots
  CHECK(testing::allocations.load() - before > 0);
}
