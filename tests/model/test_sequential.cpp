// Specification of Sequential: naming, shape inference, summary(), the training step (with the
// Softmax + cross-entropy fusion), inference, and checkpoints in memory.
#include <doctest/doctest.h>

#include <thread>

#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/losses/mean_squared_error.hpp"
#include "minicnn/models.hpp"
#include "minicnn/optimizers/adam.hpp"
#include "minicnn/sequential.hpp"
#include "support/gradient_check.hpp"

using namespace minicnn;

namespace {

// Dense 5 - ReLU - Dense 3 - Softmax on 4 features, with a probability cross-entropy.
Sequential<double> small_classifier(std::uint64_t seed = 1) {
  Sequential<double> model;
  model.add<Dense>(5).add<ReLU>().add<Dense>(3).add<Softmax>();
  model.build({4}, seed);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<double>>());
  return model;
}

Tensor<double> uniform(const Shape& shape, std::uint64_t seed, double low = -1, double high = 1) {
  Tensor<double> t(shape);
  Random random(seed);
  t.fill_uniform(random, low, high);
  return t;
}

std::vector<double> gradients(Sequential<double>& model) {
  std::vector<double> all;
  for (Parameter<double>* p : model.parameters())
    if (p->trainable) all.insert(all.end(), p->grad.begin(), p->grad.end());
  return all;
}

// An identity layer that counts its backward calls: shows where the training step's backward
// stops.
struct CountingIdentity : Layer<double> {
  int backward_calls = 0;
  std::string kind() const override { return "CountingIdentity"; }
  Config config() const override { return Config(); }
  std::unique_ptr<Layer<double>> clone() const override {
    return std::make_unique<CountingIdentity>(*this);
  }
  void forward(const Tensor<double>& x, Tensor<double>& y, Mode) override { y = x; }
  void backward(const Tensor<double>&, const Tensor<double>&, const Tensor<double>& dy,
                Tensor<double>& dx, Mode) override {
    ++backward_calls;
    dx = dy;
  }
  LayerPlan plan_layer(const Shape& input_shape) const override { return {input_shape, {}}; }
};

}  // namespace

TEST_CASE("Layers are named Keras-style, once per kind") {
  CHECK(keras_snake_case("Conv2D") == "conv2d");
  CHECK(keras_snake_case("MaxPooling2D") == "max_pooling2d");
  CHECK(keras_snake_case("BatchNormalization") == "batch_normalization");
  CHECK(keras_snake_case("GlobalAveragePooling2D") == "global_average_pooling2d");
  CHECK(keras_snake_case("ReLU") == "re_lu");
  CHECK(keras_snake_case("LeakyReLU") == "leaky_re_lu");
  CHECK(keras_snake_case("Dense") == "dense");

  Sequential<float> model;
  model.add<Dense>(4).add<ReLU>().add<Dense>(3).add<ReLU>().add<Dense>(2);
  std::vector<std::string> names;
  for (Index i = 0; i < model.size(); ++i)
    names.push_back(model.layer(i).name());
  CHECK(names == std::vector<std::string>{"dense", "re_lu", "dense_1", "re_lu_1", "dense_2"});

  auto named = std::make_unique<Dense<float>>(2);
  named->set_name("dense_3");
  model.add(std::move(named));
  model.add<Dense>(2);  // "dense_3" is taken: the next free suffix
  CHECK(model.layer(6).name() == "dense_4");
  CHECK(&model.layer("re_lu_1") == &model.layer(3));
  CHECK_THROWS_WITH_AS(model.layer(7), "Sequential::layer: index 7 is outside [0, 7)", Error);
  CHECK_THROWS_WITH_AS(model.layer("conv2d"), "Sequential::layer: no layer is named 'conv2d'",
                       Error);
}

