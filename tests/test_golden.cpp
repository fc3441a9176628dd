// Golden tests: every layer, loss and optimizer of minicnn against PyTorch.
//
// tools/make_golden.py runs PyTorch in float64 on small float32-exact inputs, with PyTorch set to
// our (Keras's) conventions, and stores inputs, parameters, outputs and gradients in
// tests/golden/*.bin. Here our layers run in float on the same inputs and must match every
// forward output, input gradient and parameter gradient within 1e-5 relative (the comparison rule
// is in support/golden.hpp). For layers the upstream gradient is a stored random r: the
// reference gradients are those of sum(y * r).
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/avg_pool2d.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "minicnn/layers/softmax.hpp"
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
  layer.backward(x, y, file.as<float>("r"), dx);
  check_close(file, "dx", dx);
  for (Parameter<float>* p : layer.parameters())
    if (p->trainable) check_close(file, "grad/" + p->name, p->grad);
}

// Writes `bytes` to a file in the build's working directory and returns its path.
std::string write_file(const std::string& name, const std::string& bytes) {
  std::ofstream(name, std::ios::binary) << bytes;
  return name;
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
  const auto path = write_file("golden_ok.bin", one_tensor("w", 2, {2, 3}, 6));
  const GoldenFile file = GoldenFile::load(path);
  CHECK(file.names() == std::vector<std::string>{"w"});
  CHECK(file.get("w").shape() == Shape{2, 3});
  CHECK(file.as<float>("w")[5] == 1.0f);
  CHECK_THROWS_WITH_AS(file.get("v"), "golden file 'golden_ok.bin': no tensor named 'v'", Error);
  CHECK_THROWS_WITH_AS(file.scalar("w"),
                       "golden file 'golden_ok.bin': expected 'w' to be a scalar, got shape (2, 3)",
                       Error);
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

TEST_CASE("The golden comparison is relative, floored at a thousandth of the largest value") {
  const auto expected = Tensor<double>::of({4}, {100.0, -1.0, 0.01, 0.0});
  auto actual = Tensor<float>::of({4}, {100.0f, -1.0f, 0.01f, 0.0f});
  CHECK(testing::compare_golden("t", actual, expected).passed);
  actual[1] = -1.0f + 2e-5f;  // 2e-5 relative on -1: too far
  auto comparison = testing::compare_golden("t", actual, expected);
  CHECK_FALSE(comparison.passed);
  CHECK(comparison.report ==
        "t: worst element [1] of shape (4): got -0.999979973, expected -1: 2.00271606 times the "
        "allowed difference 1e-05 * max(|expected|, 0.1)");
  actual[1] = -1.0f;
  actual[3] = 5e-7f;  // the floor is 0.1, so 5e-7 is within 1e-5 * 0.1 of 0
  CHECK(testing::compare_golden("t", actual, expected).passed);
  actual[3] = 2e-6f;
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
