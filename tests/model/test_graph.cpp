// Specification of graph models (model/model.hpp on the engine of model/graph.hpp): the
// functional API, the merges Add and Concatenate, gradients summed where a tensor fans out,
// inference buffers reused by liveness, freezing for fine-tuning, and checkpoints of graphs and of
// the chains saved before graphs were stored.
#include <doctest/doctest.h>

#include <functional>

#include "minicnn/io/model_file.hpp"
#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/add.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/concatenate.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/optimizers/adam.hpp"
#include "support/gradient_check.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;

namespace {

Tensor<double> uniform_tensor(const Shape& shape, std::uint64_t seed) {
  Tensor<double> t(shape);
  Random random(seed);
  t.fill_uniform(random, -1.0, 1.0);
  return t;
}

// One residual block on x with `filters` channels out: conv-BN-ReLU-conv-BN, plus the shortcut
// (x itself, or a 1x1 convolution when `projection`), then ReLU, as in He et al. 2016.
template <typename T>
Node residual_block(Model<T>& model, Node x, Index filters, bool projection) {
  Node y = model.template add<Conv2D>(x, filters, 3, 1, Padding::same);
  y = model.template add<BatchNorm>(y);
  y = model.template add<ReLU>(y);
  y = model.template add<Conv2D>(y, filters, 3, 1, Padding::same);
  y = model.template add<BatchNorm>(y);
  const Node shortcut = projection ? model.template add<Conv2D>(x, filters, 1) : x;
  y = model.template add<Add>({y, shortcut});
  return model.template add<ReLU>(y);
}

// A stem convolution, a block with an identity shortcut (the stem's output fans out to the block
// and to its Add), a block with a projection shortcut, global average pooling, a classifier.
template <typename T>
Model<T> small_resnet(Index blocks = 1, std::uint64_t seed = 3) {
  Model<T> model;
  const Node input = model.input({2, 5, 5});
  Node x = model.template add<Conv2D>(input, 3, 3, 1, Padding::same);
  for (Index b = 0; b < blocks; ++b)
    x = residual_block(model, x, 3, false);
  x = residual_block(model, x, 4, true);
  x = model.template add<GlobalAveragePooling2D>(x);
  x = model.template add<Dense>(x, 3);
  x = model.template add<Softmax>(x);
  model.build(x, seed);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<T>>());
  return model;
}

// Every trainable parameter's gradient from compute_gradients() against central differences of
// the training-mode loss (BatchNorm on batch statistics; compute_gradients changes the moving
// statistics, which the training-mode loss does not read).
testing::GradientReport check_model_gradients(Model<double>& model, const Tensor<double>& x,
                                              const Tensor<double>& y) {
  model.compute_gradients(x, y);
  std::vector<std::vector<double>> analytic;
  for (Parameter<double>* p : model.parameters())
    analytic.emplace_back(p->grad.begin(), p->grad.end());
  testing::GradientReport report;
  const double h = 1e-6;
  const auto& parameters = model.parameters();
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    Parameter<double>& p = *parameters[k];
    if (!p.trainable) continue;
    for (Index j = 0; j < p.value.size(); ++j) {
      const double saved = p.value[j];
      p.value[j] = saved + h;
      const double plus = model.compute_gradients(x, y);
      p.value[j] = saved - h;
      const double minus = model.compute_gradients(x, y);
      p.value[j] = saved;
      testing::record(report, analytic[k][static_cast<std::size_t>(j)], (plus - minus) / (2 * h),
                      p.path + "[" + std::to_string(j) + "]");
    }
  }
  return report;
}

// A merge's input gradients against central differences of L = sum(y * r). Merges are linear,
// so a large step gives central differences exact up to rounding.
double merge_gradient_error(MergeLayer<double>& merge, const std::vector<Shape>& shapes) {
  merge.build(shapes);
  std::vector<Tensor<double>> xs;
  std::vector<const Tensor<double>*> inputs;
  for (std::size_t k = 0; k < shapes.size(); ++k)
    xs.push_back(uniform_tensor(shapes[k].with_batch(2), 10 + k));
  for (const auto& x : xs)
    inputs.push_back(&x);
  Tensor<double> y;
  merge.forward_inputs(inputs, y, Mode::training);
  const Tensor<double> r = uniform_tensor(y.shape(), 99);
  std::vector<Tensor<double>> dxs(xs.size());
  std::vector<Tensor<double>*> gradients;
  for (auto& dx : dxs)
    gradients.push_back(&dx);
  merge.backward_inputs(inputs, y, r, gradients, Mode::training);
  testing::GradientReport report;
  const double h = 0.5;
  for (std::size_t k = 0; k < xs.size(); ++k)
    for (Index i = 0; i < xs[k].size(); ++i) {
      const auto loss = [&](double delta) {
        xs[k][i] += delta;
        Tensor<double> out;
        merge.forward_inputs(inputs, out, Mode::training);
        xs[k][i] -= delta;
        return testing::dot(out, r);
      };
      testing::record(report, dxs[k][i], (loss(h) - loss(-h)) / (2 * h), "input");
    }
  return report.worst_error;
}

