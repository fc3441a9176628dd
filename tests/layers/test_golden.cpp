// Golden tests: every layer, loss and optimizer of minicnn against PyTorch.
//
// tools/make_golden.py runs PyTorch in float64 on small float32-exact inputs, with PyTorch set to
// our (Keras's) conventions, and stores inputs, parameters, outputs and gradients in
// tests/golden/*.bin. Here our layers run in float on the same inputs and must match every
// forward output, input gradient and parameter gradient within 1e-5 relative (the comparison rule
// is in support/golden.hpp). For layers the upstream gradient is a stored random r: the
// reference gradients are those of sum(y * r).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/avg_pool2d.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/depthwise_conv2d.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "minicnn/layers/separable_conv2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/layers/zero_padding2d.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/losses/mean_squared_error.hpp"
#include "minicnn/optimizers/adam.hpp"
#include "minicnn/optimizers/rmsprop.hpp"
#include "minicnn/optimizers/sgd.hpp"
#include "support/golden.hpp"

using namespace minicnn;
using testing::GoldenFile;

namespace {

GoldenFile golden(const std::string& name) {
  return GoldenFile::load(std::string(MINICNN_GOLDEN_DIR) + "/" + name + ".bin");
}

// Checks our result against the reference tensor `name` of `file`, reporting the worst element.
template <typename T>
void check_close(const GoldenFile& file, const std::string& name, const Tensor<T>& actual) {
  const auto comparison = testing::compare_golden(file.path() + " " + name, actual, file.get(name));
  INFO(comparison.report);
  CHECK(comparison.passed);
}

// The golden test of a layer without state: set its parameters from the file, forward x in
// training mode, backward r, compare y, dx and every trainable parameter's gradient.
void check_layer(Layer<float>& layer, const std::string& name) {
  CAPTURE(name);
  const GoldenFile file = golden(name);
  const Tensor<float> x = file.as<float>("x");
  Random random(1);
  layer.build(x.shape().sample(), random);
  Index gradients = 0;
  for (Parameter<float>* p : layer.parameters()) {
    const Tensor<double>& stored = file.get(p->name);  // every parameter is in the file
    REQUIRE(stored.shape() == p->value.shape());
    p->value = file.as<float>(p->name);
    if (p->trainable) p->grad.set_zero();
    gradients += p->trainable ? 1 : 0;
  }
  Index stored_gradients = 0;  // and the file has no parameter the layer lacks
  for (const std::string& stored : file.names())
    stored_gradients += stored.rfind("grad/", 0) == 0 ? 1 : 0;
  CHECK(stored_gradients == gradients);

  Tensor<float> y, dx;
  layer.forward(x, y, Mode::training);
  check_close(file, "y", y);
  layer.backward(x, y, file.as<float>("r"), dx, Mode::training);
  check_close(file, "dx", dx);
  for (Parameter<float>* p : layer.parameters())
    if (p->trainable) check_close(file, "grad/" + p->name, p->grad);
}

// Writes `bytes` to a file in the temporary directory and returns its path.
std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// The bytes of a golden file with one tensor of the given rank and dims, and `values` doubles.
std::string one_tensor(const std::string& name, std::uint32_t rank,
                       std::initializer_list<std::int64_t> dims, int values) {
  std::string bytes = "MCGOLD01";
  auto put = [&bytes](std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      bytes += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(1, 4);
  put(name.size(), 4);
  bytes += name;
  put(rank, 4);
  for (std::int64_t d : dims)
    put(static_cast<std::uint64_t>(d), 8);
  for (int i = 0; i < values; ++i)
    put(0x3ff0000000000000ull, 8);  // 1.0
  return bytes;
}

}  // namespace

// --- The reader and the comparison: they must be able to fail. ------------------------------

TEST_CASE("A golden file reads back its tensors") {
  const auto path = write_file("minicnn_golden_ok.bin", one_tensor("w", 2, {2, 3}, 6));
  const GoldenFile file = GoldenFile::load(path);
  CHECK(file.names() == std::vector<std::string>{"w"});
  CHECK(file.get("w").shape() == Shape{2, 3});
  CHECK(file.as<float>("w")[5] == 1.0f);
  CHECK_THROWS_WITH_AS(file.get("v"), ("golden file '" + path + "': no tensor named 'v'").c_str(),
                       Error);
  CHECK_THROWS_WITH_AS(
      file.scalar("w"),
      ("golden file '" + path + "': expected 'w' to be a scalar, got shape (2, 3)").c_str(), Error);
  std::remove(path.c_str());
  CHECK(GoldenFile::parse("s", one_tensor("s", 0, {}, 1)).scalar("s") == 1.0);
  CHECK(GoldenFile::parse("e", one_tensor("e", 2, {0, 4}, 0)).get("e").size() == 0);
}

TEST_CASE("A malformed golden file is refused with a clear message") {
  CHECK_THROWS_WITH_AS(GoldenFile::load("no_such_golden.bin"),
                       "golden file 'no_such_golden.bin': cannot open it", Error);
  CHECK_THROWS_WITH_AS(GoldenFile::parse("f", "MCGOLD02\1\0\0\0"),
                       "golden file 'f': expected magic \"MCGOLD01\", got \"MCGOLD02\"", Error);
  CHECK_THROWS_WITH_AS(GoldenFile::parse("f", "MCG"),
                       "golden file 'f': expected magic \"MCGOLD01\", got \"MCG\"", Error);
  CHECK_THROWS_WITH_AS(GoldenFile::parse("f", std::string("MCGOLD01\1\0", 10)),
                       "golden file 'f': truncated at byte 8 reading the tensor count "
                       "(4 bytes needed, 2 left)",
                       Error);
  const std::string good = one_tensor("w", 2, {2, 3}, 6);
  CHECK_THROWS_WITH_AS(GoldenFile::parse("f", good.substr(0, 14)),
                       "golden file 'f': truncated at byte 12 reading a name length "
                       "(4 bytes needed, 2 left)",
                       Error);
  CHECK_THROWS_WITH_AS(GoldenFile::parse("f", good.substr(0, good.size() - 8)),
                       "golden file 'f': truncated: tensor 'w' of shape (2, 3) does not fit in the "
                       "40 bytes left at byte 37",
                       Error);
  CHECK_THROWS_WITH_AS(GoldenFile::parse("f", one_tensor("w", 1, {1LL << 62}, 1)),
                       "golden file 'f': truncated: tensor 'w' of shape (4611686018427387904) "
                       "does not fit in the 8 bytes left at byte 29",
                       Error);
  CHECK_THROWS_WITH_AS(GoldenFile::parse("f", good + "x"),
                       "golden file 'f': expected the end of the file after 1 tensors, got 1 "
                       "more bytes",
                       Error);
  CHECK_THROWS_WITH_AS(GoldenFile::parse("f", one_tensor("w", 5, {1, 1, 1, 1, 1}, 1)),
                       "golden file 'f': tensor 'w': expected rank <= 4, got 5", Error);
  CHECK_THROWS_WITH_AS(GoldenFile::parse("f", one_tensor("w", 1, {-2}, 0)),
                       "golden file 'f': tensor 'w': expected extents >= 0, got -2", Error);
  std::string twice = one_tensor("w", 0, {}, 1);
  twice[8] = 2;  // count 2, then the same tensor again
  twice += twice.substr(12);
  CHECK_THROWS_WITH_AS(GoldenFile::parse("f", twice), "golden file 'f': tensor 'w' appears twice",
                       Error);
}

TEST_CASE("The golden comparison is relative, floored at a hundredth of the largest value") {
  const auto expected = Tensor<double>::of({4}, {100.0, -1.0, 0.01, 0.0});
  auto actual = Tensor<float>::of({4}, {100.0f, -1.0f, 0.01f, 0.0f});
  CHECK(testing::compare_golden("t", actual, expected).passed);
  actual[1] = -1.0f + 2e-5f;  // 2e-5 relative on -1: too far
  auto comparison = testing::compare_golden("t", actual, expected);
  CHECK_FALSE(comparison.passed);
  CHECK(comparison.report ==
        "t: worst element [1] of shape (4): got -0.999979973, expected -1: 2.00271606 times the "
        "allowed difference 1e-05 * max(|expected|, 1)");
  actual[1] = -1.0f;
  actual[3] = 5e-6f;  // the floor is 1, so 5e-6 is within 1e-5 * 1 of 0
  CHECK(testing::compare_golden("t", actual, expected).passed);
  actual[3] = 2e-5f;
  CHECK_FALSE(testing::compare_golden("t", actual, expected).passed);
  actual[3] = std::numeric_limits<float>::quiet_NaN();
  CHECK_FALSE(testing::compare_golden("t", actual, expected).passed);
  CHECK(testing::compare_golden("t", Tensor<float>({2, 2}), expected).report ==
        "t: expected shape (4), got (2, 2)");
}

// --- Layers -----------------------------------------------------------------------------------

TEST_CASE("Dense matches PyTorch's Linear (kernel = weight transposed)") {
  Dense<float> with_bias(4);
  check_layer(with_bias, "dense_bias");
  Dense<float> without_bias(3, false);
  check_layer(without_bias, "dense_nobias");
}

TEST_CASE("Conv2D matches PyTorch's conv2d (Keras 'same' as an explicit asymmetric pad)") {
  Conv2D<float> valid_s1(3, 3);
  check_layer(valid_s1, "conv2d_valid_s1_k3");
  Conv2D<float> valid_s2(2, Size2(3, 2), 2);
  check_layer(valid_s2, "conv2d_valid_s2_k3x2");
  Conv2D<float> same_s1(2, 3, 1, Padding::same);
  check_layer(same_s1, "conv2d_same_s1_k3");
  Conv2D<float> same_s2_no_bias(4, Size2(2, 3), 2, Padding::same, false);
  check_layer(same_s2_no_bias, "conv2d_same_s2_k2x3_nobias");
  Conv2D<float> same_s2x1(2, 4, Size2(2, 1), Padding::same);
  check_layer(same_s2x1, "conv2d_same_s2x1_k4");
}

TEST_CASE("Conv2D with explicit pads and dilation matches PyTorch's conv2d") {
  Conv2D<float> resnet_stem(4, 7, 2, Pads(3));  // PyTorch's Conv2d(3, 4, 7, stride=2, padding=3)
  check_layer(resnet_stem, "conv2d_pads3_s2_k7");
  Conv2D<float> dilated(3, 3, {1, 2}, Pads(2, 1, 0, 3), true, Initializer::glorot_uniform, {2, 3});
  check_layer(dilated, "conv2d_pads2103_d2x3_k3");
  Conv2D<float> dilated_same(3, 3, 2, Padding::same, false, Initializer::glorot_uniform, 2);
  check_layer(dilated_same, "conv2d_same_s2_d2_k3_nobias");
}

TEST_CASE("MaxPool2D matches PyTorch's max_pool2d ('same' pads with -inf)") {
  MaxPool2D<float> valid_p2_s2(2);
  check_layer(valid_p2_s2, "max_pool2d_valid_p2_s2");
  MaxPool2D<float> valid_p3_s1(3, 1);
  check_layer(valid_p3_s1, "max_pool2d_valid_p3_s1");
  MaxPool2D<float> same_p2_s2(2, 2, Padding::same);
  check_layer(same_p2_s2, "max_pool2d_same_p2_s2");
  MaxPool2D<float> same_p3_s1(3, 1, Padding::same);
  check_layer(same_p3_s1, "max_pool2d_same_p3_s1");
  MaxPool2D<float> same_p3x2_s2x1(Size2(3, 2), Size2(2, 1), Padding::same);
  check_layer(same_p3x2_s2x1, "max_pool2d_same_p3x2_s2x1");
}

TEST_CASE("AvgPool2D matches PyTorch's avg_pool2d ('same' averages in-bounds elements only)") {
  AvgPool2D<float> valid_p2_s2(2);
  check_layer(valid_p2_s2, "avg_pool2d_valid_p2_s2");
  AvgPool2D<float> valid_p3_s1(3, 1);
  check_layer(valid_p3_s1, "avg_pool2d_valid_p3_s1");
  AvgPool2D<float> same_p2_s2(2, 2, Padding::same);
  check_layer(same_p2_s2, "avg_pool2d_same_p2_s2");
  AvgPool2D<float> same_p3_s1(3, 1, Padding::same);
  check_layer(same_p3_s1, "avg_pool2d_same_p3_s1");
  AvgPool2D<float> same_p3x2_s2x1(Size2(3, 2), Size2(2, 1), Padding::same);
  check_layer(same_p3x2_s2x1, "avg_pool2d_same_p3x2_s2x1");
}

TEST_CASE("GlobalAveragePooling2D matches PyTorch's mean over H and W") {
  GlobalAveragePooling2D<float> pooling;
  check_layer(pooling, "global_average_pooling2d");
}

TEST_CASE("Activations, Softmax and Flatten match PyTorch") {
  ReLU<float> relu;
  check_layer(relu, "relu");
  LeakyReLU<float> leaky_relu;  // Keras's default slope 0.3
  check_layer(leaky_relu, "leaky_relu");
  Tanh<float> tanh_layer;
  check_layer(tanh_layer, "tanh");
  Sigmoid<float> sigmoid;
  check_layer(sigmoid, "sigmoid");
  Softmax<float> softmax;
  check_layer(softmax, "softmax");
  Flatten<float> flatten;
  check_layer(flatten, "flatten");
}

TEST_CASE("DepthwiseConv2D matches PyTorch's conv2d with groups = C (same, pads, dilation)") {
  DepthwiseConv2D<float> valid_s1(3);
  check_layer(valid_s1, "depthwise_conv2d_valid_s1_k3");
  DepthwiseConv2D<float> same_s2_m2(3, 2, Padding::same, 2);
  check_layer(same_s2_m2, "depthwise_conv2d_same_s2_m2");
  DepthwiseConv2D<float> pads_dilated({2, 3}, {1, 2}, Pads(1, 2, 0, 1), 3, false, {2, 1});
  check_layer(pads_dilated, "depthwise_conv2d_pads_d2x1_m3_nobias");
}

TEST_CASE("SeparableConv2D matches PyTorch's grouped conv2d then a 1x1 conv2d") {
  SeparableConv2D<float> same_s1(4, 3, 1, Padding::same);
  check_layer(same_s1, "separable_conv2d_same_s1_k3");
  SeparableConv2D<float> valid_s2_m2(3, {3, 2}, 2, Padding::valid, 2, false);
  check_layer(valid_s2_m2, "separable_conv2d_valid_s2_m2_nobias");
}

TEST_CASE("ZeroPadding2D matches F.pad; ReLU(max_value = 6) matches clamp(x, 0, 6)") {
  ZeroPadding2D<float> padding(Pads(1, 2, 0, 3));
  check_layer(padding, "zero_padding2d");
  ReLU<float> relu6(6.0);
  check_layer(relu6, "relu6");
}

TEST_CASE("Dropout is the identity in inference mode, as PyTorch's in eval()") {
  const GoldenFile file = golden("dropout_inference");
  Dropout<float> dropout(0.5);
  Random random(1);
  const Tensor<float> x = file.as<float>("x");
  dropout.build(x.shape().sample(), random);
  Tensor<float> y;
  dropout.forward(x, y, Mode::inference);
  check_close(file, "y", y);
  CHECK(std::equal(x.begin(), x.end(), y.begin(), y.end()));
}

// Training-mode forwards of x1 then x, backward of the second, the moving statistics after the
// two, then an inference-mode forward of x_eval with them.
TEST_CASE("BatchNorm matches PyTorch's BatchNorm1d/2d (momentum = 1 - PyTorch's, eps 1e-3)") {
  for (const std::string name : {"batch_norm_2d", "batch_norm_4d"}) {
    CAPTURE(name);
    const GoldenFile file = golden(name);
    BatchNorm<float> layer(file.scalar("momentum"), file.scalar("epsilon"));
    const Tensor<float> x1 = file.as<float>("x1"), x = file.as<float>("x");
    Random random(1);
    layer.build(x.shape().sample(), random);
    auto parameters = layer.parameters();  // gamma, beta, moving_mean, moving_variance
    REQUIRE(parameters.size() == 4);
    parameters[0]->value = file.as<float>("gamma");
    parameters[1]->value = file.as<float>("beta");
    Tensor<float> y, dx;
    layer.forward(x1, y, Mode::training);
    check_close(file, "y1", y);
    layer.forward(x, y, Mode::training);
    check_close(file, "y", y);
    layer.backward(x, y, file.as<float>("r"), dx, Mode::training);
    check_close(file, "dx", dx);
    check_close(file, "grad/gamma", parameters[0]->grad);
    check_close(file, "grad/beta", parameters[1]->grad);
    check_close(file, "moving_mean", parameters[2]->value);
    check_close(file, "moving_variance", parameters[3]->value);
    layer.forward(file.as<float>("x_eval"), y, Mode::inference);
    check_close(file, "y_eval", y);
  }
}

// --- Losses -----------------------------------------------------------------------------------

namespace {

// The mean loss and its gradient for the stored prediction and target.
void check_loss(const Loss<float>& loss, const std::string& name) {
  CAPTURE(name);
  const GoldenFile file = golden(name);
  Tensor<float> gradient;
  const float value =
      loss.compute(file.as<float>("prediction"), file.as<float>("target"), &gradient);
  check_close(file, "loss", Tensor<float>(Shape{}, value));
  check_close(file, "gradient", gradient);
}

}  // namespace

TEST_CASE("Cross-entropies match PyTorch, from logits and from clipped probabilities") {
  // The probability files hold one probability of 1e-9 at its sample's label: below the floor
  // 1e-7, so its loss is -log(1e-7) and its gradient 0.
  check_loss(SparseCategoricalCrossentropy<float>(true), "sparse_categorical_crossentropy_logits");
  check_loss(SparseCategoricalCrossentropy<float>(false),
             "sparse_categorical_crossentropy_probabilities");
  check_loss(CategoricalCrossentropy<float>(true), "categorical_crossentropy_logits");
  check_loss(CategoricalCrossentropy<float>(false), "categorical_crossentropy_probabilities");
}

TEST_CASE("MeanSquaredError matches PyTorch's mse_loss (mean of all N K terms)") {
  check_loss(MeanSquaredError<float>(), "mean_squared_error");
}

// --- Optimizers -------------------------------------------------------------------------------

namespace {

// Three steps on two parameters, (3, 4) and (5), each with its stored gradient; the parameters
// are compared after every step.
void check_optimizer(Optimizer<float>& optimizer, const std::string& name) {
  CAPTURE(name);
  const GoldenFile file = golden(name);
  Parameter<float> first("param0", file.get("param0").shape());
  Parameter<float> second("param1", file.get("param1").shape());
  first.value = file.as<float>("param0");
  second.value = file.as<float>("param1");
  const std::vector<Parameter<float>*> parameters{&first, &second};
  for (int step = 1; step <= 3; ++step) {
    const std::string prefix = "step" + std::to_string(step) + "/";
    first.grad = file.as<float>(prefix + "grad0");
    second.grad = file.as<float>(prefix + "grad1");
    optimizer.step(parameters);
    check_close(file, prefix + "param0", first.value);
    check_close(file, prefix + "param1", second.value);
  }
}

}  // namespace

TEST_CASE("SGD matches PyTorch's: plain, momentum, Nesterov with weight decay") {
  SGD<float> plain(0.1);
  check_optimizer(plain, "optimizer_sgd");
  SGD<float> momentum(0.1, 0.9);
  check_optimizer(momentum, "optimizer_sgd_momentum");
  SGD<float> nesterov(0.1, 0.9, true, 0.01);
  check_optimizer(nesterov, "optimizer_sgd_nesterov_weight_decay");
}

TEST_CASE("Adam matches PyTorch's (epsilon 1e-7; the epsilon placements differ by ~1e-8)") {
  Adam<float> adam(1e-3, 0.9, 0.999, 1e-7);
  check_optimizer(adam, "optimizer_adam");
}

TEST_CASE(
    "RMSprop matches PyTorch's (rho = PyTorch's alpha, epsilon 1e-7), with and without "
    "momentum") {
  RMSprop<float> plain(1e-2, 0.9, 0.0, 1e-7);
  check_optimizer(plain, "optimizer_rmsprop");
  RMSprop<float> momentum(1e-2, 0.9, 0.9, 1e-7);
  check_optimizer(momentum, "optimizer_rmsprop_momentum");
}