TEST_CASE("Sequential refuses misuse, naming the layer or the call") {
  Sequential<float> model;
  CHECK_THROWS_WITH_AS(model.build({4}, 0),
                       "Sequential::build: the model has no layers; add() some first", Error);
  CHECK_THROWS_WITH_AS(model.add(nullptr), "Sequential::add: expected a layer, got nullptr", Error);
  model.add<Dense>(3);
  auto twin = std::make_unique<Dense<float>>(2);
  twin->set_name("dense");
  CHECK_THROWS_WITH_AS(model.add(std::move(twin)),
                       "Sequential::add: the name 'dense' of Dense 'dense' is already used by "
                       "Dense 'dense'",
                       Error);
  CHECK_THROWS_WITH_AS(model.summary(),
                       "Sequential::summary: the model is not built; call build() first", Error);
  CHECK_THROWS_WITH_AS(model.predict(Tensor<float>({2, 4})),
                       "Sequential::predict: the model is not built; call build() first", Error);
  model.build({4}, 0);
  CHECK_THROWS_WITH_AS(model.build({4}, 0),
                       "Sequential::build: the model is already built for input (4)", Error);
  CHECK_THROWS_WITH_AS(model.add<Dense>(2),
                       "Sequential::add: the model is already built; add Dense before build()",
                       Error);
  CHECK_THROWS_WITH_AS(model.predict(Tensor<float>({2, 5})),
                       "Sequential::predict: expected input of shape (N, 4), got (2, 5)", Error);
  CHECK_THROWS_WITH_AS(model.predict(Tensor<float>({2, 4}), 0),
                       "Sequential::predict: expected batch_size > 0, got 0", Error);
  CHECK_THROWS_WITH_AS(model.predict_classes(Tensor<float>({2, 3})),
                       "Sequential::predict_classes: expected input of shape (N, 4), got (2, 3)",
                       Error);
  CHECK_THROWS_WITH_AS(model.evaluate(Tensor<float>({2, 4}), Tensor<float>({2})),
                       "Sequential: no loss; call set_loss() first", Error);
  CHECK_THROWS_WITH_AS(model.set_loss(nullptr),
                       "Sequential::set_loss: expected a loss, got nullptr", Error);
  model.set_loss(std::make_unique<MeanSquaredError<float>>());
  CHECK_THROWS_WITH_AS(model.evaluate(Tensor<float>({2, 4}), Tensor<float>({2, 3}), 0),
                       "Sequential::evaluate: expected batch_size > 0, got 0", Error);
  CHECK_THROWS_WITH_AS(model.evaluate(Tensor<float>({2, 3, 2}), Tensor<float>({2})),
                       "Sequential::evaluate: expected samples of shape (4) (the input shape given "
                       "to build()), got (3, 2)",
                       Error);
}

TEST_CASE("build() infers every shape and reports the layer that cannot take its input") {
  auto model = mnist_model1<float>();
  model.build({1, 28, 28}, 0);
  CHECK(model.layer(0).output_shape() == Shape{32, 26, 26});
  CHECK(model.layer(1).output_shape() == Shape{21632});  // Flatten: the lab's Conv2D is linear
  CHECK(model.output_shape() == Shape{10});

  Sequential<float> no_flatten;
  no_flatten.add<Conv2D>(8, 3).add<Dense>(10);
  CHECK_THROWS_WITH_AS(no_flatten.build({1, 28, 28}, 0),
                       "Dense 'dense': expected input of rank 1 per sample (features), got (8, "
                       "26, 26); add a Flatten layer before Dense",
                       Error);
}

TEST_CASE("build() draws each layer's weights from its own fork of the seed") {
  Sequential<float> a, b;
  a.add<Dense>(3).add<Dense>(2);
  b.add<Dense>(30).add<Dense>(2);  // the first layer draws ten times as many numbers
  a.build({4}, 7);
  b.build({4}, 7);
  Sequential<float> c;
  c.add<Dense>(3).add<Dense>(2);
  c.build({4}, 7);
  for (Index i = 0; i < 2; ++i) {
    const auto& x = a.layer(i).parameters()[0]->value;
    const auto& y = c.layer(i).parameters()[0]->value;
    CHECK(std::equal(x.begin(), x.end(), y.begin()));
  }
  // The second Dense of b (30 inputs) starts from the same stream as a's (3 inputs): its
  // first draws are the same numbers, scaled by a different Glorot limit.
  const double ratio = std::sqrt(6.0 / 32.0) / std::sqrt(6.0 / 5.0);
  CHECK(b.layer(1).parameters()[0]->value[0] ==
        doctest::Approx(a.layer(1).parameters()[0]->value[0] * ratio).epsilon(1e-6));
}

