// Specification of the zoo's graph models (models/resnet.hpp): torchvision's ResNet-18, -34 and -50
// with its parameter counts, shapes and module names, Keras's ResNet50 likewise, and the CIFAR
// ResNets of He et al. 2016 with the counts of a PyTorch twin. Counts need only build(): no test
// runs a 224x224 forward pass.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "minicnn/io/model_file.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/models/resnet.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;

namespace {

// The references, in PyTorch 1.13 and Debian's python3-torchvision 0.14:
//   import torchvision
//   m = torchvision.models.resnet18(weights=None)          # resnet34, resnet50
//   sum(p.numel() for p in m.parameters())                 # trainable
//   sum(b.numel() for k, b in m.named_buffers() if "running" in k)  # moving statistics
//   sum(p.numel() for k, p in m.named_parameters() if not k.startswith("fc."))  # without fc
struct Reference {
  const char* name;
  Model<float> (*build)(Index, bool, const Shape&, std::uint64_t);
  Index trainable;
  Index moving;            // BatchNorm's running means and variances
  Index trainable_no_top;  // without fc
  Index features;          // channels of the last block's output
};

const Reference kTorchvision[] = {
    {"resnet18", resnet18<float>, 11689512, 9600, 11176512, 512},
    {"resnet34", resnet34<float>, 21797672, 17024, 21284672, 512},
    {"resnet50", resnet50<float>, 25557032, 53120, 23508032, 2048},
};

}  // namespace

TEST_CASE("torchvision's ResNet-18, -34 and -50 have its parameter counts on 1,000 classes") {
  for (const Reference& reference : kTorchvision) {
    CAPTURE(reference.name);
    const Model<float> model = reference.build(1000, true, {3, 224, 224}, 0);
    CHECK(model.parameter_count(true) == reference.trainable);
    CHECK(model.parameter_count(false) == reference.moving);
    CHECK(model.input_shape() == Shape{3, 224, 224});
    CHECK(model.output_shape() == Shape{1000});
    CHECK(model.layer(model.size() - 1).kind() == "Softmax");
  }
}

TEST_CASE("include_top = false keeps the last block's feature map, without avgpool and fc") {
  for (const Reference& reference : kTorchvision) {
    CAPTURE(reference.name);
    const Model<float> model = reference.build(1000, false, {3, 224, 224}, 0);
    CHECK(model.parameter_count(true) == reference.trainable_no_top);
    CHECK(model.parameter_count(false) == reference.moving);
    CHECK(model.output_shape() == Shape{reference.features, 7, 7});
    CHECK(model.graph().find("fc") < 0);
    CHECK(model.graph().find("avgpool") < 0);
  }
  // The number of classes sizes fc alone.
  const auto model = resnet18<float>(10);
  CHECK(model.parameter_count(true) == 11176512 + 512 * 10 + 10);
  CHECK(model.output_shape() == Shape{10});
}

TEST_CASE("Layers are named by torchvision's module paths, with its shapes") {
  const auto model = resnet50<float>();
  CHECK(model.layer("conv1").kind() == "Conv2D");
  CHECK(model.layer("bn1").kind() == "BatchNormalization");
  CHECK(model.layer("maxpool").kind() == "MaxPooling2D");
  CHECK(model.layer("layer4.2.conv3").kind() == "Conv2D");
  CHECK(model.layer("fc").kind() == "Dense");
  // 224 -> 112 -> 56, then 56, 28, 14, 7 with 256, 512, 1024, 2048 channels.
  CHECK(model.layer("conv1").output_shape() == Shape{64, 112, 112});
  CHECK(model.layer("maxpool").output_shape() == Shape{64, 56, 56});
  // torchvision's padding: 3 around conv1, 1 around every 3x3 and the max pool (zeros before it).
  CHECK(model.layer("conv1").config().get("pads") == "3,3,3,3");
  CHECK(model.layer("layer2.0.conv2").config().get("pads") == "1,1,1,1");
  CHECK(model.layer("layer2.0.downsample.0").config().get("pads") == "0,0,0,0");
  CHECK(model.layer("maxpool_pad").output_shape() == Shape{64, 114, 114});
  CHECK(model.layer("layer1.2.relu3").output_shape() == Shape{256, 56, 56});
  CHECK(model.layer("layer2.3.relu3").output_shape() == Shape{512, 28, 28});
  CHECK(model.layer("layer3.5.relu3").output_shape() == Shape{1024, 14, 14});
  CHECK(model.layer("layer4.2.relu3").output_shape() == Shape{2048, 7, 7});
  CHECK(model.layer("avgpool").output_shape() == Shape{2048});
  // Convolutions without bias, kernels in torchvision's (out, in, KH, KW) layout.
  auto& conv1 = const_cast<Layer<float>&>(model.layer("conv1"));
  REQUIRE(conv1.parameters().size() == 1);
  CHECK(conv1.parameters()[0]->value.shape() == Shape{64, 3, 7, 7});
  // v1.5: a bottleneck strides its 3x3 convolution, not its first 1x1.
  CHECK(model.layer("layer2.0.conv1").config().get("strides") == "1x1");
  CHECK(model.layer("layer2.0.conv2").config().get("strides") == "2x2");
  // The first bottleneck projects (64 -> 256 channels at stride 1); the next ones add x itself.
  CHECK(model.layer_inputs("layer1.0.add") ==
        std::vector<std::string>{"layer1.0.bn3", "layer1.0.downsample.1"});
  CHECK(model.layer_inputs("layer1.0.downsample.0") == std::vector<std::string>{"maxpool"});
  CHECK(model.layer_inputs("layer1.1.add") ==
        std::vector<std::string>{"layer1.1.bn3", "layer1.0.relu3"});
  CHECK(model.layer_inputs("fc") == std::vector<std::string>{"avgpool"});

  // A BasicBlock keeps the width: layer1 adds x itself, and each later stage projects once.
  const auto small = resnet18<float>();
  CHECK(small.graph().find("layer1.0.downsample.0") < 0);
  CHECK(small.layer_inputs("layer1.0.add") == std::vector<std::string>{"layer1.0.bn2", "maxpool"});
  CHECK(small.layer("layer2.0.downsample.0").config().get("strides") == "2x2");
  CHECK(small.graph().find("layer2.1.downsample.0") < 0);
  CHECK(small.layer("layer4.1.relu2").output_shape() == Shape{512, 7, 7});
}

