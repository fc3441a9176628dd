// Specification of the zoo's depthwise-separable graph models: torchvision's MobileNetV2
// (models/mobilenet_v2.hpp) and Keras's Xception (models/xception.hpp), with the references'
// parameter counts, shapes and layer names. Counts need only build(): the one forward and backward
// pass runs MobileNetV2 on (3, 32, 32).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/models/mobilenet_v2.hpp"
#include "minicnn/models/xception.hpp"

using namespace minicnn;

namespace {

// The shape of the `k`-th parameter of the layer named `name`.
Shape parameter_shape(const Model<float>& model, const std::string& name, std::size_t k = 0) {
  auto& layer = const_cast<Layer<float>&>(model.layer(name));
  REQUIRE(layer.parameters().size() > k);
  return layer.parameters()[k]->value.shape();
}

// How many layers of `kind` the model has.
Index count_kind(const Model<float>& model, const std::string& kind) {
  Index count = 0;
  for (Index i = 0; i < model.size(); ++i)
    count += model.layer(i).kind() == kind;
  return count;
}

}  // namespace

// The reference, in PyTorch 1.13 and Debian's python3-torchvision 0.14:
//   import torchvision
//   m = torchvision.models.mobilenet_v2(weights=None)
//   sum(p.numel() for p in m.parameters())                                # 3,504,872
//   sum(b.numel() for k, b in m.named_buffers() if "running" in k)        # 34,112
//   sum(p.numel() for k, p in m.named_parameters() if not k.startswith("classifier."))
//                                                                         # 2,223,872
TEST_CASE("torchvision's MobileNetV2 has its parameter counts, with and without the top") {
  const auto model = mobilenet_v2<float>();
  CHECK(model.parameter_count(true) == 3504872);
  CHECK(model.parameter_count(false) == 34112);
  CHECK(model.input_shape() == Shape{3, 224, 224});
  CHECK(model.output_shape() == Shape{1000});
  CHECK(model.layer(model.size() - 1).kind() == "Softmax");

  const auto features = mobilenet_v2<float>(1000, false);
  CHECK(features.parameter_count(true) == 2223872);
  CHECK(features.parameter_count(false) == 34112);
  CHECK(features.output_shape() == Shape{1280, 7, 7});
  CHECK(features.graph().find("classifier.1") < 0);
  CHECK(features.graph().find("avgpool") < 0);

  // The number of classes sizes classifier.1 alone.
  CHECK(mobilenet_v2<float>(10).parameter_count(true) == 2223872 + 1280 * 10 + 10);
  CHECK_THROWS_WITH_AS(mobilenet_v2<float>(0), "mobilenet_v2: expected classes > 0, got 0", Error);
}

