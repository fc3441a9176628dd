// load_onnx against PyTorch on torchvision's ResNet-18 and MobileNetV2 (random weights, 1000
// classes): too large to commit (about 45 MB and 14 MB), so the test run regenerates them with
// tools/make_onnx_models.py --large into the build tree (the CTest fixture onnx_large_models,
// tests/onnx/CMakeLists.txt; needs Debian's python3-torch and python3-torchvision). Each is
// exported with BatchNorm folded (eval) and kept (preserve); imported, its output on a fixed
// 2 x 3 x 64 x 64 input matches PyTorch's within 1e-4 relative.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "minicnn/onnx/import.hpp"
#include "support/golden.hpp"

using namespace minicnn;

namespace {

void check_against_pytorch(const std::string& stem, Index batch_norms) {
  CAPTURE(stem);
  const std::string dir = MINICNN_ONNX_LARGE_DIR "/";
  REQUIRE_MESSAGE(std::filesystem::exists(dir + stem + ".onnx"),
                  "run: /usr/bin/python3 tools/make_onnx_models.py --large --out " << dir);
  const Model<float> model = load_onnx(dir + stem + ".onnx");
  const testing::GoldenFile golden = testing::GoldenFile::load(dir + stem + ".bin");
  const testing::GoldenComparison result = testing::compare_golden(
      stem + " y", model.predict(golden.as<float>("x")), golden.get("y"), 1e-4);
  INFO(result.report);
  CHECK(result.passed);
  Index found = 0;
  for (Index i = 0; i < model.size(); ++i)
    found += model.layer(i).kind() == "BatchNormalization" ? 1 : 0;
  CHECK(found == batch_norms);
}

}  // namespace

TEST_CASE("torchvision's ResNet-18 matches PyTorch, BatchNorm folded and kept") {
  check_against_pytorch("resnet18_eval", 0);
  check_against_pytorch("resnet18_preserve", 20);
}

TEST_CASE("torchvision's MobileNetV2 matches PyTorch, BatchNorm folded and kept") {
  check_against_pytorch("mobilenet_v2_eval", 0);
  check_against_pytorch("mobilenet_v2_preserve", 52);
}