TEST_CASE("summary() prints Keras's table with Keras's parameter counts") {
  auto model = mnist_model1<float>();
  model.build({1, 28, 28}, 0);
  const std::string rule(65, '_'), double_rule(65, '=');
  CHECK(model.summary() == "Model: \"sequential\"\n" + rule +
                               "\n"
                               "Layer (type)                 Output Shape              Param #\n" +
                               double_rule +
                               "\n"
                               "conv2d (Conv2D)              (None, 32, 26, 26)        320\n" +
                               rule +
                               "\n"
                               "flatten (Flatten)            (None, 21632)             0\n" +
                               rule +
                               "\n"
                               "dense (Dense)                (None, 10)                216,330\n" +
                               rule +
                               "\n"
                               "softmax (Softmax)            (None, 10)                0\n" +
                               double_rule +
                               "\n"
                               "Total params: 216,650\n"
                               "Trainable params: 216,650\n"
                               "Non-trainable params: 0\n" +
                               rule + "\n");
  std::ostringstream printed;
  model.print_summary(printed);
  CHECK(printed.str() == model.summary());

  // A name longer than the column widens it.
  auto model4 = mnist_model4<float>();
  model4.build({1, 28, 28}, 0);
  CHECK(model4.summary().find("batch_normalization (BatchNormalization) (None, 64, 20, 20)") !=
        std::string::npos);
}

TEST_CASE("The named models have Keras's parameter counts") {
  struct Expected {
    const char* name;
    Sequential<float> model;
    Shape input;
    Index trainable, frozen;
  };
  Expected models[] = {
      {"mnist_model1", mnist_model1<float>(), {1, 28, 28}, 216650, 0},
      {"mnist_model2", mnist_model2<float>(), {1, 28, 28}, 657162, 0},
      {"mnist_model4", mnist_model4<float>(), {1, 28, 28}, 303242, 128},
      {"cifar100_coarse_first", cifar100_coarse_first<float>(), {3, 32, 32}, 592552, 0},
  };
  for (auto& [name, model, input, trainable, frozen] : models) {
    CAPTURE(name);
    model.build(input, 0);
    CHECK(model.parameter_count(true) == trainable);
    CHECK(model.parameter_count(false) == frozen);
  }
  CHECK(models[2].model.summary().find("Non-trainable params: 128\n") != std::string::npos);
  CHECK(models[2].model.summary().find("Total params: 303,370\n") != std::string::npos);
  CHECK(models[3].model.summary().find("Total params: 592,552\n") != std::string::npos);
  CHECK(models[3].model.output_shape() == Shape{20});
}

TEST_CASE("The training step's gradients match central differences of the loss") {
  for (Index batch : {1, 5}) {
    CAPTURE(batch);
    auto model = small_classifier();
    REQUIRE(model.fuses_softmax());
    const auto x = uniform({batch, 4}, 2);
    Tensor<double> y({batch});
    for (Index n = 0; n < batch; ++n)
      y[n] = static_cast<double>(n % 3);
    model.compute_gradients(x, y);

    testing::GradientReport report;
    const double h = 1e-6;
    for (Parameter<double>* p : model.parameters()) {
      for (Index j = 0; j < p->value.size(); ++j) {
        const double saved = p->value[j];
        p->value[j] = saved + h;
        const double plus = model.evaluate(x, y).loss;
        p->value[j] = saved - h;
        const double minus = model.evaluate(x, y).loss;
        p->value[j] = saved;
        testing::record(report, p->grad[j], (plus - minus) / (2 * h),
                        p->name + "[" + std::to_string(j) + "]");
      }
    }
    INFO(report.worst_element);
    CHECK(report.worst_error < 1e-6);
    CHECK(report.elements_checked == 4 * 5 + 5 + 5 * 3 + 3);
  }
}

TEST_CASE("The training step's backward stops at the first layer that learns") {
  // Nothing before the first Dense learns, so nothing needs dL/dx there: the layers in front of
  // it get no backward call, and the Dense computes its parameters' gradients only. The
  // gradients are those of the same model without the identities.
  Sequential<double> model;
  model.add(std::make_unique<CountingIdentity>()).add<Dense>(5);
  model.add(std::make_unique<CountingIdentity>()).add<ReLU>().add<Dense>(3).add<Softmax>();
  model.build({4}, 1);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<double>>());
  auto reference = small_classifier(1);
  REQUIRE(model.parameters().size() == reference.parameters().size());
  for (std::size_t k = 0; k < model.parameters().size(); ++k)
    model.parameters()[k]->value = reference.parameters()[k]->value;
  const auto x = uniform({5, 4}, 2);
  const auto y = Tensor<double>::of({5}, {0, 1, 2, 2, 1});
  model.compute_gradients(x, y);
  reference.compute_gradients(x, y);

  CHECK(dynamic_cast<CountingIdentity&>(model.layer(0)).backward_calls == 0);
  CHECK(dynamic_cast<CountingIdentity&>(model.layer(2)).backward_calls == 1);
  const std::vector<double> ours = gradients(model), expected = gradients(reference);
  REQUIRE(ours.size() == expected.size());
  for (std::size_t k = 0; k < ours.size(); ++k)
    CHECK(ours[k] == doctest::Approx(expected[k]).epsilon(1e-12));
}