TEST_CASE("MobileNetV2's layers are named by torchvision's module paths, with its shapes") {
  const auto model = mobilenet_v2<float>();
  // The stem: features.0 is Conv2dNormActivation (conv, BN, ReLU6), 3x3 stride 2 padded 1.
  CHECK(model.layer("features.0.0").kind() == "Conv2D");
  CHECK(model.layer("features.0.0").config().get("pads") == "1,1,1,1");
  CHECK(model.layer("features.0.0").config().get("strides") == "2x2");
  CHECK(model.layer("features.0.1").kind() == "BatchNormalization");
  CHECK(model.layer("features.0.1").config().get_double("momentum") == 0.9);
  CHECK(model.layer("features.0.1").config().get_double("epsilon") == 1e-5);
  CHECK(model.layer("features.0.2").kind() == "ReLU");
  CHECK(model.layer("features.0.2").config().get_double("max_value") == 6.0);
  CHECK(parameter_shape(model, "features.0.0") == Shape{32, 3, 3, 3});

  // features.1 (t = 1) has no expansion: depthwise conv.0, projection conv.1 and its BN conv.2.
  CHECK(model.layer("features.1.conv.0.0").kind() == "DepthwiseConv2D");
  CHECK(model.layer("features.1.conv.0.2").kind() == "ReLU");
  CHECK(model.layer("features.1.conv.1").kind() == "Conv2D");
  CHECK(model.layer("features.1.conv.2").kind() == "BatchNormalization");
  CHECK(model.graph().find("features.1.conv.3") < 0);
  CHECK(model.graph().find("features.1.add") < 0);  // 32 -> 16 channels: no residual

  // A block with expansion: conv.0 expands (1x1), conv.1 filters (depthwise 3x3, with the
  // stride, padded 1), conv.2 projects, conv.3 is its BN; the kernels in torchvision's layouts.
  CHECK(model.layer("features.2.conv.0.0").kind() == "Conv2D");
  CHECK(parameter_shape(model, "features.2.conv.0.0") == Shape{96, 16, 1, 1});
  CHECK(model.layer("features.2.conv.1.0").kind() == "DepthwiseConv2D");
  CHECK(model.layer("features.2.conv.1.0").config().get("padding") == "1,1,1,1");
  CHECK(model.layer("features.2.conv.1.0").config().get("strides") == "2x2");
  CHECK(model.layer("features.2.conv.1.0").config().get("use_bias") == "false");
  CHECK(parameter_shape(model, "features.2.conv.1.0") == Shape{96, 1, 3, 3});
  CHECK(parameter_shape(model, "features.2.conv.2") == Shape{24, 96, 1, 1});
  CHECK(model.layer("features.2.conv.3").kind() == "BatchNormalization");

  // The residual: x + conv(x) when the stride is 1 and the channels are kept, in 10 blocks
  // (torchvision's use_res_connect: features 3, 5, 6, 8, 9, 10, 12, 13, 15, 16).
  const std::vector<int> residual = {3, 5, 6, 8, 9, 10, 12, 13, 15, 16};
  const auto adds = [&](int block) {
    return std::find(residual.begin(), residual.end(), block) != residual.end();
  };
  CHECK(count_kind(model, "Add") == 10);
  for (int block : residual) {
    CAPTURE(block);
    const std::string name = "features." + std::to_string(block);
    const std::string previous =
        "features." + std::to_string(block - 1) + (adds(block - 1) ? ".add" : ".conv.3");
    CHECK(model.layer_inputs(name + ".add") ==
          std::vector<std::string>{previous, name + ".conv.3"});
  }
  CHECK(model.graph().find("features.17.add") < 0);  // 160 -> 320 channels

  // The shapes torchvision's features give on (3, 224, 224).
  CHECK(model.layer("features.0.2").output_shape() == Shape{32, 112, 112});
  CHECK(model.layer("features.1.conv.2").output_shape() == Shape{16, 112, 112});
  CHECK(model.layer("features.3.add").output_shape() == Shape{24, 56, 56});
  CHECK(model.layer("features.6.add").output_shape() == Shape{32, 28, 28});
  CHECK(model.layer("features.10.add").output_shape() == Shape{64, 14, 14});
  CHECK(model.layer("features.13.add").output_shape() == Shape{96, 14, 14});
  CHECK(model.layer("features.16.add").output_shape() == Shape{160, 7, 7});
  CHECK(model.layer("features.17.conv.3").output_shape() == Shape{320, 7, 7});
  CHECK(model.layer("features.18.2").output_shape() == Shape{1280, 7, 7});

  // The head: avgpool, classifier.0 Dropout(0.2), classifier.1 Linear, softmax.
  CHECK(model.layer_inputs("avgpool") == std::vector<std::string>{"features.18.2"});
  CHECK(model.layer("classifier.0").kind() == "Dropout");
  CHECK(model.layer("classifier.0").config().get_double("rate") == 0.2);
  CHECK(model.layer("classifier.1").kind() == "Dense");
  CHECK(model.layer_inputs("softmax") == std::vector<std::string>{"classifier.1"});
}

TEST_CASE("MobileNetV2 trains: a forward and backward pass gives finite gradients") {
  // (3, 32, 32): 32 -> 16 (features.0) -> 8, 4, 2, 1 (the blocks of stride 2).
  auto model = mobilenet_v2<float>(10, true, {3, 32, 32}, 7);
  CHECK(model.layer("features.18.2").output_shape() == Shape{1280, 1, 1});
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  CHECK(model.fuses_softmax());
  Tensor<float> x({2, 3, 32, 32});
  Random random(3);
  x.fill_uniform(random, -1.0f, 1.0f);
  const auto y = Tensor<float>::of({2}, {3, 8});
  const float loss = model.compute_gradients(x, y);
  CHECK(std::isfinite(loss));
  CHECK(loss > 0.0f);
  for (Parameter<float>* p : model.parameters()) {
    if (!p->trainable) continue;
    CAPTURE(p->path);
    CHECK(p->grad.vector().allFinite());
  }
  // The gradient reaches the stem through every block.
  auto& stem = const_cast<Layer<float>&>(model.layer("features.0.0"));
  CHECK(stem.parameters()[0]->grad.vector().cwiseAbs().maxCoeff() > 0.0f);
  const Tensor<float> p = model.predict(x);
  CHECK(p.shape() == Shape{2, 10});
  CHECK(std::abs(p.matrix().row(0).sum() - 1.0f) < 1e-5f);
}

// Keras's figures for keras.applications.Xception(weights=None): summary() prints Total params
// 22,910,480, Trainable 22,855,952, Non-trainable 54,528; with include_top=False (pooling=None)
// Total 20,861,480.
TEST_CASE("Keras's Xception has the counts of Keras's summary(), with and without the top") {
  const auto model = xception<float>();
  CHECK(model.parameter_count(true) == 22855952);
  CHECK(model.parameter_count(false) == 54528);
  CHECK(model.parameter_count(true) + model.parameter_count(false) == 22910480);
  CHECK(model.input_shape() == Shape{3, 299, 299});
  CHECK(model.output_shape() == Shape{1000});
  CHECK(model.layer(model.size() - 1).kind() == "Softmax");

  const auto features = xception<float>(1000, false);
  CHECK(features.parameter_count(true) + features.parameter_count(false) == 20861480);
  CHECK(features.parameter_count(false) == 54528);
  CHECK(features.output_shape() == Shape{2048, 10, 10});
  CHECK(features.graph().find("predictions") < 0);
  CHECK(features.graph().find("avg_pool") < 0);
  CHECK_THROWS_WITH_AS(xception<float>(0), "xception: expected classes > 0, got 0", Error);
}

