// save_onnx and to_onnx (include/minicnn/onnx/export.hpp): what the file holds for each layer
// kind, the conventions (symbolic batch, explicit 'same' pads, weights in minicnn's layout), and
// the refusals. Whether other runtimes compute minicnn's numbers from these files is
// test_onnx_export_runtime.cpp's and test_onnx_export_opencv.cpp's question.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "minicnn/onnx/export.hpp"
#include "onnx/export_models.hpp"

using namespace minicnn;

namespace {

const onnx::NodeProto& node_named(const onnx::ModelProto& model, const std::string& name) {
  for (const onnx::NodeProto& node : model.graph().node())
    if (node.name() == name) return node;
  FAIL("no node named ", name);
  throw;
}

std::vector<std::int64_t> ints(const onnx::NodeProto& node, const std::string& name) {
  for (const onnx::AttributeProto& a : node.attribute())
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  return {};
}

const onnx::AttributeProto* attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const onnx::AttributeProto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

const onnx::TensorProto& initializer(const onnx::ModelProto& model, const std::string& name) {
  for (const onnx::TensorProto& t : model.graph().initializer())
    if (t.name() == name) return t;
  FAIL("no initializer named ", name);
  throw;
}

std::vector<float> floats(const onnx::TensorProto& t) {
  std::vector<float> values(t.raw_data().size() / 4);
  std::memcpy(values.data(), t.raw_data().data(), t.raw_data().size());
  return values;
}

// A layer no runtime knows: y = x^2 element by element.
class Square : public Layer<float> {
 public:
  std::string kind() const override { return "Square"; }
  Config config() const override { return {}; }
  std::unique_ptr<Layer<float>> clone() const override { return std::make_unique<Square>(*this); }
  void forward(const Tensor<float>& x, Tensor<float>& y, Mode) override {
    y = x;
    for (float& v : y)
      v *= v;
  }
  void backward(const Tensor<float>& x, const Tensor<float>&, const Tensor<float>& dy,
                Tensor<float>& dx, Mode) override {
    dx = dy;
    for (Index i = 0; i < dx.size(); ++i)
      dx[i] *= 2 * x[i];
  }