// Values of every parameter (weights and state), in the model's order.
std::vector<std::vector<float>> snapshot(Model<float>& model) {
  std::vector<std::vector<float>> values;
  for (Parameter<float>* p : model.parameters())
    values.emplace_back(p->value.begin(), p->value.end());
  return values;
}

// Same shape and the same values, bit for bit.
bool same(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

TEST_CASE("Add sums its inputs and Concatenate joins them along an axis") {
  Add<double> add;
  add.build({{2, 3}, {2, 3}, {2, 3}});
  const auto a = Tensor<double>::of({1, 2, 3}, {1, 2, 3, 4, 5, 6});
  const auto b = Tensor<double>::of({1, 2, 3}, {10, 20, 30, 40, 50, 60});
  Tensor<double> y;
  add.forward_inputs({&a, &b, &a}, y, Mode::inference);
  CHECK(y.shape() == Shape{1, 2, 3});
  CHECK(y[0] == 12);
  CHECK(y[5] == 72);

  // (N, C, H, W) joined on channels (axis 1, the default) and on rows (axis 2).
  Concatenate<double> channels;
  CHECK(channels.build({{1, 2, 3}, {2, 2, 3}}) == Shape{3, 2, 3});
  const auto c = Tensor<double>::of({1, 2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  const auto a4 = Tensor<double>::of({1, 1, 2, 3}, {1, 2, 3, 4, 5, 6});
  channels.forward_inputs({&a4, &c}, y, Mode::inference);
  CHECK(std::vector<double>(y.begin(), y.end()) ==
        std::vector<double>{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  Concatenate<double> rows(-2);  // (N, C, H, W): -2 is H
  CHECK(rows.build({{1, 2, 3}, {1, 1, 3}}) == Shape{1, 3, 3});
  const auto d = Tensor<double>::of({1, 1, 1, 3}, {7, 8, 9});
  rows.forward_inputs({&a4, &d}, y, Mode::inference);
  CHECK(std::vector<double>(y.begin(), y.end()) == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("The merges' input gradients match central differences") {
  Add<double> add;
  CHECK(merge_gradient_error(add, {{2, 3, 3}, {2, 3, 3}, {2, 3, 3}}) < 1e-12);
  Concatenate<double> channels;
  CHECK(merge_gradient_error(channels, {{1, 3, 2}, {3, 3, 2}}) < 1e-12);
  Concatenate<double> last(-1);
  CHECK(merge_gradient_error(last, {{2, 2, 1}, {2, 2, 3}, {2, 2, 2}}) < 1e-12);
  Concatenate<double> features;
  CHECK(merge_gradient_error(features, {{4}, {1}}) < 1e-12);
}

TEST_CASE("Residual networks' gradients match central differences, identity and projection") {
  // The stem's output is read by the first block's convolution and by its Add: its gradient is
  // the sum of the two. The projection block's shortcut is a second path to the same input.
  auto model = small_resnet<double>();
  const auto x = uniform_tensor({4, 2, 5, 5}, 7);
  const auto y = Tensor<double>::of({4}, {0, 2, 1, 2});
  const auto report = check_model_gradients(model, x, y);
  INFO(report.worst_element);
  CHECK(report.worst_error < 1e-6);
  CHECK(report.elements_checked == model.parameter_count(true));
}

TEST_CASE("A tensor read by several layers gets the sum of their gradients") {
  // stem -> (Dense a, Dense b, the stem itself, and the stem again) -> Concatenate -> Dense.
  Model<double> model;
  const Node input = model.input({3});
  const Node stem = model.add<Dense>(input, 4);
  const Node a = model.add<Dense>(stem, 2);
  const Node b = model.add<Tanh>(model.add<Dense>(stem, 3));
  Node joined = model.add<Concatenate>({a, stem, b, stem});
  Node doubled = model.add<Add>({joined, joined});
  model.build(model.add<Dense>(doubled, 2), 5);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<double>>(true));
  const auto report =
      check_model_gradients(model, uniform_tensor({3, 3}, 8), Tensor<double>::of({3}, {1, 0, 1}));
  INFO(report.worst_element);
  CHECK(report.worst_error < 1e-6);
}

TEST_CASE("A frozen BatchNorm runs in inference mode and its gradients are those of that mode") {
  auto model = small_resnet<double>();
  for (Index i = 0; i < model.size(); ++i)
    if (model.layer(i).kind() == "BatchNormalization") model.layer(i).set_trainable(false);
  // Moving statistics away from (0, 1), so that inference mode is not the identity.
  for (Parameter<double>* p : model.parameters())
    if (p->name == "moving_mean" || p->name == "moving_variance")
      p->value.fill(p->name == "moving_mean" ? 0.3 : 1.7);
  const auto x = uniform_tensor({4, 2, 5, 5}, 7);
  const auto y = Tensor<double>::of({4}, {0, 2, 1, 2});
  const auto before = model.parameters();
  std::vector<double> moving;
  for (Parameter<double>* p : before)
    if (!p->trainable) moving.insert(moving.end(), p->value.begin(), p->value.end());
  const auto report = check_model_gradients(model, x, y);
  INFO(report.worst_element);
  CHECK(report.worst_error < 1e-6);
  std::vector<double> after;
  for (Parameter<double>* p : model.parameters())
    if (!p->trainable) after.insert(after.end(), p->value.begin(), p->value.end());
  CHECK(after == moving);  // many training steps, the moving statistics untouched
  // The frozen layers' gamma and beta count as non-trainable, as Keras counts them.
  CHECK(model.parameter_count(false) == 4 * (3 + 3 + 4 + 4));
}

TEST_CASE("Inference reuses buffers by liveness: the count does not grow with depth") {
  Sequential<float> chain;
  chain.add<Dense>(4).add<ReLU>().add<Dense>(4).add<ReLU>().add<Dense>(2);
  chain.build({3}, 1);
  CHECK(chain.graph().activation_buffers() == 2);  // ping-pong
  const auto shallow = small_resnet<float>(1), deep = small_resnet<float>(8);
  CHECK(deep.size() > 3 * shallow.size());
  CHECK(shallow.graph().activation_buffers() == deep.graph().activation_buffers());
  CHECK(deep.graph().activation_buffers() <= 4);
}

TEST_CASE("predict, evaluate and layer outputs of a graph agree with its training-mode walk") {
  auto model = small_resnet<float>();
  for (Index i = 0; i < model.size(); ++i)
    if (model.layer(i).kind() == "BatchNormalization") model.layer(i).set_trainable(false);
  Tensor<float> x({5, 2, 5, 5});
  Random random(4);
  x.fill_uniform(random, -1.0f, 1.0f);
  const auto y = Tensor<float>::of({5}, {0, 1, 2, 0, 1});
  // Frozen BatchNorm and no Dropout: the training forward is the inference function, so the
  // training loss equals evaluate()'s.
  const float loss = model.compute_gradients(x, y);
  CHECK(model.evaluate(x, y, 2).loss == doctest::Approx(loss).epsilon(1e-5));
  const Tensor<float> probabilities = model.predict(x, 3);
  const Tensor<float> logits = model.layer_output(x, model.size() - 2, 4);  // the Dense's
  const std::vector<Index> classes = model.predict_classes(x, 2);
  for (Index n = 0; n < 5; ++n) {
    const auto row = logits.matrix().row(n);
    const double total = (row.array() - row.maxCoeff()).exp().sum();
    Index best = 0;
    for (Index k = 0; k < 3; ++k) {
      CHECK(probabilities.matrix()(n, k) ==
            doctest::Approx(std::exp(row(k) - row.maxCoeff()) / total).epsilon(1e-5));
      if (row(k) > row(best)) best = k;
    }
    CHECK(classes[static_cast<std::size_t>(n)] == best);
  }
}

TEST_CASE("summary() of a graph shows each layer's inputs, as Keras's functional summary") {
  Model<float> model;
  const Node x = model.input({4}, "features");
  const Node a = model.add<Dense>(x, 3);
  const Node b = model.add<Dense>(x, 3);
  model.build(model.add<Add>({a, b}), 0);
  CHECK(model.summary() ==
        "Model: \"model\"\n"
        "_____________________________________________________________________________________\n"
        "Layer (type)                 Output Shape              Param #   Connected to\n"
        "=====================================================================================\n"
        "features (InputLayer)        (None, 4)                 0\n"
        "_____________________________________________________________________________________\n"
        "dense (Dense)                (None, 3)                 15        features\n"
        "_____________________________________________________________________________________\n"
        "dense_1 (Dense)              (None, 3)                 15        features\n"
        "_____________________________________________________________________________________\n"
        "add (Add)                    (None, 3)                 0         dense\n"
        "                                                                 dense_1\n"
        "=====================================================================================\n"
        "Total params: 30\n"
        "Trainable params: 30\n"
        "Non-trainable params: 0\n"
        "_____________________________________________________________________________________\n");
}

TEST_CASE("A model refuses graphs it cannot run, naming the layer") {
  Model<float> model;
  const Node x = model.input({2, 4, 4});
  const Node wide = model.add<Conv2D>(x, 4, 3, 1, Padding::same);
  CHECK_THROWS_WITH_AS(model.add<Add>(wide), "Model::add: Add takes 2 or more inputs, got 1",
                       Error);
  CHECK_THROWS_WITH_AS(model.add<Dense>({wide, x}, 3), "Model::add: Dense takes 1 input, got 2",
                       Error);
  CHECK_THROWS_WITH_AS(model.add<ReLU>(Node{42}),
                       "Model::add: ReLU reads node 42, which is not a node of this model", Error);
  CHECK_THROWS_WITH_AS(model.input({3}, "conv2d"),
                       "Model::input: the name 'conv2d' is already used", Error);
  const Node sum = model.add<Add>({wide, x});
  CHECK_THROWS_WITH_AS(model.build(sum, 0),
                       "Add 'add': expected inputs of one shape, got (4, 4, 4) (input 0) and (2, "
                       "4, 4) (input 1); a residual branch that changes the shape needs a "
                       "projection shortcut",
                       Error);

  Model<float> dangling;
  const Node in = dangling.input({3});
  const Node used = dangling.add<Dense>(in, 2);
  dangling.add<Dense>(in, 2);
  CHECK_THROWS_WITH_AS(dangling.build(used, 0),
                       "Model::build: Dense 'dense_1' does not lead to the output Dense 'dense'; "
                       "every layer of a model must",
                       Error);

  Model<float> two_inputs;
  const Node first = two_inputs.input({3});
  const Node second = two_inputs.input({3});
  CHECK_THROWS_WITH_AS(two_inputs.build(two_inputs.add<Add>({first, second}), 0),
                       "Model::build: expected a model with 1 input, got 2", Error);

  Sequential<float> chain;
  CHECK_THROWS_WITH_AS(chain.add<Add>(),
                       "Sequential::add: Add merges several inputs; a Sequential model is a "
                       "chain, use a Model",
                       Error);
  CHECK_THROWS_WITH_AS(Concatenate<float>(0),
                       "Concatenate: expected an axis other than 0, the batch axis, got 0", Error);
  Add<float> lone;
  Tensor<float> t({1, 2}), out;
  CHECK_THROWS_WITH_AS(lone.forward(t, out, Mode::inference),
                       "Add: a merge takes several inputs; it runs inside a Model, which calls "
                       "forward_inputs() and backward_inputs()",
                       Error);
}

TEST_CASE("A graph saves and loads with its connections, frozen flags and the same outputs") {
  testing::TempDir dir;
  auto model = small_resnet<float>();
  model.layer("conv2d").set_trainable(false);
  Tensor<float> x({3, 2, 5, 5});
  Random random(2);
  x.fill_uniform(random, -1.0f, 1.0f);
  Adam<float> adam;
  model.train_on_batch(x, Tensor<float>::of({3}, {0, 1, 2}), adam);
  model.save(dir / "resnet.mcnn", &adam, 1);

  auto loaded = Model<float>::load(dir / "resnet.mcnn");
  CHECK(loaded.summary() == model.summary());
  CHECK_FALSE(loaded.layer("conv2d").trainable());
  CHECK(loaded.layer_inputs(loaded.size() - 5) == model.layer_inputs(model.size() - 5));
  const Tensor<float> expected = model.predict(x), got = loaded.predict(x);
  CHECK(std::equal(expected.begin(), expected.end(), got.begin()));

  // Resuming: the optimizer's state comes back by parameter path.
  Adam<float> resumed;
  loaded.restore(dir / "resnet.mcnn", &resumed);
  CHECK(resumed.iterations() == 1);
  CHECK(resumed.slots().size() == adam.slots().size());

  CHECK_THROWS_WITH_AS(Sequential<float>::load(dir / "resnet.mcnn"),
                       "Sequential::from_checkpoint: the checkpoint holds a graph, not a chain: "
                       "layer 'add' does not read only 'batch_normalization_1'; load it with "
                       "Model::load",
                       Error);

  auto c = model.checkpoint();
  c.layers[3].inputs = {"nowhere"};
  CHECK_THROWS_WITH_AS(Model<float>::from_checkpoint(c),
                       "Model::from_checkpoint: layer 're_lu' reads 'nowhere', which is neither "
                       "the input nor a layer saved before it",
                       Error);
  c = model.checkpoint();
  c.layers[1].inputs = {c.layers[2].name};  // a layer reading a later one: a cycle
  CHECK_THROWS_AS(Model<float>::from_checkpoint(c), Error);
  c = model.checkpoint();
  c.layers[6].inputs = {c.layers[4].name};  // a different graph of the same layers
  CHECK_THROWS_WITH_AS(model.restore(c),
                       "Model::restore: Add 'add' reads 'batch_normalization_1', 'conv2d' in "
                       "the model but the checkpoint's layer 'add' reads 'conv2d_2'",
                       Error);
}

TEST_CASE("A checkpoint of format version 1 (a chain) loads and predicts as it did") {
  // tests/golden/checkpoint_v1.mcnn was written by minicnn before graphs were stored
  // (tools/make_checkpoint_v1.cpp); these are the predictions that program printed.
  const std::string path = std::string(MINICNN_GOLDEN_DIR) + "/checkpoint_v1.mcnn";
  const std::vector<float> printed = {0.168135464f, 0.389410794f, 0.152011722f, 0.29044205f,
                                      0.304858387f, 0.292108864f, 0.206074387f, 0.196958318f};
  Tensor<float> probe({2, 1, 8, 8});
  Random random(5);
  probe.fill_uniform(random, -1.0f, 1.0f);
  for (int as_graph = 0; as_graph < 2; ++as_graph) {
    CAPTURE(as_graph);
    const Tensor<float> p = as_graph ? Model<float>::load(path).predict(probe)
                                     : Sequential<float>::load(path).predict(probe);
    REQUIRE(p.size() == 8);
    for (Index i = 0; i < 8; ++i)
      CHECK(p[i] == doctest::Approx(printed[static_cast<std::size_t>(i)]).epsilon(1e-6));
  }
  const auto c = load_checkpoint<float>(path);
  CHECK(c.output_name == "softmax");
  CHECK(c.layers[1].inputs == std::vector<std::string>{"conv2d"});
  REQUIRE(!c.optimizer_slots.empty());
  CHECK(c.optimizer_slots[0].first == "m/conv2d/kernel");  // "m/0" in the file
  auto model = Sequential<float>::load(path);
  Adam<float> adam;
  CHECK(model.restore(path, &adam) == 3);
  CHECK(adam.iterations() == 3);
}

TEST_CASE("Fine-tuning: a frozen backbone stays bit for bit, unfreezing keeps the head's state") {
  auto model = small_resnet<float>();
  const Index head = model.size() - 2;  // the Dense before the Softmax
  for (Index i = 0; i < head; ++i)
    model.layer(i).set_trainable(false);
  Tensor<float> x({6, 2, 5, 5});
  Random random(6);
  x.fill_uniform(random, -1.0f, 1.0f);
  const auto y = Tensor<float>::of({6}, {0, 1, 2, 2, 1, 0});
  const auto before = snapshot(model);
  Adam<float> adam(0.05);
  for (int step = 0; step < 5; ++step)
    model.train_on_batch(x, y, adam);
  const auto after = snapshot(model);
  const auto& parameters = model.parameters();
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    CAPTURE(parameters[k]->path);
    const bool in_head = parameters[k]->path.rfind(model.layer(head).name() + "/", 0) == 0;
    CHECK((after[k] == before[k]) == !in_head);  // weights and moving statistics alike
  }
  CHECK(adam.slots().size() == 4);  // m and v of the head's kernel and bias only

  std::vector<std::vector<float>> head_state;
  for (const auto& slot : adam.slots())
    head_state.emplace_back(slot.second->begin(), slot.second->end());
  for (Index i = 0; i < head; ++i)
    model.layer(i).set_trainable(true);
  adam.prepare(model.trainable_parameters());
  const auto slots = adam.slots();
  CHECK(slots.size() > 4);
  for (std::size_t s = 0; s < 4; ++s)  // the head's slots were made first and keep their values
    CHECK(std::vector<float>(slots[s].second->begin(), slots[s].second->end()) == head_state[s]);
  model.train_on_batch(x, y, adam);
  CHECK(snapshot(model)[0] != before[0]);  // the stem learns now
}

TEST_CASE("load_weights by name moves a backbone into a model with another head") {
  auto backbone = small_resnet<float>();
  // The same layers, so the same names, then a new head: 5 classes instead of 3.
  Model<float> tuned;
  const Node input = tuned.input({2, 5, 5});
  Node z = tuned.add<Conv2D>(input, 3, 3, 1, Padding::same);
  z = residual_block(tuned, z, 3, false);
  z = residual_block(tuned, z, 4, true);
  z = tuned.add<GlobalAveragePooling2D>(z);
  z = tuned.add<Dense>(z, 5);
  tuned.build(tuned.add<Softmax>(z), 99);
  const auto c = backbone.checkpoint();
  CHECK_THROWS_WITH_AS(tuned.load_weights(c, Match::by_name),
                       "Model::load_weights: Dense 'dense' tensor 'kernel' has shape (4, 5), the "
                       "checkpoint's 'kernel' (4, 3) (OnMismatch::skip leaves such layers as they "
                       "are)",
                       Error);
  const auto loaded = tuned.load_weights(c, Match::by_name, OnMismatch::skip);
  CHECK(loaded.size() == static_cast<std::size_t>(backbone.size() - 1));  // all but the head
  for (Index i = 0; i < tuned.size() - 2; ++i) {
    const auto ours = tuned.layer(i).parameters(), theirs = backbone.layer(i).parameters();
    for (std::size_t k = 0; k < ours.size(); ++k)
      CHECK(std::equal(ours[k]->value.begin(), ours[k]->value.end(), theirs[k]->value.begin()));
  }
}

TEST_CASE("sub_model ends at a named layer and shares the base's layers (Keras's Model(in, out))") {
  auto base = small_resnet<float>();
  Model<float> features = base.sub_model("global_average_pooling2d", "features");
  CHECK(features.size() == base.size() - 2);  // all but the Dense and the Softmax
  CHECK(features.output_shape() == Shape{4});
  CHECK(features.summary().rfind("Model: \"features\"", 0) == 0);
  CHECK(features.parameter_count(true) == base.parameter_count(true) - (4 * 3 + 3));
  Tensor<float> x({6, 2, 5, 5});
  Random random(7);
  x.fill_uniform(random, -1.0f, 1.0f);
  const Index pool = base.size() - 3;
  const Tensor<float> before = features.predict(x);
  CHECK(same(before, base.layer_output(x, pool)));

  // The same weights: a training step of the base changes what the sub-model computes.
  Adam<float> adam(0.05);
  base.train_on_batch(x, Tensor<float>::of({6}, {0, 1, 2, 2, 1, 0}), adam);
  const Tensor<float> after = features.predict(x);
  CHECK_FALSE(same(after, before));
  CHECK(same(after, base.layer_output(x, pool)));
  // The same layers: freezing one in either model freezes it in both.
  features.layer("conv2d").set_trainable(false);
  CHECK_FALSE(base.layer("conv2d").trainable());

  // Only the named layer's ancestors: the projection shortcut of the second block reads the
  // first block's output, and none of the second block's other layers.
  Model<float> shortcut = base.sub_model("conv2d_5");
  CHECK(shortcut.size() == 9);  // the stem, the first block's 7 layers, the projection
  CHECK(shortcut.layer(8).name() == "conv2d_5");
  CHECK(shortcut.layer_inputs(8) == std::vector<std::string>{"re_lu_1"});
  REQUIRE(base.layer(13).name() == "conv2d_5");
  CHECK(same(shortcut.predict(x), base.layer_output(x, 13)));

  CHECK_THROWS_WITH_AS(base.sub_model("pool"), "Model::sub_model: no layer is named 'pool'", Error);
  CHECK_THROWS_WITH_AS(base.sub_model("input"), "Model::sub_model: no layer is named 'input'",
                       Error);
}
