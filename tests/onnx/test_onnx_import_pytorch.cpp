// load_onnx against PyTorch: models exported by torch.onnx.export (tools/make_onnx_models.py,
// committed under tests/golden/onnx/) imported into minicnn give PyTorch's outputs on a fixed
// input within 1e-4 relative (the golden rule of tests/support/golden.hpp), in each export mode:
// BatchNorm folded into the convolutions (eval), kept as inference nodes (preserve), and a
// training graph (BatchNorm with its running-statistics outputs, Dropout with training_mode).
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "minicnn/io/model_file.hpp"
#include "minicnn/layer_registry.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/onnx/import.hpp"
#include "minicnn/optimizers/sgd.hpp"
#include "support/golden.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;

namespace {

const std::string kDir = std::string(MINICNN_GOLDEN_DIR) + "/onnx/";

// Imports <stem>.onnx, runs <stem>.bin's x through it and compares with its y; returns the model.
template <typename T>
Model<T> check_against_pytorch(const std::string& stem) {
  CAPTURE(stem);
  Model<T> model = load_onnx<T>(kDir + stem + ".onnx");
  const testing::GoldenFile golden = testing::GoldenFile::load(kDir + stem + ".bin");
  const Tensor<T> y = model.predict(golden.as<T>("x"));
  const testing::GoldenComparison result =
      testing::compare_golden(stem + " y", y, golden.get("y"), 1e-4);
  INFO(result.report);
  CHECK(result.passed);
  return model;
}

template <typename T>
Index count_kind(const Model<T>& model, const std::string& kind) {
  Index n = 0;
  for (Index i = 0; i < model.size(); ++i)
    n += model.layer(i).kind() == kind ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("the small ResNet of the graph issue matches PyTorch, BatchNorm folded or kept") {
  const Model<float> folded = check_against_pytorch<float>("small_resnet_eval");
  CHECK(count_kind(folded, "BatchNormalization") == 0);
  CHECK(count_kind(folded, "Add") == 2);
  Model<float> kept = check_against_pytorch<float>("small_resnet_preserve");
  CHECK(count_kind(kept, "BatchNormalization") == 6);
  const Model<float> training = check_against_pytorch<float>("small_resnet_training");
  CHECK(count_kind(training, "BatchNormalization") == 6);
  // The imported model fine-tunes: a step changes the BatchNorm's gamma and moving mean.
  kept.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>(true));
  const testing::GoldenFile golden = testing::GoldenFile::load(kDir + "small_resnet_preserve.bin");
  const Tensor<float> labels = Tensor<float>::of({4}, {0, 1, 2, 3});
  SGD<float> sgd(0.1);
  const float gamma = kept.layer("bn1_BatchNormalization").parameters()[0]->value.data()[0];
  kept.train_on_batch(golden.as<float>("x"), labels, sgd);
  CHECK(kept.layer("bn1_BatchNormalization").parameters()[0]->value.data()[0] != gamma);
}

TEST_CASE("the small ResNet matches PyTorch in double too") {
  check_against_pytorch<double>("small_resnet_preserve");
}

TEST_CASE("windows: strided dilated Conv, depthwise Conv, padded pools, ReLU6, merges (opset 11)") {
  const Model<float> model = check_against_pytorch<float>("windows_eval");
  CHECK(count_kind(model, "DepthwiseConv2D") == 1);
  CHECK(count_kind(model, "MaxPooling2D") == 1);
  check_against_pytorch<float>("windows_preserve");
}

TEST_CASE("dense: Gemm, MatMul + Add as one Dense, Dropout, Softmax (opset 17)") {
  const Model<float> model = check_against_pytorch<float>("dense_eval");
  CHECK(count_kind(model, "Dense") == 2);
  const Model<float> training = check_against_pytorch<float>("dense_training");
  CHECK(count_kind(training, "Dropout") == 1);
}

TEST_CASE("reshape: Reshape to (-1, C*H*W) after a Conv (opset 14)") {
  const Model<float> model = check_against_pytorch<float>("reshape_eval");
  CHECK(count_kind(model, "Flatten") == 1);
}

TEST_CASE("an imported model saves as .mcnn and loads back with bit-identical outputs") {
  // windows has every layer config the importer writes explicit pads into: Conv2D,
  // DepthwiseConv2D, MaxPool2D and AvgPool2D; and BatchNorm with ONNX's epsilon and momentum.
  const Model<float> imported = load_onnx(kDir + "windows_preserve.onnx");
  const testing::TempDir dir;
  imported.save(dir / "windows.mcnn");
  const Model<float> loaded = Model<float>::load(dir / "windows.mcnn");
  const testing::GoldenFile golden = testing::GoldenFile::load(kDir + "windows_preserve.bin");
  const Tensor<float> a = imported.predict(golden.as<float>("x"));
  const Tensor<float> b = loaded.predict(golden.as<float>("x"));
  REQUIRE(a.shape() == b.shape());
  for (Index k = 0; k < a.size(); ++k)
    CHECK(a[k] == b[k]);
  REQUIRE(loaded.size() == imported.size());
  for (Index i = 0; i < loaded.size(); ++i)
    CHECK(loaded.layer(i).config() == imported.layer(i).config());
}