TEST_CASE("Keras's ResNet50 has the counts of Keras's summary() and Keras's layer names") {
  // Keras's figures: Total params 25,636,712, of which Non-trainable 53,120; without the top
  // (include_top=False, pooling=None) 23,587,712.
  const auto model = keras_resnet50<float>();
  CHECK(model.parameter_count(true) + model.parameter_count(false) == 25636712);
  CHECK(model.parameter_count(false) == 53120);
  CHECK(model.output_shape() == Shape{1000});
  const auto features = keras_resnet50<float>(1000, false);
  CHECK(features.parameter_count(true) + features.parameter_count(false) == 23587712);
  CHECK(features.output_shape() == Shape{2048, 7, 7});
  CHECK(features.graph().find("predictions") < 0);

  // Convolutions with bias; the stride on a bottleneck's first 1x1 convolution.
  auto& conv1 = const_cast<Layer<float>&>(model.layer("conv1_conv"));
  REQUIRE(conv1.parameters().size() == 2);
  CHECK(conv1.parameters()[0]->value.shape() == Shape{64, 3, 7, 7});
  CHECK(model.layer("conv3_block1_1_conv").config().get("strides") == "2x2");
  CHECK(model.layer("conv3_block1_2_conv").config().get("strides") == "1x1");
  CHECK(model.layer("conv2_block1_1_bn").config().get_double("epsilon") == 1.001e-5);
  CHECK(model.layer("pool1_pool").output_shape() == Shape{64, 56, 56});
  CHECK(model.layer("conv1_pad").output_shape() == Shape{3, 230, 230});  // Keras's ZeroPadding2D(3)
  CHECK(model.layer("pool1_pad").output_shape() == Shape{64, 114, 114});
  CHECK(model.layer("conv4_block6_out").output_shape() == Shape{1024, 14, 14});
  CHECK(model.layer("conv5_block3_out").output_shape() == Shape{2048, 7, 7});
  // Keras adds the shortcut first: the first block of each stage projects, the next ones add x.
  CHECK(model.layer_inputs("conv2_block1_add") ==
        std::vector<std::string>{"conv2_block1_0_bn", "conv2_block1_3_bn"});
  CHECK(model.layer_inputs("conv2_block2_add") ==
        std::vector<std::string>{"conv2_block1_out", "conv2_block2_3_bn"});
  CHECK(model.layer_inputs("predictions") == std::vector<std::string>{"avg_pool"});
  CHECK_THROWS_WITH_AS(keras_resnet50<float>(0), "keras_resnet50: expected classes > 0, got 0",
                       Error);
}

