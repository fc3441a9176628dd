// Models exported by save_onnx run in OpenCV's dnn module (Debian's libopencv-dnn-dev 4.6,
// cv::dnn::readNetFromONNX, CPU): the models of export_models.hpp give minicnn's predict()
// outputs within 1e-5 relative (export_models.hpp's relative_difference), except where OpenCV's
// importer has a gap: then the test requires OpenCV's exact refusal, prints it, and compares the
// numbers as soon as a later OpenCV reads the file (docs/onnx-export.md lists the gaps).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <string>

#include "minicnn/onnx/export.hpp"
#include "onnx/export_models.hpp"

using namespace minicnn;

namespace {

// OpenCV's output for `x`, or the text of the exception it threw reading or running the file.
std::vector<float> opencv(const Model<float>& model, const Tensor<float>& x,
                          const std::string& stem, std::string& error) {
  const auto directory = std::filesystem::temp_directory_path() /
                         ("minicnn_test_onnx_export_opencv_" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const std::string file = (directory / (stem + ".onnx")).string();
  save_onnx(model, file);
  std::vector<float> values;
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(file);
    std::vector<int> dims;
    for (Index d = 0; d < x.shape().rank(); ++d)
      dims.push_back(static_cast<int>(x.dim(d)));
    const cv::Mat input(dims, CV_32F, const_cast<float*>(x.data()));
    net.setInput(input);
    const cv::Mat output = net.forward();
    values.assign(output.ptr<float>(), output.ptr<float>() + output.total());
  } catch (const cv::Exception& e) {
    error = e.what();
  }
  std::filesystem::remove_all(directory);
  return values;
}

const export_test::ExportCase& find_case(const std::string& name) {
  static const std::vector<export_test::ExportCase> cases = export_test::export_cases();
  for (const export_test::ExportCase& c : cases)
    if (c.name == name) return c;
  FAIL("no export case named ", name);
  throw;
}

// The refusal of OpenCV 4.6 to read opset 13's Clip (ReLU6): its parseClip takes the bounds as
// attributes (opset 6) and asserts one input, where opset 11 and later give them as inputs.
const char* const kClipGap = "(expected: 'node_proto.input_size() == 1'), where";

// `gap`: the text of a known refusal, or "" when OpenCV must run the model.
void check_case(const std::string& name, const char* gap = "") {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
  const Model<float> model = find_case(name).build();
  const Tensor<float> x = export_test::test_input(model, 2);
  const Tensor<float> expected = model.predict(x);
  std::string error;
  const std::vector<float> actual = opencv(model, x, name.substr(0, name.find(' ')), error);
  INFO("OpenCV ", CV_VERSION, ": ", error);
  if (!error.empty() && *gap != '\0' && error.find(gap) != std::string::npos) {
    MESSAGE(name, ": OpenCV ", CV_VERSION, " cannot read the file (a known gap): ", error);
    return;
  }
  REQUIRE(error.empty());
  REQUIRE(actual.size() == static_cast<std::size_t>(expected.size()));
  const double difference = export_test::relative_difference(actual, expected);
  MESSAGE(name, ": OpenCV against minicnn: max |difference| / max |output| ", difference,
          ", element by element ", export_test::elementwise_difference(actual, expected));
  CHECK(difference <= 1e-5);
}

}  // namespace

TEST_CASE("OpenCV runs the exported mnist_model1 as minicnn does") {
  check_case("mnist_model1");
}
TEST_CASE("OpenCV runs the exported mnist_model4 as minicnn does") {
  check_case("mnist_model4");
}
TEST_CASE("OpenCV runs the exported lenet5 as minicnn does") {
  check_case("lenet5");
}
TEST_CASE("OpenCV runs the exported cifar10_basic as minicnn does") {
  check_case("cifar10_basic");
}
TEST_CASE("OpenCV runs the exported cifar100_coarse_first as minicnn does") {
  check_case("cifar100_coarse_first");
}
TEST_CASE("OpenCV runs the exported ResNet-18 as minicnn does") {
  check_case("resnet18 (3, 64, 64)");
}
TEST_CASE("OpenCV runs the exported MobileNetV2 as minicnn does, or refuses its ReLU6") {
  check_case("mobilenet_v2 (3, 64, 64)", kClipGap);
}
TEST_CASE("OpenCV runs every exported layer kind as minicnn does, or refuses ReLU6") {
  check_case("every_layer", kClipGap);
}
TEST_CASE("OpenCV runs every exported layer kind but ReLU6 as minicnn does") {
  check_case("every_layer without ReLU6");
}
