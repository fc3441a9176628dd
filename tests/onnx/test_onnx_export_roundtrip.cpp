// Export then import: save_onnx's file, read back by load_onnx (include/minicnn/onnx/import.hpp),
// is a model whose predict() gives the exported model's outputs bit for bit. Where the importer
// refuses a node the exporter writes, the test requires that refusal by its message and prints it
// (docs/onnx-export.md lists them).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "minicnn/onnx/export.hpp"
#include "minicnn/onnx/import.hpp"
#include "onnx/export_models.hpp"

using namespace minicnn;

namespace {

// `gap`: the text of a known refusal by the importer, or "" when the round trip must work.
void check_round_trip(const std::string& name, const char* gap = "") {
  for (const export_test::ExportCase& c : export_test::export_cases()) {
    if (c.name != name) continue;
    const Model<float> model = c.build();
    const std::string path =
        (std::filesystem::temp_directory_path() /
         ("minicnn_test_onnx_export_roundtrip_" + std::to_string(::getpid()) + ".onnx"))
            .string();
    save_onnx(model, path);
    std::string error;
    try {
      const Model<float> imported = load_onnx(path);
      const Tensor<float> x = export_test::test_input(model, 2);
      const Tensor<float> expected = model.predict(x);
      const Tensor<float> actual = imported.predict(x);
      std::remove(path.c_str());
      REQUIRE(actual.shape() == expected.shape());
      Index differing = 0;
      for (Index i = 0; i < actual.size(); ++i)
        differing += std::memcmp(&actual[i], &expected[i], sizeof(float)) != 0;
      const double difference = export_test::relative_difference(
          std::vector<float>(actual.begin(), actual.end()), expected);
      MESSAGE(name, ": ", differing, " of ", actual.size(),
              " outputs differ after the round trip; max |difference| / max |output| ", difference);
      CHECK(differing == 0);
      CHECK(*gap == '\0');
      return;
    } catch (const Error& e) {
      error = e.what();
    }
    std::remove(path.c_str());
    INFO("load_onnx: ", error);
    REQUIRE(*gap != '\0');
    REQUIRE(error.find(gap) != std::string::npos);
    MESSAGE(name, ": the importer refuses the exported file (a known gap): ", error);
    return;
  }
  FAIL("no export case named ", name);
}

}  // namespace

TEST_CASE("Round trip, bit for bit: mnist_model1") {
  check_round_trip("mnist_model1");
}
TEST_CASE("Round trip, bit for bit: mnist_model4") {
  check_round_trip("mnist_model4");
}
TEST_CASE("Round trip, bit for bit: lenet5") {
  check_round_trip("lenet5");
}
TEST_CASE("Round trip, bit for bit: cifar10_basic") {
  check_round_trip("cifar10_basic");
}
TEST_CASE("Round trip, bit for bit: cifar100_coarse_first") {
  check_round_trip("cifar100_coarse_first");
}
TEST_CASE("Round trip, bit for bit: ResNet-18") {
  check_round_trip("resnet18 (3, 64, 64)");
}
TEST_CASE("Round trip, bit for bit: MobileNetV2") {
  check_round_trip("mobilenet_v2 (3, 64, 64)");
}
TEST_CASE("Round trip, bit for bit: every layer kind") {
  check_round_trip("every_layer");
}
