// Models exported by save_onnx run in ONNX Runtime (npm onnxruntime-node 1.20.1, CPU, run by
// tools/ort/run_onnx.js under Node) and give minicnn's predict() outputs within 1e-5 relative
// (export_models.hpp's relative_difference): the five reference models, a ResNet-18 and a graph of
// every layer kind; and a model imported (load_onnx), fine-tuned and exported again.
// tests/onnx/CMakeLists.txt installs the package into the build tree.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "minicnn/onnx/export.hpp"
#include "minicnn/onnx/import.hpp"
#include "onnx/export_models.hpp"

using namespace minicnn;

namespace {

#ifndef MINICNN_NODE
#define MINICNN_NODE ""
#define MINICNN_ORT_MODULES ""
#define MINICNN_ORT_SCRIPT ""
#endif

// Runs `command`, returns its exit status and puts its stdout and stderr in `output`.
int run(const std::string& command, std::string& output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  std::size_t read;
  while ((read = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    output.append(buffer, read);
  return ::pclose(pipe);
}

// ONNX Runtime's output for `x` on the exported file of `model`.
std::vector<float> onnx_runtime(const Model<float>& model, const Tensor<float>& x,
                                const std::string& stem) {
  REQUIRE_MESSAGE(std::string(MINICNN_NODE) != "",
                  "node and npm were not found when CMake ran (Debian: nodejs npm); "
                  "scripts/test.sh installs them");
  const auto directory = std::filesystem::temp_directory_path() /
                         ("minicnn_test_onnx_export_runtime_" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const std::string file = (directory / (stem + ".onnx")).string();
  const std::string input = (directory / (stem + ".in.f32")).string();
  const std::string result = (directory / (stem + ".out.f32")).string();
  save_onnx(model, file);
  export_test::write_floats(input, x);
  std::string dims;
  for (Index d = 0; d < x.shape().rank(); ++d)
    dims += (d ? "," : "") + std::to_string(x.dim(d));
  const std::string command = std::string("NODE_PATH='") + MINICNN_ORT_MODULES + "' '" +
                              MINICNN_NODE + "' '" + MINICNN_ORT_SCRIPT + "' '" + file + "' '" +
                              input + "' " + dims + " '" + result + "'";
  std::string output;
  const int status = run(command, output);
  INFO("command: ", command, "\noutput: ", output);
  REQUIRE(status == 0);
  std::vector<float> values = export_test::read_floats(result);
  std::filesystem::remove_all(directory);
  return values;
}

void check_case(const std::string& name) {
  for (const export_test::ExportCase& c : export_test::export_cases()) {
    if (c.name != name) continue;
    const Model<float> model = c.build();
    const Tensor<float> x = export_test::test_input(model, 2);
    const Tensor<float> expected = model.predict(x);
    std::string stem = name.substr(0, name.find(' '));
    const std::vector<float> actual = onnx_runtime(model, x, stem);
    REQUIRE(actual.size() == static_cast<std::size_t>(expected.size()));
    const double difference = export_test::relative_difference(actual, expected);
    MESSAGE(name, ": ONNX Runtime against minicnn: max |difference| / max |output| ", difference,
            ", element by element ", export_test::elementwise_difference(actual, expected));
    CHECK(difference <= 1e-5);
    return;
  }
  FAIL("no export case named ", name);
}

}  // namespace

TEST_CASE("ONNX Runtime runs the exported mnist_model1 as minicnn does") {
  check_case("mnist_model1");
}
TEST_CASE("ONNX Runtime runs the exported mnist_model4 as minicnn does") {
  check_case("mnist_model4");
}
TEST_CASE("ONNX Runtime runs the exported lenet5 as minicnn does") {
  check_case("lenet5");
}
TEST_CASE("ONNX Runtime runs the exported cifar10_basic as minicnn does") {
  check_case("cifar10_basic");
}
TEST_CASE("ONNX Runtime runs the exported cifar100_coarse_first as minicnn does") {
  check_case("cifar100_coarse_first");
}
TEST_CASE("ONNX Runtime runs the exported ResNet-18 as minicnn does") {
  check_case("resnet18 (3, 64, 64)");
}
TEST_CASE("ONNX Runtime runs the exported MobileNetV2 as minicnn does") {
  check_case("mobilenet_v2 (3, 64, 64)");
}
TEST_CASE("ONNX Runtime runs every exported layer kind as minicnn does") {
  check_case("every_layer");
}
TEST_CASE("ONNX Runtime runs every exported layer kind but ReLU6 as minicnn does") {
  check_case("every_layer without ReLU6");
}

TEST_CASE("A model imported, fine-tuned for a few steps and exported again runs in ONNX Runtime") {
  const Model<float> original = export_test::every_layer_model();
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("minicnn_test_onnx_export_runtime_tuned_" + std::to_string(::getpid()) + ".onnx"))
          .string();
  save_onnx(original, path);
  Model<float> model = load_onnx(path, /*seed=*/3);
  std::remove(path.c_str());
  // Three Adam steps on random images and labels: every weight and moving statistic moves.
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  Adam<float> adam(0.01);
  const Tensor<float> x = export_test::test_input(model, 8, 21);
  Tensor<float> y({8});
  for (Index n = 0; n < 8; ++n)
    y[n] = static_cast<float>(n % 10);
  const Tensor<float> before = model.predict(x);
  for (int step = 0; step < 3; ++step)
    model.train_on_batch(x, y, adam);
  const Tensor<float> after = model.predict(x);
  CHECK(export_test::relative_difference(std::vector<float>(after.begin(), after.end()), before) >
        1e-3);

  const Tensor<float> probe = export_test::test_input(model, 2);
  const Tensor<float> expected = model.predict(probe);
  const std::vector<float> actual = onnx_runtime(model, probe, "tuned");
  REQUIRE(actual.size() == static_cast<std::size_t>(expected.size()));
  const double difference = export_test::relative_difference(actual, expected);
  MESSAGE(
      "imported, fine-tuned, exported: ONNX Runtime against minicnn: max |difference| / "
      "max |output| ",
      difference);
  CHECK(difference <= 1e-5);
}