// The PyTorch twin of cifar_resnet (option B shortcuts; padding K // 2 as the builder's), whose
// counts the test below holds:
//   def cb(i, o, k, s): return [nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o)]
//   class Block(nn.Module):
//       def __init__(s, i, o, stride):
//           super().__init__()
//           s.body = nn.Sequential(*cb(i, o, 3, stride), nn.ReLU(), *cb(o, o, 3, 1))
//           s.down = nn.Sequential(*cb(i, o, 1, stride)) if i != o else nn.Identity()
//       def forward(s, x): return (s.body(x) + s.down(x)).relu()
//   def cifar_resnet(depth, classes=10):
//       n, layers, i = (depth - 2) // 6, cb(3, 16, 3, 1) + [nn.ReLU()], 16
//       for o in (16, 32, 64):
//           for b in range(n): layers.append(Block(i, o, 2 if b == 0 and o != 16 else 1)); i = o
//       return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64,
//       classes))
// counted as torchvision's models above.
TEST_CASE("The CIFAR ResNets have the counts of their PyTorch twin") {
  struct Expected {
    Index depth, trainable, moving;
  };
  for (const Expected& expected :
       {Expected{20, 272474, 1568}, Expected{32, 466906, 2464}, Expected{44, 661338, 3360},
        Expected{56, 855770, 4256}, Expected{110, 1730714, 8288}}) {
    CAPTURE(expected.depth);
    const auto model = cifar_resnet<float>(expected.depth);
    CHECK(model.parameter_count(true) == expected.trainable);
    CHECK(model.parameter_count(false) == expected.moving);
    CHECK(model.output_shape() == Shape{10});
  }
  // 6n + 2 layers with weights: the stem, two convolutions per block, fc (projections aside).
  const auto model = cifar_resnet<float>(56, 100);
  Index weighted = 0;
  for (Index i = 0; i < model.size(); ++i) {
    const std::string name = model.layer(i).name();
    weighted +=
        (model.layer(i).kind() == "Conv2D" && name.find("downsample") == std::string::npos) ||
        model.layer(i).kind() == "Dense";
  }
  CHECK(weighted == 56);
  CHECK(model.output_shape() == Shape{100});
  CHECK(model.layer("layer1.8.relu2").output_shape() == Shape{16, 32, 32});
  CHECK(model.layer("layer2.0.downsample.1").output_shape() == Shape{32, 16, 16});
  CHECK(cifar_resnet<float>(20, 10, false).output_shape() == Shape{64, 8, 8});
}

TEST_CASE("ResNet-20 trains: a forward and backward pass gives a finite loss and gradients") {
  auto model = cifar_resnet<float>(20, 10, true, {3, 32, 32}, 7);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  CHECK(model.fuses_softmax());
  Tensor<float> x({2, 3, 32, 32});
  Random random(3);
  x.fill_uniform(random, -1.0f, 1.0f);
  const auto y = Tensor<float>::of({2}, {3, 8});
  const float loss = model.compute_gradients(x, y);
  CHECK(std::isfinite(loss));
  CHECK(loss > 0.0f);
  Index nonzero = 0, weights = 0;
  for (Parameter<float>* p : model.parameters()) {
    if (!p->trainable) continue;
    CAPTURE(p->path);
    CHECK(p->grad.vector().allFinite());
    ++weights;
    nonzero += p->grad.vector().cwiseAbs().maxCoeff() > 0.0f;
  }
  CHECK(nonzero == weights);  // every weight of every block is reached by the gradient
  const Tensor<float> p = model.predict(x);
  CHECK(p.shape() == Shape{2, 10});
  CHECK(std::abs(p.matrix().row(0).sum() - 1.0f) < 1e-5f);
}

TEST_CASE("A ResNet saves and loads with its torchvision names and the same outputs") {
  testing::TempDir dir;
  const auto model = cifar_resnet<float>(8, 10, true, {3, 8, 8}, 5);  // one block per stage
  model.save(dir / "resnet8.mcnn");
  const auto loaded = Model<float>::load(dir / "resnet8.mcnn");
  CHECK(loaded.summary() == model.summary());
  CHECK(loaded.layer_inputs("layer3.0.add") ==
        std::vector<std::string>{"layer3.0.bn2", "layer3.0.downsample.1"});
  Tensor<float> x({2, 3, 8, 8});
  Random random(4);
  x.fill_uniform(random, -1.0f, 1.0f);
  const Tensor<float> expected = model.predict(x), got = loaded.predict(x);
  CHECK(std::equal(expected.begin(), expected.end(), got.begin()));
}

TEST_CASE("The builders refuse a depth that is not 6n + 2 and a number of classes below 1") {
  CHECK_THROWS_WITH_AS(cifar_resnet<float>(21),
                       "cifar_resnet: expected depth = 6n + 2 with n >= 1 (20, 32, 44, 56, 110, "
                       "...), got 21",
                       Error);
  CHECK_THROWS_WITH_AS(cifar_resnet<float>(2),
                       doctest::Contains("cifar_resnet: expected depth = 6n + 2"), Error);
  CHECK_THROWS_WITH_AS(cifar_resnet<float>(20, 0), "cifar_resnet: expected classes > 0, got 0",
                       Error);
  CHECK_THROWS_WITH_AS(resnet18<float>(0), "resnet18: expected classes > 0, got 0", Error);
  CHECK_THROWS_WITH_AS(resnet50<float>(-1), "resnet50: expected classes > 0, got -1", Error);
  // Without the top, the number of classes is not used (Keras's include_top=False ignores it).
  CHECK(resnet18<float>(0, false, {3, 64, 64}).output_shape() == Shape{512, 2, 2});
}