TEST_CASE("Xception's layers have Keras's names, padding and shapes") {
  const auto model = xception<float>();
  // The stem: two 'valid' 3x3 convolutions without bias, 299 -> 149 -> 147.
  CHECK(model.layer("block1_conv1").kind() == "Conv2D");
  CHECK(model.layer("block1_conv1").config().get("padding") == "valid");
  CHECK(parameter_shape(model, "block1_conv1") == Shape{32, 3, 3, 3});
  CHECK(const_cast<Layer<float>&>(model.layer("block1_conv1")).parameters().size() == 1);
  CHECK(model.layer("block1_conv1_bn").config().get_double("momentum") == 0.99);
  CHECK(model.layer("block1_conv1_bn").config().get_double("epsilon") == 1e-3);
  CHECK(model.layer("block1_conv1_act").kind() == "ReLU");
  CHECK(model.layer("block1_conv1_act").output_shape() == Shape{32, 149, 149});
  CHECK(model.layer("block1_conv2_act").output_shape() == Shape{64, 147, 147});

  // block2: no ReLU before its first separable convolution; the one before the second is named
  // block2_sepconv2_act. Separable convolutions 'same' without bias, in Keras's parameter order.
  CHECK(model.graph().find("block2_sepconv1_act") < 0);
  CHECK(model.layer_inputs("block2_sepconv1") == std::vector<std::string>{"block1_conv2_act"});
  CHECK(model.layer("block2_sepconv1").kind() == "SeparableConv2D");
  CHECK(model.layer("block2_sepconv1").config().get("padding") == "same");
  CHECK(model.layer("block2_sepconv1").config().get("use_bias") == "false");
  CHECK(parameter_shape(model, "block2_sepconv1", 0) == Shape{64, 1, 3, 3});
  CHECK(parameter_shape(model, "block2_sepconv1", 1) == Shape{128, 64, 1, 1});
  CHECK(model.layer_inputs("block2_sepconv2") == std::vector<std::string>{"block2_sepconv2_act"});

  // The max pools are 'same' 3x3 stride 2 (TensorFlow's rule): 147 -> 74 -> 37 -> 19 -> 10, as
  // the 1x1 stride-2 projections Keras leaves unnamed (conv2d, batch_normalization, ...).
  CHECK(model.layer("block2_pool").config().get("padding") == "same");
  CHECK(model.layer("block2_pool").config().get("pool_size") == "3x3");
  CHECK(model.layer("block2_pool").output_shape() == Shape{128, 74, 74});
  CHECK(model.layer("batch_normalization").output_shape() == Shape{128, 74, 74});
  CHECK(model.layer_inputs("conv2d") == std::vector<std::string>{"block1_conv2_act"});
  CHECK(model.layer_inputs("add") ==
        std::vector<std::string>{"block2_pool", "batch_normalization"});
  CHECK(model.layer("add_1").output_shape() == Shape{256, 37, 37});
  CHECK(model.layer("add_2").output_shape() == Shape{728, 19, 19});
  CHECK(model.layer("conv2d_2").config().get("strides") == "2x2");
  CHECK(parameter_shape(model, "conv2d_2") == Shape{728, 256, 1, 1});

  // The middle flow: eight blocks of three ReLU - separable conv - BN around an identity.
  CHECK(model.layer_inputs("block5_sepconv1_act") == std::vector<std::string>{"add_2"});
  CHECK(model.layer_inputs("add_3") == std::vector<std::string>{"block5_sepconv3_bn", "add_2"});
  CHECK(model.layer_inputs("add_10") == std::vector<std::string>{"block12_sepconv3_bn", "add_9"});
  CHECK(model.layer("add_10").output_shape() == Shape{728, 19, 19});

  // The exit flow: block13 (728 then 1024 channels, projected by conv2d_3), block14, the top.
  CHECK(model.layer_inputs("add_11") ==
        std::vector<std::string>{"block13_pool", "batch_normalization_3"});
  CHECK(model.layer("add_11").output_shape() == Shape{1024, 10, 10});
  CHECK(model.layer("block14_sepconv1_act").output_shape() == Shape{1536, 10, 10});
  CHECK(model.layer("block14_sepconv2_act").output_shape() == Shape{2048, 10, 10});
  CHECK(model.layer_inputs("avg_pool") == std::vector<std::string>{"block14_sepconv2_act"});
  CHECK(model.layer_inputs("predictions") == std::vector<std::string>{"avg_pool"});
  CHECK(count_kind(model, "Add") == 12);
  CHECK(count_kind(model, "SeparableConv2D") == 34);
  CHECK(count_kind(model, "BatchNormalization") == 40);
  CHECK(model.graph().find("add_12") < 0);
}
