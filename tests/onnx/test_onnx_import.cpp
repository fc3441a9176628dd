// load_onnx on small models built in C++ (tests/onnx/graph_builder.hpp): which minicnn layer each
// ONNX operator becomes, with which arguments and weights; the Keras conventions (an NHWC input
// through Transpose, TF 'same' padding as asymmetric pads); and one test per refusal, each naming
// the file or node, the operator and the attribute or input at fault.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "minicnn/layers/conv2d.hpp"
#include "minicnn/losses/mean_squared_error.hpp"
#include "minicnn/model/model.hpp"
#include "minicnn/onnx/import.hpp"
#include "minicnn/optimizers/sgd.hpp"
#include "onnx/graph_builder.hpp"

using namespace minicnn;
using minicnn::testing::GraphBuilder;
using minicnn::testing::ramp;

namespace {

Model<float> import(const GraphBuilder& g) {
  const std::string bytes = g.bytes();
  return load_onnx_bytes(bytes.data(), bytes.size(), "test.onnx");
}

// The message load_onnx_bytes throws for `g`.
std::string refusal(const GraphBuilder& g) {
  try {
    import(g);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

Tensor<float> batch(const Shape& shape, float offset = 0.0f) {
  Tensor<float> x(shape);
  const std::vector<float> v = ramp(static_cast<std::size_t>(x.size()), offset);
  std::copy(v.begin(), v.end(), x.begin());
  return x;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// x (N, 3, 8, 8) -> Conv 4x3x3x3 pads 1 -> BatchNormalization -> Relu -> GlobalAveragePool
// -> Flatten -> Gemm (4 -> 5, transB) -> Softmax: a classifier as PyTorch exports one.
GraphBuilder classifier() {
  GraphBuilder g(13);
  g.input("x", {-1, 3, 8, 8});
  g.initializer("w", {4, 3, 3, 3}, ramp(108));
  g.initializer("b", {4}, ramp(4, 0.5f));
  g.initializer("gamma", {4}, {1.0f, 0.5f, 2.0f, 1.5f});
  g.initializer("beta", {4}, {0.1f, -0.2f, 0.3f, 0.0f});
  g.initializer("mean", {4}, {0.0f, 0.1f, -0.1f, 0.2f});
  g.initializer("var", {4}, {1.0f, 0.5f, 2.0f, 0.25f});
  g.initializer("fc.w", {5, 4}, ramp(20, 0.05f));
  g.initializer("fc.b", {5}, ramp(5));
  g.node("Conv", {"x", "w", "b"}, {"c"}, "/conv1/Conv").ints("pads", {1, 1, 1, 1});
  g.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"n"}, "bn")
      .f("epsilon", 1e-5f)
      .f("momentum", 0.9f);
  g.node("Relu", {"n"}, {"r"}, "relu");
  g.node("GlobalAveragePool", {"r"}, {"p"}, "pool");
  g.node("Flatten", {"p"}, {"f"}, "flatten");
  g.node("Gemm", {"f", "fc.w", "fc.b"}, {"logits"}, "fc").i("transB", 1);
  g.node("Softmax", {"logits"}, {"y"}, "softmax").i("axis", 1);
  g.output("y");
  return g;
}

}  // namespace

TEST_CASE("a PyTorch-style classifier imports layer by layer with its weights and names") {
  Model<float> model = import(classifier());
  CHECK(model.input_shape() == Shape{3, 8, 8});
  CHECK(model.output_shape() == Shape{5});
  // Flatten after GlobalAveragePool is no layer: minicnn's pooling already gives (N, C).
  const std::vector<std::string> kinds{
      "Conv2D", "BatchNormalization", "ReLU", "GlobalAveragePooling2D", "Dense", "Softmax"};
  REQUIRE(model.size() == static_cast<Index>(kinds.size()));
  for (Index i = 0; i < model.size(); ++i)
    CHECK(model.layer(i).kind() == kinds[static_cast<std::size_t>(i)]);
  // Node names become layer names: "/conv1/Conv" loses the path separators.
  CHECK(model.layer(0).name() == "conv1_Conv");
  CHECK(model.layer(0).config().get("pads") == "1,1,1,1");
  // ONNX's momentum weighs the running statistics, as minicnn's does: 0.9 stays 0.9.
  CHECK(model.layer("bn").config().get_double("momentum") == doctest::Approx(0.9));
  CHECK(model.layer("bn").config().get_double("epsilon") == doctest::Approx(1e-5));
  // Weights: the kernel as it is (OIHW), Gemm's transB kernel transposed to (in, units).
  const auto conv = model.layer("conv1_Conv").parameters();
  CHECK(conv[0]->value.data()[7] == doctest::Approx(ramp(108)[7]));
  CHECK(conv[1]->value.data()[2] == doctest::Approx(ramp(4, 0.5f)[2]));
  const auto fc = model.layer("fc").parameters();
  REQUIRE(fc[0]->value.shape() == Shape{4, 5});
  CHECK(fc[0]->value.data()[1 * 5 + 3] == doctest::Approx(ramp(20, 0.05f)[3 * 4 + 1]));
  const auto bn = model.layer("bn").parameters();
  CHECK(bn[3]->value.data()[3] == doctest::Approx(0.25f));  // moving_variance
  // It predicts probabilities, and it trains.
  const Tensor<float> p = model.predict(batch({2, 3, 8, 8}));
  REQUIRE(p.shape() == Shape{2, 5});
  float sum = 0.0f;
  for (Index k = 0; k < 5; ++k)
    sum += p.data()[k];
  CHECK(sum == doctest::Approx(1.0f));
  model.set_loss(std::make_unique<MeanSquaredError<float>>());
  SGD<float> sgd(0.1);
  const float before = model.train_on_batch(batch({2, 3, 8, 8}), batch({2, 5}), sgd);
  CHECK(std::isfinite(before));
  CHECK(model.layer("fc").parameters()[0]->value.data()[0] !=
        doctest::Approx(ramp(20, 0.05f)[0]).epsilon(1e-9));
}

TEST_CASE("the imported Conv, BatchNormalization and Relu run as one call at inference") {
  Model<float> model = import(classifier());
  const Graph<float>& graph = model.graph();
  REQUIRE(graph.fused_chains().size() == 1);
  const FusedChain& chain = graph.fused_chains()[0];
  CHECK(graph.vertex(chain.head).name == "conv1_Conv");
  CHECK(graph.vertex(chain.affine).name == "bn");
  CHECK(graph.vertex(chain.clamp).name == "relu");
  // The ReLU's output, fused and unfused, within 1e-5 of its largest value (model/fusion.hpp).
  const Tensor<float> x = batch({3, 3, 8, 8});
  const Tensor<float> fused = model.layer_output(x, 2);
  model.set_inference_fusion(false);
  const Tensor<float> unfused = model.layer_output(x, 2);
  const float scale = unfused.vector().cwiseAbs().maxCoeff();
  REQUIRE(scale > 0.0f);
  CHECK((fused.vector() - unfused.vector()).cwiseAbs().maxCoeff() <= 1e-5f * scale);
}

TEST_CASE("the double importer gives the same model in double") {
  const std::string bytes = classifier().bytes();
  Model<double> model = load_onnx_bytes<double>(bytes.data(), bytes.size());
  Model<float> single = import(classifier());
  Tensor<double> x({1, 3, 8, 8});
  const Tensor<float> xf = batch({1, 3, 8, 8});
  std::copy(xf.begin(), xf.end(), x.begin());
  const Tensor<double> p = model.predict(x);
  const Tensor<float> pf = single.predict(xf);
  for (Index k = 0; k < 5; ++k)
    CHECK(p.data()[k] == doctest::Approx(pf.data()[k]).epsilon(1e-5));
}

TEST_CASE("Keras files: an NHWC input through Transpose(0,3,1,2) and TF 'same' padding") {
  // tf2onnx writes a Keras Conv2D(4, 3, strides=2, padding='same') on an 8x8 input as pads
  // (0, 0, 1, 1): 4 outputs need 9 rows, the one padded row at the bottom (and the column at the
  // right), Keras's rule.
  GraphBuilder g(13);
  g.input("input_1", {-1, 8, 8, 3});
  g.initializer("w", {4, 3, 3, 3}, ramp(108));
  g.node("Transpose", {"input_1"}, {"nchw"}, "transpose").ints("perm", {0, 3, 1, 2});
  g.node("Conv", {"nchw", "w"}, {"y"}, "conv").ints("strides", {2, 2}).ints("pads", {0, 0, 1, 1});
  g.output("y");
  Model<float> model = import(g);
  // The Transpose is absorbed: the minicnn model takes NCHW.
  CHECK(model.input_shape() == Shape{3, 8, 8});
  REQUIRE(model.size() == 1);
  CHECK(model.layer(0).config().get("pads") == "0,1,0,1");  // top,bottom,left,right
  // The same numbers as Keras's 'same' padding in minicnn's own Conv2D.
  Conv2D<float> same(4, 3, 2, Padding::same, false);
  Random random(1);
  same.build({3, 8, 8}, random);
  same.parameters()[0]->value = model.layer(0).parameters()[0]->value;
  const Tensor<float> x = batch({2, 3, 8, 8});
  Tensor<float> expected;
  same.forward(x, expected, Mode::inference);
  const Tensor<float> y = model.predict(x);
  REQUIRE(y.shape() == expected.shape());
  for (Index k = 0; k < y.size(); ++k)
    CHECK(y.data()[k] == doctest::Approx(expected.data()[k]).epsilon(1e-6));
}

TEST_CASE("auto_pad SAME_UPPER and SAME_LOWER become explicit pads") {
  for (const std::string mode : {"SAME_UPPER", "SAME_LOWER"}) {
    GraphBuilder g(11);
    g.input("x", {1, 2, 6, 6});
    g.initializer("w", {3, 2, 2, 2}, ramp(24));
    g.node("Conv", {"x", "w"}, {"y"}, "conv").s("auto_pad", mode);
    g.output("y");
    Model<float> model = import(g);
    // A 2x2 kernel at stride 1 needs one padded row and column: after (UPPER) or before (LOWER).
    CHECK(model.layer(0).config().get("pads") == (mode == "SAME_UPPER" ? "0,1,0,1" : "1,0,1,0"));
    CHECK(model.output_shape() == Shape{3, 6, 6});
  }
}

TEST_CASE("depthwise Conv, pools with pads, Clip(0, 6), LeakyRelu, Concat, Add, Dropout") {
  GraphBuilder g(17);
  g.input("x", {-1, 2, 8, 8});
  g.initializer("dw", {4, 1, 3, 3}, ramp(36));  // group 2, 2 outputs per channel
  g.initializer("zero", {}, {0.0f});
  g.initializer("six", {}, {6.0f});
  g.initializer("ratio", {}, {0.25f});
  g.node("Conv", {"x", "dw"}, {"d"}, "dw").i("group", 2).ints("pads", {1, 1, 1, 1});
  g.node("Clip", {"d", "zero", "six"}, {"r6"}, "relu6");
  g.node("LeakyRelu", {"d"}, {"lr"}, "leaky").f("alpha", 0.2f);
  g.node("Add", {"r6", "lr"}, {"s"}, "add");
  g.node("MaxPool", {"s"}, {"m"}, "max")
      .ints("kernel_shape", {3, 3})
      .ints("strides", {2, 2})
      .ints("pads", {1, 1, 1, 1});
  g.node("AveragePool", {"s"}, {"a"}, "avg").ints("kernel_shape", {2, 2}).ints("strides", {2, 2});
  g.node("Concat", {"m", "a"}, {"c"}, "concat").i("axis", 1);
  g.node("Dropout", {"c", "ratio"}, {"o"}, "dropout");
  g.output("o");
  Model<float> model = import(g);
  CHECK(model.layer("dw").kind() == "DepthwiseConv2D");
  CHECK(model.layer("dw").config().get_int("depth_multiplier") == 2);
  CHECK(model.layer("relu6").config().get_double("max_value") == 6.0);
  CHECK(model.layer("leaky").config().get_double("alpha") == doctest::Approx(0.2));
  CHECK(model.layer("max").config().get("pads") == "1,1,1,1");
  CHECK(model.layer("dropout").config().get_double("rate") == doctest::Approx(0.25));
  CHECK(model.output_shape() == Shape{8, 4, 4});
  CHECK(model.predict(batch({2, 2, 8, 8})).shape() == Shape{2, 8, 4, 4});
}

TEST_CASE("MatMul followed by Add of a constant is one Dense layer, and Reshape (N, -1) flattens") {
  GraphBuilder g(14);
  g.input("x", {-1, 2, 2, 2});
  g.int_initializer("shape", {0, -1});
  g.initializer("w", {8, 3}, ramp(24));
  g.initializer("b", {3}, {1.0f, 2.0f, 3.0f});
  g.node("Reshape", {"x", "shape"}, {"f"}, "reshape");
  g.node("MatMul", {"f", "w"}, {"m"}, "linear");
  g.node("Add", {"m", "b"}, {"y"}, "bias");
  g.node("Identity", {"y"}, {"out"}, "identity");
  g.output("out");
  Model<float> model = import(g);
  REQUIRE(model.size() == 2);
  CHECK(model.layer(0).kind() == "Flatten");
  CHECK(model.layer(1).kind() == "Dense");
  CHECK(model.layer(1).name() == "linear");
  // x all zero: the output is the bias.
  const Tensor<float> y = model.predict(Tensor<float>({1, 2, 2, 2}, 0.0f));
  CHECK(y.data()[0] == 1.0f);
  CHECK(y.data()[2] == 3.0f);
}

TEST_CASE("node names are made unique, and unnamed nodes get Keras's names") {
  GraphBuilder g(13);
  g.input("x", {-1, 4});
  g.node("Relu", {"x"}, {"a"}, "act");
  g.node("Sigmoid", {"a"}, {"b"}, "act");
  g.node("Tanh", {"b"}, {"c"});
  g.output("c");
  Model<float> model = import(g);
  CHECK(model.layer(0).name() == "act");
  CHECK(model.layer(1).name() == "act_1");
  CHECK(model.layer(2).name() == "tanh");
}

// ---- Refusals: one test each -------------------------------------------------------------------

TEST_CASE("a truncated file is refused by name, without a crash") {
  const std::string bytes = classifier().bytes();
  for (const std::size_t cut : {std::size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(cut);
    try {
      load_onnx_bytes(bytes.data(), cut, "cut.onnx");
      FAIL("a truncated file imported");
    } catch (const Error& e) {
      CHECK(contains(e.what(), "cut.onnx"));
    }
  }
  CHECK_THROWS_WITH_AS(load_onnx("/nonexistent/model.onnx"),
                       "ONNX file '/nonexistent/model.onnx': cannot open it for reading", Error);
}

TEST_CASE("a tensor whose data does not match its dims is refused before allocation") {
  GraphBuilder g = classifier();
  // The kernel claims 4x3x3x3 = 108 floats, holds 40 bytes.
  g.graph().mutable_initializer(0)->mutable_raw_data()->resize(40);
  const std::string message = refusal(g);
  CHECK(contains(message, "node '/conv1/Conv' (Conv)"));
  CHECK(contains(message, "input 1 ('w')"));
  CHECK(contains(message, "need 108 values (108 x 4 bytes of raw_data), got 40 bytes"));
  // Dims that claim 2^60 elements.
  GraphBuilder huge = classifier();
  huge.graph().mutable_initializer(0)->set_dims(0, std::int64_t{1} << 58);
  CHECK(contains(refusal(huge), "x 4 bytes of raw_data), got 432 bytes"));
}

TEST_CASE("a dangling node input is refused, naming the node and the input") {
  GraphBuilder g = classifier();
  g.graph().mutable_node(2)->set_input(0, "nowhere");
  CHECK(refusal(g) ==
        "test.onnx: node 'relu' (Relu): its input 'nowhere' is not a graph input, an initializer "
        "or any node's output (a dangling input)");
}

TEST_CASE("a cycle is refused, naming a node on it") {
  GraphBuilder g(13);
  g.input("x", {-1, 4});
  g.node("Add", {"x", "b"}, {"a"}, "first");
  g.node("Relu", {"a"}, {"b"}, "second");
  g.output("b");
  CHECK(contains(refusal(g), "test.onnx: node 'first' (Add): the graph has a cycle"));
}

TEST_CASE("an unsupported operator is refused, naming the node and the operator") {
  GraphBuilder g(13);
  g.input("x", {-1, 4});
  g.node("Elu", {"x"}, {"y"}, "elu");
  g.output("y");
  CHECK(contains(refusal(g), "test.onnx: node 'elu' (Elu): operator 'Elu' is not supported"));
}

TEST_CASE("an unsupported attribute value or attribute is refused, naming node, op and attribute") {
  GraphBuilder grouped = classifier();
  grouped.graph().mutable_initializer(0)->set_dims(1, 1);  // W (4, 1, 3, 3) ...
  grouped.graph().mutable_initializer(0)->mutable_raw_data()->resize(4 * 36);
  auto* group = grouped.graph().mutable_node(0)->add_attribute();  // ... in 3 groups
  group->set_name("group");
  group->set_type(onnx::AttributeProto::INT);
  group->set_i(3);
  CHECK(contains(refusal(grouped), "test.onnx: node '/conv1/Conv' (Conv): attribute 'group' = 3"));

  GraphBuilder pool(13);
  pool.input("x", {-1, 1, 4, 4});
  pool.node("AveragePool", {"x"}, {"y"}, "avg")
      .ints("kernel_shape", {3, 3})
      .ints("pads", {1, 1, 1, 1})
      .i("count_include_pad", 1);
  pool.output("y");
  CHECK(contains(refusal(pool),
                 "test.onnx: node 'avg' (AveragePool): attribute 'count_include_pad' = 1"));

  GraphBuilder clip(13);
  clip.input("x", {-1, 4});
  clip.initializer("low", {}, {-1.0f});
  clip.node("Clip", {"x", "low"}, {"y"}, "clip");
  clip.output("y");
  CHECK(contains(refusal(clip), "node 'clip' (Clip): input 1 (min) = -1"));

  GraphBuilder broadcast(13);
  broadcast.input("x", {-1, 2, 3, 3});
  broadcast.initializer("c", {2, 1, 1}, {1.0f, 2.0f});
  broadcast.node("Add", {"x", "c"}, {"y"}, "add");
  broadcast.output("y");
  CHECK(contains(refusal(broadcast), "node 'add' (Add): input 1 ('c') is a constant"));

  GraphBuilder softmax(13);
  softmax.input("x", {-1, 2, 3, 3});
  softmax.node("Softmax", {"x"}, {"y"}, "sm").i("axis", 1);
  softmax.output("y");
  CHECK(contains(refusal(softmax), "node 'sm' (Softmax): attribute 'axis' = 1"));
}

TEST_CASE("an opset above 17 is refused, an older one only where its operators are opset 11's") {
  GraphBuilder newer(18);
  newer.input("x", {-1, 4});
  newer.node("Relu", {"x"}, {"y"}, "relu");
  newer.output("y");
  CHECK(contains(refusal(newer), "test.onnx: expected opset 11 to 17 of the default domain"));
  // Relu has not changed from opset 6 to 11: an opset 9 file's Relu imports.
  GraphBuilder relu(9);
  relu.input("x", {-1, 4});
  relu.node("Relu", {"x"}, {"y"}, "relu");
  relu.output("y");
  CHECK(import(relu).layer(0).kind() == "ReLU");
  // Clip has: opset 9's Clip-6 takes its bounds as attributes.
  GraphBuilder clip(9);
  clip.input("x", {-1, 4});
  clip.node("Clip", {"x"}, {"y"}, "clip").f("min", 0.0f).f("max", 6.0f);
  clip.output("y");
  CHECK(refusal(clip) ==
        "test.onnx: node 'clip' (Clip): operator version 6 (opset 9) is not opset 11's version 11; "
        "minicnn imports the operators of opsets 11 to 17 (onnx.version_converter converts a "
        "file)");
}