 protected:
  LayerPlan plan_layer(const Shape& input_shape) const override { return {input_shape, {}}; }
};

std::string temporary_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("minicnn_test_onnx_export_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("Every layer kind becomes the ONNX nodes of its mapping, named after the layer") {
  const Model<float> model = export_test::every_layer_model();
  const onnx::ModelProto proto = to_onnx(model);  // checked by onnx::checker inside
  CHECK(proto.opset_import(0).version() == 13);
  CHECK(proto.producer_name() == "minicnn");

  // Each layer's output tensor carries the layer's name; the op that computes it:
  const std::map<std::string, std::string> expected = {
      {"random_augmentation", "Identity"},
      {"conv2d", "Conv"},
      {"batch_normalization", "BatchNormalization"},
      {"re_lu", "Clip"},
      {"depthwise_conv2d", "Conv"},
      {"leaky_re_lu", "LeakyRelu"},
      {"separable_conv2d", "Conv"},
      {"tanh", "Tanh"},
      {"conv2d_1", "Conv"},
      {"zero_padding2d", "Pad"},
      {"sigmoid", "Sigmoid"},
      {"add", "Add"},
      {"batch_normalization_1", "BatchNormalization"},
      {"re_lu_1", "Relu"},
      {"max_pooling2d", "MaxPool"},
      {"average_pooling2d", "AveragePool"},
      {"concatenate", "Concat"},
      {"global_average_pooling2d", "Flatten"},
      {"flatten", "Flatten"},
      {"concatenate_1", "Concat"},
      {"dropout", "Identity"},
      {"dense", "Gemm"},
      {"softmax", "Softmax"},
  };
  for (Index i = 0; i < model.size(); ++i) {
    const std::string& name = model.layer(i).name();
    REQUIRE_MESSAGE(expected.count(name) == 1, name);
    const onnx::NodeProto& node = node_named(proto, name);
    CHECK_MESSAGE(node.op_type() == expected.at(name), name);
    CHECK(node.output(0) == name);
  }
  // The helpers of the layers that take more than one node.
  CHECK(node_named(proto, "separable_conv2d/depthwise").op_type() == "Conv");
  CHECK(node_named(proto, "global_average_pooling2d/pooled").op_type() == "GlobalAveragePool");
  CHECK(node_named(proto, "add/1").op_type() == "Add");
  CHECK(node_named(proto, "add").input(0) == "add/1");
  CHECK(proto.graph().node_size() == static_cast<int>(expected.size()) + 3);
}

TEST_CASE("The input has a symbolic batch dimension and the sample's extents; the output too") {
  const onnx::ModelProto proto = to_onnx(export_test::every_layer_model());
  REQUIRE(proto.graph().input_size() == 1);
  const auto& input = proto.graph().input(0);
  CHECK(input.name() == "image");
  const auto& dims = input.type().tensor_type().shape().dim();
  REQUIRE(dims.size() == 4);
  CHECK(dims[0].dim_param() == "N");
  CHECK(dims[1].dim_value() == 3);
  CHECK(dims[2].dim_value() == 13);
  CHECK(dims[3].dim_value() == 12);
  REQUIRE(proto.graph().output_size() == 1);
  const auto& output = proto.graph().output(0);
  CHECK(output.name() == "softmax");
  CHECK(output.type().tensor_type().shape().dim(0).dim_param() == "N");
  CHECK(output.type().tensor_type().shape().dim(1).dim_value() == 10);
}

TEST_CASE("Keras's 'same' padding becomes explicit pads, the odd one at the bottom/right") {
  const onnx::ModelProto proto = to_onnx(export_test::every_layer_model());
  // 3x3 stride 2 on 13x12: 7x6 outputs, 2 rows (1 + 1) and 1 column (0 + 1) of padding.
  const onnx::NodeProto& conv = node_named(proto, "conv2d");
  CHECK(ints(conv, "pads") == std::vector<std::int64_t>{1, 0, 1, 1});  // top, left, bottom, right
  CHECK(ints(conv, "strides") == std::vector<std::int64_t>{2, 2});
  CHECK(ints(conv, "kernel_shape") == std::vector<std::int64_t>{3, 3});
  CHECK(attribute(conv, "auto_pad") == nullptr);
  // Pooling 3 stride 2 on 7x6 and 2 stride 2 on 7x6.
  CHECK(ints(node_named(proto, "max_pooling2d"), "pads") == std::vector<std::int64_t>{1, 0, 1, 1});
  const onnx::NodeProto& average = node_named(proto, "average_pooling2d");
  CHECK(ints(average, "pads") == std::vector<std::int64_t>{0, 0, 1, 0});
  REQUIRE(attribute(average, "count_include_pad") != nullptr);
  CHECK(attribute(average, "count_include_pad")->i() == 0);  // Keras's mean over the inside
  // Dilation 2x1 spans 5x3 on 7x6: 'same' pads 2 and 1 on each side.
  const onnx::NodeProto& depthwise = node_named(proto, "depthwise_conv2d");
  CHECK(ints(depthwise, "pads") == std::vector<std::int64_t>{2, 1, 2, 1});
  CHECK(ints(depthwise, "dilations") == std::vector<std::int64_t>{2, 1});
}

TEST_CASE("Explicit pads, grouped convolutions, Pad, Clip and Gemm carry minicnn's arguments") {
  const onnx::ModelProto proto = to_onnx(export_test::every_layer_model());
  // Pads(2, 1, 0, 2) is top 2, bottom 1, left 0, right 2.
  CHECK(ints(node_named(proto, "conv2d_1"), "pads") == std::vector<std::int64_t>{2, 0, 1, 2});
  // Depthwise: one group per input channel (8), kernel (C*M, 1, KH, KW).
  const onnx::NodeProto& depthwise = node_named(proto, "depthwise_conv2d");
  REQUIRE(attribute(depthwise, "group") != nullptr);
  CHECK(attribute(depthwise, "group")->i() == 8);
  const auto& kernel = initializer(proto, "depthwise_conv2d/depthwise_kernel");
  CHECK(std::vector<std::int64_t>(kernel.dims().begin(), kernel.dims().end()) ==
        std::vector<std::int64_t>{16, 1, 3, 3});
  // SeparableConv2D: a grouped Conv without bias, then a 1x1 Conv with the bias.
  const onnx::NodeProto& first = node_named(proto, "separable_conv2d/depthwise");
  CHECK(first.input_size() == 2);
  CHECK(attribute(first, "group")->i() == 8);
  const onnx::NodeProto& pointwise = node_named(proto, "separable_conv2d");
  CHECK(pointwise.output(0) == "separable_conv2d");
  CHECK(pointwise.input(2) == "separable_conv2d/bias");
  // ZeroPadding2D Pads(1, 0, 0, 0): one row on top.
  const onnx::NodeProto& pad = node_named(proto, "zero_padding2d");
  const auto& pads = initializer(proto, pad.input(1));
  CHECK(std::vector<std::int64_t>(pads.int64_data().begin(), pads.int64_data().end()) ==
        std::vector<std::int64_t>{0, 0, 1, 0, 0, 0, 0, 0});
  // ReLU(6): Clip(x, 0, 6).
  const onnx::NodeProto& clip = node_named(proto, "re_lu");
  CHECK(floats(initializer(proto, clip.input(1))) == std::vector<float>{0.0f});
  CHECK(floats(initializer(proto, clip.input(2))) == std::vector<float>{6.0f});
  // BatchNormalization(0.9, 1e-5): its epsilon and Keras's momentum.
  const onnx::NodeProto& bn = node_named(proto, "batch_normalization");
  CHECK(attribute(bn, "epsilon")->f() == 1e-5f);
  CHECK(attribute(bn, "momentum")->f() == 0.9f);
  CHECK(bn.input(3) == "batch_normalization/moving_mean");
  // Dense: Gemm with transB = 1, B = kernel^T (units, in).
  const onnx::NodeProto& gemm = node_named(proto, "dense");
  REQUIRE(attribute(gemm, "transB") != nullptr);
  CHECK(attribute(gemm, "transB")->i() == 1);
  const auto& dense_kernel = initializer(proto, "dense/kernel");
  CHECK(std::vector<std::int64_t>(dense_kernel.dims().begin(), dense_kernel.dims().end()) ==
        std::vector<std::int64_t>{10, 416});
  CHECK(attribute(node_named(proto, "concatenate_1"), "axis")->i() == -1);
}

TEST_CASE(
    "Every parameter is an initializer holding the layer's numbers bit for bit (Dense's "
    "transposed)") {
  Model<float> model = export_test::every_layer_model();
  const onnx::ModelProto proto = to_onnx(model);
  Index checked = 0;
  for (const Parameter<float>* p : model.parameters()) {
    const onnx::TensorProto& t = initializer(proto, p->path);
    CHECK(t.data_type() == onnx::TensorProto::FLOAT);
    if (p->path == "dense/kernel") {  // transposed: (units, in)
      const std::vector<float> values = floats(t);
      const Index in = p->value.dim(0), units = p->value.dim(1);
      REQUIRE(values.size() == static_cast<std::size_t>(in * units));
      for (Index i = 0; i < in; ++i)
        for (Index u = 0; u < units; ++u)
          CHECK(values[std::size_t(u * in + i)] == p->value.data()[i * units + u]);
      ++checked;
      continue;
    }
    REQUIRE(t.dims_size() == p->value.shape().rank());
    for (Index d = 0; d < p->value.shape().rank(); ++d)
      CHECK(t.dims(int(d)) == p->value.dim(d));
    const std::vector<float> values = floats(t);
    REQUIRE(values.size() == static_cast<std::size_t>(p->value.size()));
    CHECK(std::memcmp(values.data(), p->value.data(), values.size() * 4) == 0);
    ++checked;
  }
  CHECK(checked == static_cast<Index>(model.parameters().size()));
}

TEST_CASE("save_onnx writes a file that parses back to to_onnx's model") {
  const Model<float> model = export_test::every_layer_model();
  const std::string path = temporary_path("every_layer.onnx");
  save_onnx(model, path);
  onnx::ModelProto parsed;
  REQUIRE(parsed.ParseFromString(contents(path)));
  CHECK(parsed.SerializeAsString() == to_onnx(model).SerializeAsString());
  std::remove(path.c_str());
}

TEST_CASE("A Sequential model exports too: the five reference models") {
  for (const auto& reference : bench::reference_models()) {
    CAPTURE(reference.name);
    const Sequential<float> model = bench::build_reference_model<float>(reference, 1);
    const onnx::ModelProto proto = to_onnx(model);
    CHECK(proto.graph().node_size() >= model.size());
  }
}

TEST_CASE("A layer without an ONNX mapping is refused by name, and no file is written") {
  Model<float> model;
  Node x = model.input({4});
  Node y = model.add(std::make_unique<Square>(), x);
  y = model.add<Dense>(y, 2);
  model.build(y, 1);
  const std::string path = temporary_path("square.onnx");
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(save_onnx(model, path),
                       doctest::Contains("save_onnx: Square 'square' has no ONNX mapping"), Error);
  CHECK_FALSE(std::filesystem::exists(path));
  // An existing file is left as it was.
  { std::ofstream(path) << "old"; }
  CHECK_THROWS_AS(save_onnx(model, path), Error);
  CHECK(contents(path) == "old");
  std::remove(path.c_str());
}

TEST_CASE("An unbuilt model and an unwritable path are refused with the reason") {
  Model<float> unbuilt;
  Node x = unbuilt.input({4});
  unbuilt.add<Dense>(x, 2);
  CHECK_THROWS_WITH_AS(to_onnx(unbuilt), "save_onnx: the model is not built; build() it first",
                       Error);
  const Model<float> model = export_test::every_layer_model();
  CHECK_THROWS_WITH_AS(save_onnx(model, "/nonexistent-directory/model.onnx"),
                       doctest::Contains("'/nonexistent-directory/model.onnx'"), Error);
}
