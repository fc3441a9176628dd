// Specification of inference fusion (model/fusion.hpp): a layer that fuses an output map
// (Conv2D, Dense) runs the BatchNorm and the ReLU after it in its own output pass at inference.
// Which chains fuse is checked by name; that fusion changes nothing but rounding is checked by
// comparing each model's fused inference with its unfused one (Model::set_inference_fusion),
// within a relative 1e-5 of the output's largest magnitude in float and 1e-12 in double.
#include <doctest/doctest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/add.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/losses/mean_squared_error.hpp"
#include "minicnn/model/sequential.hpp"
#include "minicnn/models/mobilenet_v2.hpp"
#include "minicnn/models/resnet.hpp"
#include "minicnn/optimizers/sgd.hpp"

using namespace minicnn;

namespace fusion_spec {

template <typename T>
Tensor<T> uniform(const Shape& shape, std::uint64_t seed, double low = -1.0, double high = 1.0) {
  Tensor<T> t(shape);
  Random random(seed);
  t.fill_uniform(random, static_cast<T>(low), static_cast<T>(high));
  return t;
}

// Every BatchNorm of the model gets statistics and an affine map far from the identity they start
// with (gamma in [0.5, 2], beta and the mean in [-1, 1], the variance in [0.25, 4]), and every
// bias a value in [-1, 1]: a fold that dropped one of them would show.
template <typename T>
void randomize_maps(Model<T>& model, std::uint64_t seed) {
  Random random(seed);
  for (Index i = 0; i < model.size(); ++i) {
    Layer<T>& layer = model.layer(i);
    const std::vector<Parameter<T>*> p = layer.parameters();
    if (layer.kind() == "BatchNormalization") {
      p[0]->value.fill_uniform(random, T(0.5), T(2));   // gamma
      p[1]->value.fill_uniform(random, T(-1), T(1));    // beta
      p[2]->value.fill_uniform(random, T(-1), T(1));    // moving_mean
      p[3]->value.fill_uniform(random, T(0.25), T(4));  // moving_variance
    } else if (p.size() == 2 && p[1]->name == "bias") {
      p[1]->value.fill_uniform(random, T(-1), T(1));
    }
  }
}

// max |a - b| / max |b|: the difference relative to the output's scale.
template <typename T>
double relative_difference(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  double difference = 0.0, scale = 0.0;
  for (Index i = 0; i < a.size(); ++i) {
    difference = std::max(difference, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  REQUIRE(scale > 0.0);
  return difference / scale;
}

// predict(x) with fusion on and off; the model is left with fusion on.
template <typename T>
std::pair<Tensor<T>, Tensor<T>> fused_and_unfused(Model<T>& model, const Tensor<T>& x) {
  model.set_inference_fusion(false);
  Tensor<T> unfused = model.predict(x);
  model.set_inference_fusion(true);
  return {model.predict(x), std::move(unfused)};
}

template <typename T>
double tolerance() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}

// The chain headed by the layer named `head`, by names: "head > affine > clamp" (a missing one
// left out), or "" when the head heads no chain.
template <typename T>
std::string chain_of(const Model<T>& model, const std::string& head) {
  const Graph<T>& graph = model.graph();
  for (const FusedChain& chain : graph.fused_chains()) {
    if (graph.vertex(chain.head).name != head) continue;
    std::string text = head;
    for (Index v : {chain.affine, chain.clamp})
      if (v >= 0) text += " > " + graph.vertex(v).name;
    return text;
  }
  return "";
}

// Whether the layer named `name` is in some chain.
template <typename T>
bool in_a_chain(const Model<T>& model, const std::string& name) {
  const Graph<T>& graph = model.graph();
  for (const FusedChain& chain : graph.fused_chains())
    for (Index v : {chain.head, chain.affine, chain.clamp})
      if (v >= 0 && graph.vertex(v).name == name) return true;
  return false;
}

// The index of the layer named `name`, for layer_output().
template <typename T>
Index layer_index(const Model<T>& model, const std::string& name) {
  for (Index i = 0; i < model.size(); ++i)
    if (model.layer(i).name() == name) return i;
  FAIL("no layer named ", name);
  return -1;
}

// A Conv2D that counts its fused calls: which walk inference took.
template <typename T>
class CountingConv2D : public Conv2D<T> {
 public:
  using Conv2D<T>::Conv2D;
  void forward_fused(const Tensor<T>& x, Tensor<T>& y, const gemm::Epilogue<T>& after) override {
    ++fused_calls;
    Conv2D<T>::forward_fused(x, y, after);
  }
  int fused_calls = 0;
};

// input (2, 6, 6) -> conv (3x3, 4 filters, bias) -> bn -> relu (max_value when given) -> flatten
// -> dense.
template <typename T>
Sequential<T> conv_bn_relu(std::optional<double> max_value = std::nullopt) {
  Sequential<T> model;
  model.template add<Conv2D>(4, 3, 1, Padding::same)
      .template add<BatchNorm>()
      .template add<ReLU>(max_value)
      .template add<Flatten>()
      .template add<Dense>(3);
  model.build({2, 6, 6}, 11);
  randomize_maps(model, 12);
  return model;
}

}  // namespace fusion_spec

using namespace fusion_spec;

TEST_CASE_TEMPLATE("Conv2D -> BatchNorm -> ReLU runs as one call, equal to the three layers", T,
                   float, double) {
  auto model = conv_bn_relu<T>();
  CHECK(chain_of(model, "conv2d") == "conv2d > batch_normalization > re_lu");
  CHECK(model.graph().activation_buffers() == 2);
  const Tensor<T> x = uniform<T>({5, 2, 6, 6}, 13);
  const auto [fused, unfused] = fused_and_unfused(model, x);
  CHECK(relative_difference(fused, unfused) <= tolerance<T>());
}

TEST_CASE_TEMPLATE("Conv2D with a bias -> ReLU fuses the bias and the clamp", T, float, double) {
  Sequential<T> model;
  model.template add<Conv2D>(3, 3).template add<ReLU>(T(0.5)).template add<Flatten>();
  model.build({2, 5, 5}, 3);
  randomize_maps(model, 4);
  CHECK(chain_of(model, "conv2d") == "conv2d > re_lu");
  const Tensor<T> x = uniform<T>({3, 2, 5, 5}, 5);
  const auto [fused, unfused] = fused_and_unfused(model, x);
  CHECK(relative_difference(fused, unfused) <= tolerance<T>());
  // Both ends of the clamp are met: values below 0 and above max_value.
  CHECK(std::count(unfused.begin(), unfused.end(), T(0)) > 0);
  CHECK(std::count(unfused.begin(), unfused.end(), T(0.5)) > 0);
  CHECK(std::count(fused.begin(), fused.end(), T(0.5)) ==
        std::count(unfused.begin(), unfused.end(), T(0.5)));
}

TEST_CASE_TEMPLATE("Dense -> BatchNorm, as the model's output, fuses too", T, float, double) {
  Sequential<T> model;
  model.template add<Flatten>().template add<Dense>(6).template add<BatchNorm>();
  model.build({2, 3}, 8);
  randomize_maps(model, 9);
  CHECK(chain_of(model, "dense") == "dense > batch_normalization");
  const Tensor<T> x = uniform<T>({4, 2, 3}, 10);
  const auto [fused, unfused] = fused_and_unfused(model, x);
  CHECK(relative_difference(fused, unfused) <= tolerance<T>());
}

TEST_CASE("An intermediate vertex asked for is computed, not fused away") {
  Sequential<double> model;
  auto conv = std::make_unique<CountingConv2D<double>>(4, 3);
  const CountingConv2D<double>& counter = *conv;
  model.add(std::move(conv)).add<BatchNorm>().add<ReLU>().add<Flatten>();
  model.build({2, 6, 6}, 14);
  randomize_maps(model, 15);
  const Tensor<double> x = uniform<double>({5, 2, 6, 6}, 13);
  model.set_inference_fusion(false);
  const Tensor<double> conv_out = model.layer_output(x, 0), bn = model.layer_output(x, 1);
  model.set_inference_fusion(true);
  CHECK(counter.fused_calls == 0);
  // The unfused walk serves them, bit for bit.
  const Tensor<double> fused_conv = model.layer_output(x, 0), fused_bn = model.layer_output(x, 1);
  CHECK(counter.fused_calls == 0);
  CHECK(std::equal(conv_out.begin(), conv_out.end(), fused_conv.begin(), fused_conv.end()));
  CHECK(std::equal(bn.begin(), bn.end(), fused_bn.begin(), fused_bn.end()));
  // Neither is the ReLU's output: both have negative values.
  CHECK(*std::min_element(bn.begin(), bn.end()) < 0.0);
  CHECK(*std::min_element(conv_out.begin(), conv_out.end()) < 0.0);
  // The ReLU's output (the chain's tail) and the model's are one fused call per batch.
  const Tensor<double> relu = model.layer_output(x, 2, 5);
  CHECK(counter.fused_calls == 1);
  model.predict(x, 2);  // 3 batches
  CHECK(counter.fused_calls == 4);
  CHECK(std::all_of(relu.begin(), relu.end(), [](double v) { return v >= 0.0; }));
}

TEST_CASE("A chain stops at a vertex read by two layers") {
  Model<double> model;
  const Node input = model.input({2, 5, 5});
  // conv -> bn, whose output two ReLUs read: conv and bn fuse, neither ReLU joins them.
  Node a = model.add<Conv2D>(input, 3, 3, 1, Padding::same);
  a = model.add<BatchNorm>(a);
  const Node left = model.add<ReLU>(a), right = model.add<ReLU>(a, 1.0);
  // conv_1, read by a BatchNorm and by the Add: nothing fuses with it.
  Node b = model.add<Conv2D>(input, 3, 3, 1, Padding::same);
  const Node b_bn = model.add<BatchNorm>(b);
  const Node sum = model.add<Add>({left, right, b, b_bn});
  model.build(sum, 21);
  randomize_maps(model, 22);
  CHECK(chain_of(model, "conv2d") == "conv2d > batch_normalization");
  CHECK_FALSE(in_a_chain(model, "re_lu"));
  CHECK_FALSE(in_a_chain(model, "re_lu_1"));
  CHECK(chain_of(model, "conv2d_1").empty());
  CHECK_FALSE(in_a_chain(model, "batch_normalization_1"));
  const Tensor<double> x = uniform<double>({3, 2, 5, 5}, 23);
  const auto [fused, unfused] = fused_and_unfused(model, x);
  CHECK(relative_difference(fused, unfused) <= 1e-12);
}

TEST_CASE("The fold follows the parameters: training between two predictions") {
  auto model = conv_bn_relu<float>();
  model.set_loss(std::make_unique<MeanSquaredError<float>>());
  const Tensor<float> x = uniform<float>({8, 2, 6, 6}, 31);
  const Tensor<float> y = uniform<float>({8, 3}, 32);
  const Tensor<float> before = model.predict(x);
  SGD<float> sgd(0.1);
  for (int step = 0; step < 3; ++step)
    model.train_on_batch(x, y, sgd);  // changes the kernel, gamma, beta and the moving statistics
  const auto [fused, unfused] = fused_and_unfused(model, x);
  CHECK(relative_difference(fused, unfused) <= 1e-5);
  CHECK(relative_difference(fused, before) > 1e-3);
  // And a moving statistic set by hand: the next prediction reads it.
  model.layer("batch_normalization").parameters()[2]->value.fill(5.0f);
  const auto [fused_after, unfused_after] = fused_and_unfused(model, x);
  CHECK(relative_difference(fused_after, unfused_after) <= 1e-5);
  CHECK(relative_difference(fused_after, fused) > 1e-3);
}

TEST_CASE("ResNet-18: each BatchNorm folds into its convolution; a ReLU after an Add does not") {
  auto model = resnet18<float>(10, false, {3, 32, 32}, 41);
  randomize_maps(model, 42);
  CHECK(chain_of(model, "conv1") == "conv1 > bn1 > relu");
  CHECK(chain_of(model, "layer1.0.conv1") == "layer1.0.conv1 > layer1.0.bn1 > layer1.0.relu1");
  // bn2 feeds the Add: it folds, and the ReLU after the Add stays a layer of its own.
  CHECK(chain_of(model, "layer1.0.conv2") == "layer1.0.conv2 > layer1.0.bn2");
  CHECK(chain_of(model, "layer2.0.downsample.0") ==
        "layer2.0.downsample.0 > layer2.0.downsample.1");
  CHECK_FALSE(in_a_chain(model, "layer1.0.relu2"));
  // The stem's convolution, 16 in the blocks and 3 in the shortcuts.
  CHECK(model.graph().fused_chains().size() == 20);
  const Tensor<float> x = uniform<float>({2, 3, 32, 32}, 43);
  const auto [fused, unfused] = fused_and_unfused(model, x);
  CHECK(relative_difference(fused, unfused) <= 1e-5);
}

TEST_CASE("MobileNetV2: a convolution's and a depthwise step's BatchNorm and ReLU6 fold into it") {
  auto model = mobilenet_v2<float>(10, false, {3, 32, 32}, 51);
  randomize_maps(model, 52);
  CHECK(chain_of(model, "features.0.0") == "features.0.0 > features.0.1 > features.0.2");
  CHECK(chain_of(model, "features.2.conv.2") == "features.2.conv.2 > features.2.conv.3");
  // The depthwise step's BatchNorm and ReLU6 fold into DepthwiseConv2D's direct kernel.
  CHECK(chain_of(model, "features.2.conv.1.0") ==
        "features.2.conv.1.0 > features.2.conv.1.1 > features.2.conv.1.2");
  const Tensor<float> x = uniform<float>({2, 3, 32, 32}, 53, -3.0, 3.0);
  // ReLU6 caps some values of the stem: the clamp's top is exercised.
  const Tensor<float> stem = model.layer_output(x, layer_index(model, "features.0.2"));
  CHECK(std::count(stem.begin(), stem.end(), 6.0f) > 0);
  const auto [fused, unfused] = fused_and_unfused(model, x);
  CHECK(relative_difference(fused, unfused) <= 1e-5);
}

TEST_CASE("Fused inference gives the same numbers on 1 and 2 threads, and from threads at once") {
  auto model = conv_bn_relu<float>(6.0);
  const Tensor<float> x = uniform<float>({16, 2, 6, 6}, 61, -4.0, 4.0);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Tensor<float> one = model.predict(x);
  omp_set_num_threads(2);
  const Tensor<float> two = model.predict(x);
  omp_set_num_threads(threads);
  CHECK(std::equal(one.begin(), one.end(), two.begin(), two.end()));
  std::vector<Tensor<float>> results(3);
  std::vector<std::thread> workers;
  for (auto& result : results)
    workers.emplace_back([&] { result = model.predict(x, 4); });
  for (auto& worker : workers)
    worker.join();
  for (const auto& result : results)
    CHECK(std::equal(result.begin(), result.end(), one.begin(), one.end()));
}