TEST_CASE("Softmax + cross-entropy fused gives the gradient of the unfused pair") {
  const auto x = uniform({6, 4}, 3);
  const auto y = Tensor<double>::of({6}, {0, 1, 2, 2, 1, 0});
  auto fused = small_classifier();
  const double fused_loss = fused.compute_gradients(x, y);

  // The same model with a loss that has no logits version computes through Softmax's backward.
  struct ProbabilitiesOnly : SparseCategoricalCrossentropy<double> {
    std::unique_ptr<Loss<double>> on_logits() const override { return nullptr; }
  };
  auto unfused = small_classifier();
  unfused.set_loss(std::make_unique<ProbabilitiesOnly>());
  REQUIRE_FALSE(unfused.fuses_softmax());
  const double unfused_loss = unfused.compute_gradients(x, y);

  CHECK(fused_loss == doctest::Approx(unfused_loss).epsilon(1e-12));
  const auto a = gradients(fused), b = gradients(unfused);
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, testing::gradient_error(a[i], b[i]));
  CHECK(worst < 1e-12);
}

TEST_CASE("Softmax + cross-entropy stays finite and exact on extreme logits") {
  // A last Dense with huge weights makes logits of about +-1000; the probability of the target
  // class rounds to 0 and the unfused loss would be clipped at -log(1e-7) = 16.1.
  auto model = small_classifier();
  for (double& w : model.layer(2).parameters()[0]->value)
    w *= 1e4;
  const auto x = uniform({4, 4}, 4);
  Tensor<double> logits;
  {
    Sequential<double> head;  // the model without its Softmax, to read the logits
    head.add<Dense>(5).add<ReLU>().add<Dense>(3);
    head.build({4}, 1);
    for (Index i = 0; i < 3; ++i)
      for (std::size_t k = 0; k < head.layer(i).parameters().size(); ++k)
        head.layer(i).parameters()[k]->value = model.layer(i).parameters()[k]->value;
    logits = head.predict(x);
  }
  Tensor<double> y({4});
  double expected = 0;
  for (Index n = 0; n < 4; ++n) {
    // The class with the lowest logit: the worst possible prediction.
    Index worst = 0;
    for (Index k = 1; k < 3; ++k)
      if (logits(n, k) < logits(n, worst)) worst = k;
    y[n] = static_cast<double>(worst);
    const double top = std::max({logits(n, 0), logits(n, 1), logits(n, 2)});
    double sum = 0;
    for (Index k = 0; k < 3; ++k)
      sum += std::exp(logits(n, k) - top);
    expected += (top + std::log(sum) - logits(n, worst)) / 4;
  }
  REQUIRE(expected > 100);  // far beyond what the clipped probability path can report
  const double loss = model.compute_gradients(x, y);
  CHECK(loss == doctest::Approx(expected).epsilon(1e-12));
  for (double g : gradients(model))
    CHECK(std::isfinite(g));
  CHECK(model.evaluate(x, y).loss == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("predict() returns probabilities batch by batch and predict_classes() their argmax") {
  auto model = small_classifier();
  const auto x = uniform({7, 4}, 5);
  const auto whole = model.predict(x, 7);
  const auto batched = model.predict(x, 3);  // batches of 3, 3 and 1
  CHECK(whole.shape() == Shape{7, 3});
  CHECK(std::equal(whole.begin(), whole.end(), batched.begin()));
  const auto classes = model.predict_classes(x, 2);
  for (Index n = 0; n < 7; ++n) {
    CHECK(whole(n, 0) + whole(n, 1) + whole(n, 2) == doctest::Approx(1.0));
    Index best = 0;
    for (Index k = 1; k < 3; ++k)
      if (whole(n, k) > whole(n, best)) best = k;
    CHECK(classes[static_cast<std::size_t>(n)] == best);
  }
}

TEST_CASE("evaluate() reports the mean loss and the accuracy") {
  auto model = small_classifier();
  const auto x = uniform({9, 4}, 6);
  const auto probabilities = model.predict(x);
  const auto classes = model.predict_classes(x);
  Tensor<double> y({9}), one_hot({9, 3}, 0.0);
  double loss = 0;
  for (Index n = 0; n < 9; ++n) {
    // The first six samples get their predicted class, the last three another one.
    const Index label = (classes[static_cast<std::size_t>(n)] + (n < 6 ? 0 : 1)) % 3;
    y[n] = static_cast<double>(label);
    one_hot(n, label) = 1;
    loss -= std::log(probabilities(n, label)) / 9;
  }
  for (Index batch_size : {2, 9}) {
    const auto sparse = model.evaluate(x, y, batch_size);
    CHECK(sparse.loss == doctest::Approx(loss).epsilon(1e-12));
    CHECK(sparse.accuracy == doctest::Approx(6.0 / 9.0));
  }
  model.set_loss(std::make_unique<CategoricalCrossentropy<double>>());
  const auto dense = model.evaluate(x, one_hot, 4);
  CHECK(dense.loss == doctest::Approx(loss).epsilon(1e-12));
  CHECK(dense.accuracy == doctest::Approx(6.0 / 9.0));
}

TEST_CASE("Several threads may predict with one model at once") {
  auto model = cifar100_coarse_first<float>();
  model.build({3, 32, 32}, 8);
  Tensor<float> x({6, 3, 32, 32});
  Random random(9);
  x.fill_uniform(random, 0.0f, 1.0f);
  const auto expected = model.predict(x, 4);
  std::vector<Tensor<float>> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t)
    threads.emplace_back([&, t] { results[t] = model.predict(x, 4); });
  for (auto& thread : threads)
    thread.join();
  for (const auto& result : results)
    CHECK(std::equal(result.begin(), result.end(), expected.begin()));
}

TEST_CASE("A checkpoint restores weights and random streams into a model of the same shape") {
  auto model = cifar100_coarse_first<float>();
  model.build({3, 32, 32}, 10);
  model.layer(2).random_stream()->next_u64();  // Dropout's stream moves on while training
  const auto saved = model.checkpoint(nullptr, 3);
  CHECK(saved.layers.size() == 16);
  CHECK(saved.layers[0].kind == "Conv2D");
  CHECK(saved.layers[0].tensors[0].first == "kernel");
  CHECK(saved.layers[2].has_random);

  auto copy = cifar100_coarse_first<float>();
  copy.build({3, 32, 32}, 11);
  CHECK(copy.restore(saved) == 3);
  for (Index i = 0; i < model.size(); ++i) {
    const auto a = model.layer(i).parameters(), b = copy.layer(i).parameters();
    for (std::size_t k = 0; k < a.size(); ++k)
      CHECK(std::equal(a[k]->value.begin(), a[k]->value.end(), b[k]->value.begin()));
  }
  CHECK(copy.layer(2).random_stream()->next_u64() == model.layer(2).random_stream()->next_u64());
}

TEST_CASE("restore() names the first layer or tensor that differs") {
  Sequential<float> source;
  source.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>().add<Dense>(3);
  source.build({1, 8, 8}, 0);
  const auto saved = source.checkpoint();

  Sequential<float> wider;
  wider.add<Conv2D>(5, 3).add<ReLU>().add<Flatten>().add<Dense>(3);
  wider.build({1, 8, 8}, 0);
  CHECK_THROWS_WITH_AS(wider.restore(saved),
                       "Sequential::restore: Conv2D 'conv2d' tensor 'kernel' expected shape (5, "
                       "1, 3, 3), got 'kernel' of shape (4, 1, 3, 3) in the checkpoint",
                       Error);

  Sequential<float> other_kind;
  other_kind.add<Conv2D>(4, 3).add<Tanh>().add<Flatten>().add<Dense>(3);
  other_kind.build({1, 8, 8}, 0);
  CHECK_THROWS_WITH_AS(other_kind.restore(saved),
                       "Sequential::restore: layer 1 is Tanh 'tanh' in the model but ReLU 're_lu' "
                       "in the checkpoint",
                       Error);

  Sequential<float> shorter;
  shorter.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>();
  shorter.build({1, 8, 8}, 0);
  CHECK_THROWS_WITH_AS(shorter.restore(saved),
                       "Sequential::restore: the model has 3 layers, the checkpoint 4", Error);

  Sequential<float> bigger_input;
  bigger_input.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>().add<Dense>(3);
  bigger_input.build({1, 9, 9}, 0);
  CHECK_THROWS_WITH_AS(bigger_input.restore(saved),
                       "Sequential::restore: the model's input shape is (1, 9, 9), the "
                       "checkpoint's (1, 8, 8)",
                       Error);

  Sequential<float> no_bias;
  no_bias.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>().add<Dense>(3, false);
  no_bias.build({1, 8, 8}, 0);
  CHECK_THROWS_WITH_AS(no_bias.restore(saved),
                       "Sequential::restore: Dense 'dense' has 1 tensors, the checkpoint's layer "
                       "'dense' 2",
                       Error);
}

TEST_CASE("restore() refuses a checkpoint whose random streams or optimizer slots differ") {
  auto model = cifar100_coarse_first<float>();
  model.build({3, 32, 32}, 12);
  auto no_stream = model.checkpoint();
  no_stream.layers[2].has_random = false;
  CHECK_THROWS_WITH_AS(model.restore(no_stream),
                       "Sequential::restore: Dropout 'dropout' random stream: the checkpoint has "
                       "none",
                       Error);

  Sequential<float> small;
  small.add<Dense>(3);
  small.build({2}, 0);
  Adam<float> adam;
  // An optimizer that never stepped has no slots yet; restoring its state gives zero moments.
  const auto fresh = small.checkpoint(&adam);
  CHECK(fresh.optimizer_slots.empty());
  Adam<float> used;
  used.prepare(small.parameters());
  used.slots()[0].second->fill(1.0f);
  used.set_iterations(5);
  small.restore(fresh, &used);
  CHECK(used.iterations() == 0);
  for (const auto& [name, tensor] : used.slots())
    for (float value : *tensor)
      CHECK(value == 0.0f);

  adam.prepare(small.parameters());
  auto saved = small.checkpoint(&adam);
  REQUIRE(saved.optimizer_slots.size() == 4);                 // m and v of the kernel and the bias
  CHECK(saved.optimizer_slots[0].first == "m/dense/kernel");  // "<slot>/<parameter path>"
  auto fewer = saved;
  fewer.optimizer_slots.pop_back();
  CHECK_THROWS_WITH_AS(small.restore(fewer, &adam),
                       "Sequential::restore: Adam has 4 slots, the checkpoint 3", Error);
  auto reshaped = saved;
  reshaped.optimizer_slots[1].second = Tensor<float>({4});
  const std::string slot = saved.optimizer_slots[1].first;
  const std::string message = "Sequential::restore: Adam slot '" + slot + "' expected shape " +
                              saved.optimizer_slots[1].second.shape().str() + ", got '" + slot +
                              "' of shape (4) in the checkpoint";
  CHECK_THROWS_WITH_AS(small.restore(reshaped, &adam), message.c_str(), Error);
}

TEST_CASE("save, load and predict give the same outputs as the saved model") {
  auto model = mnist_model4<float>();  // BatchNorm: moving statistics are state too
  model.build({1, 28, 28}, 13);
  Random statistics(14);  // moving statistics other than their initial 0 and 1
  for (Parameter<float>* p : model.parameters())
    if (!p->trainable) p->value.fill_uniform(statistics, 0.5f, 1.5f);
  const std::string path = "test_sequential_model4.ckpt";
  model.save(path);
  const auto loaded = Sequential<float>::load(path);
  std::remove(path.c_str());
  CHECK(loaded.summary() == model.summary());
  Tensor<float> x({3, 1, 28, 28});
  Random random(15);
  x.fill_uniform(random, 0.0f, 1.0f);
  const auto expected = model.predict(x), actual = loaded.predict(x);
  CHECK(std::equal(actual.begin(), actual.end(), expected.begin()));
}

TEST_CASE("restore() from a file names the tensor that differs") {
  Sequential<float> source;
  source.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>().add<Dense>(3);
  source.build({1, 8, 8}, 0);
  const std::string path = "test_sequential_mismatch.ckpt";
  source.save(path, nullptr, 2);
  Sequential<float> same, other;
  same.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>().add<Dense>(3);
  same.build({1, 8, 8}, 1);
  CHECK(same.restore(path) == 2);
  other.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>().add<Dense>(5);
  other.build({1, 8, 8}, 1);
  CHECK_THROWS_WITH_AS(other.restore(path),
                       "Sequential::restore: Dense 'dense' tensor 'kernel' expected shape (144, "
                       "5), got 'kernel' of shape (144, 3) in the checkpoint",
                       Error);
  std::remove(path.c_str());
}
