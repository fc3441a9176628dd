// Residual networks as graph models (Model<T>, model/model.hpp): torchvision's ResNet-18, -34 and
// -50, Keras's ResNet50, and the CIFAR ResNets of He et al. 2016 (section 4.2). Unlike the labs'
// zoo (models.hpp), whose builders return unbuilt Sequential models, a graph model is built on its
// input as it is assembled, so these builders take the input shape and a seed and return a built
// model.
//
// Layer names are torchvision's module paths ("conv1", "bn1", "layer1.0.conv1",
// "layer2.0.downsample.0", "fc"), so that a weight importer can map a state_dict by name. The
// layers torchvision applies as functions or reuses have names of their own: "layer1.0.add" (the
// residual sum), "layer1.0.relu1", "layer1.0.relu2", ... (the k-th ReLU of the block: the one after
// bnk, and the last one after the add), the stem's "relu" and "maxpool", the head's "avgpool" and
// "softmax".
//
// What follows torchvision, and what does not:
// - Convolutions have no bias (BatchNorm's beta takes its place) and BatchNorm has torchvision's
//   constants: PyTorch's momentum 0.1 is minicnn's (Keras's) 0.9 (batch_norm.hpp), epsilon 1e-5.
//   Trainable parameters are therefore torchvision's sum over parameters(), and the non-trainable
//   ones its running means and variances (Keras's summary() counts them; PyTorch keeps them as
//   buffers).
// - Padding, as torchvision's: a KxK convolution pads K/2 on every side (Conv2D with Pads), and
//   the 3x3 max pool pads 1: a ZeroPadding2D "maxpool_pad" before a 'valid' MaxPool2D, exact
//   since the pool's input comes out of a ReLU (>= 0), where PyTorch's -inf padding never wins
//   either. 224 -> 112 (conv1) -> 56 (maxpool) -> 56, 28, 14, 7 (layer1..4).
// - Initialisation: He et al.'s, as torchvision's (he_normal here draws with fan_in, torchvision's
//   kaiming_normal_ with fan_out); BatchNorm gamma 1, beta 0; the classifier Glorot-uniform.
// - The classifier ends with Softmax (parameter-free), as every zoo model and Keras's
//   classifier_activation='softmax' do: predict() gives probabilities, and training fuses it with
//   a cross-entropy on probabilities into the logits version (docs/training.md). torchvision
//   returns the logits of "fc".
// - include_top = false stops at the last block's output, the feature map (Keras's
//   include_top=False, pooling=None): (512, 7, 7) or (2048, 7, 7) on (3, 224, 224).
//
// keras_resnet50 is Keras's ResNet50 with Keras's names and constants. The labs' registry
// (model_zoo() in models.hpp) holds builders of Sequential models; these are plain functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/add.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/layers/zero_padding2d.hpp"
#include "minicnn/model/model.hpp"

namespace minicnn {

namespace detail {

// torchvision's BatchNorm2d(momentum=0.1, eps=1e-5) in minicnn's momentum convention.
constexpr double kTorchBatchNormMomentum = 0.9;
constexpr double kTorchBatchNormEpsilon = 1e-5;

// A ResNet's architecture: its block, and its stages' sizes. A block's output has width channels
// (BasicBlock) or 4 * width (Bottleneck).
struct ResNetSpec {
  bool bottleneck;            // Bottleneck blocks (1x1, 3x3, 1x1) instead of BasicBlock (3x3, 3x3)
  std::vector<Index> blocks;  // blocks per stage
  std::vector<Index> widths;  // a stage's inner width
  Index stem_channels;        // the channels entering the first stage
};

// Adds LayerType<T>(args...) named `name`, reading `inputs`.
template <template <typename> class LayerType, typename T, typename... Args>
Node add_named(Model<T>& model, std::string name, const std::vector<Node>& inputs, Args&&... args) {
  auto layer = std::make_unique<LayerType<T>>(std::forward<Args>(args)...);
  layer->set_name(std::move(name));
  return model.add(std::move(layer), inputs);
}

// A KxK convolution without bias, padded K/2 on every side (torchvision's), named `conv`, then
// BatchNorm named `bn`: every convolution of a ResNet.
template <typename T>
Node conv_bn(Model<T>& model, Node x, const std::string& conv, const std::string& bn, Index filters,
             Index kernel, Index stride) {
  x = add_named<Conv2D>(model, conv, {x}, filters, kernel, stride, Pads(kernel / 2), false,
                        Initializer::he_normal);
  return add_named<BatchNorm>(model, bn, {x}, kTorchBatchNormMomentum, kTorchBatchNormEpsilon);
}

// One residual block named `block` ("layer2.0") on x, which has `channels` channels:
//   BasicBlock:  r = bn2(conv2_3x3(relu(bn1(conv1_3x3,stride(x)))))          out: width channels
//   Bottleneck:  r = bn3(conv3_1x1(relu(bn2(conv2_3x3,stride(relu(bn1(conv1_1x1(x))))))))
//                                                                         out: 4 * width channels
//   y = relu(r + shortcut),  shortcut = x, or downsample.1(downsample.0_1x1,stride(x)) (conv + BN)
//   when the block changes the shape (stride != 1 or channels != out).
// The stride is on the 3x3 convolution in both (torchvision's "ResNet v1.5"; the paper's
// bottleneck strides its first 1x1).
template <typename T>
Node residual_block(Model<T>& model, Node x, const std::string& block, Index channels, Index width,
                    Index stride, bool bottleneck) {
  const auto name = [&](const std::string& layer) { return block + "." + layer; };
  // The k-th convolution of the block is conv{k}, then bn{k} and relu{k}; the last convolution's
  // ReLU comes after the add.
  const auto numbered = [&](const char* layer, Index i) { return name(layer + std::to_string(i)); };
  const Index out = bottleneck ? 4 * width : width;
  Node r = x;
  Index k = 1;
  if (bottleneck) {
    r = conv_bn(model, r, numbered("conv", k), numbered("bn", k), width, 1, 1);
    r = add_named<ReLU>(model, numbered("relu", k++), {r});
  }
  r = conv_bn(model, r, numbered("conv", k), numbered("bn", k), width, 3, stride);
  r = add_named<ReLU>(model, numbered("relu", k++), {r});
  r = conv_bn(model, r, numbered("conv", k), numbered("bn", k), out, bottleneck ? 1 : 3, 1);
  const Node shortcut =
      stride != 1 || channels != out
          ? conv_bn(model, x, name("downsample.0"), name("downsample.1"), out, 1, stride)
          : x;
  const Node sum = add_named<Add>(model, name("add"), {r, shortcut});
  return add_named<ReLU>(model, numbered("relu", k), {sum});
}

// The stages "layer1", "layer2", ... of `spec` on x: the first block of every stage but the first
// halves the resolution. Returns the last block's output.
template <typename T>
Node residual_stages(Model<T>& model, Node x, const ResNetSpec& spec) {
  Index channels = spec.stem_channels;
  for (std::size_t s = 0; s < spec.blocks.size(); ++s)
    for (Index b = 0; b < spec.blocks[s]; ++b) {
      const std::string block = "layer" + std::to_string(s + 1) + "." + std::to_string(b);
      const Index stride = s > 0 && b == 0 ? 2 : 1;
      x = residual_block(model, x, block, channels, spec.widths[s], stride, spec.bottleneck);
      channels = spec.bottleneck ? 4 * spec.widths[s] : spec.widths[s];
    }
  return x;
}

// The head avgpool - fc - softmax when include_top, then build() with x as the output.
template <typename T>
Model<T> finish_resnet(Model<T> model, Node x, Index classes, bool include_top,
                       std::uint64_t seed) {
  if (include_top) {
    x = add_named<GlobalAveragePooling2D>(model, "avgpool", {x});
    x = add_named<Dense>(model, "fc", {x}, classes);
    x = add_named<Softmax>(model, "softmax", {x});
  }
  model.build(x, seed);
  return model;
}

// An ImageNet ResNet of torchvision: stem conv1 7x7/2 (64) - bn1 - relu - maxpool 3x3/2, the
// stages, the head.
template <typename T>
Model<T> torchvision_resnet(const char* who, const ResNetSpec& spec, Index classes,
                            bool include_top, const Shape& input, std::uint64_t seed) {
  if (include_top && classes <= 0) fail(who, ": expected classes > 0, got ", classes);
  Model<T> model;
  Node x = model.input(input);
  x = conv_bn(model, x, "conv1", "bn1", 64, 7, 2);
  x = add_named<ReLU>(model, "relu", {x});
  x = add_named<ZeroPadding2D>(model, "maxpool_pad", {x}, 1);
  x = add_named<MaxPool2D>(model, "maxpool", {x}, 3, 2);
  x = residual_stages(model, x, spec);
  return finish_resnet(std::move(model), x, classes, include_top, seed);
}

}  // namespace detail

// ---- torchvision's ImageNet ResNets ----------------------------------------------------------
//
// Parameters on 1,000 classes, trainable (torchvision's sum over parameters()) + non-trainable
// (BatchNorm's moving statistics, torchvision's running_mean and running_var), checked by
// tests/model/test_zoo_graphs.cpp; without the top, fc's 512 * 1000 + 1000 or 2048 * 1000 + 1000
// less.

// ResNet-18: BasicBlock x (2, 2, 2, 2). 11,689,512 trainable + 9,600 = 11,699,112.
template <typename T>
Model<T> resnet18(Index classes = 1000, bool include_top = true, const Shape& input = {3, 224, 224},
                  std::uint64_t seed = 0) {
  return detail::torchvision_resnet<T>("resnet18", {false, {2, 2, 2, 2}, {64, 128, 256, 512}, 64},
                                       classes, include_top, input, seed);
}

// ResNet-34: BasicBlock x (3, 4, 6, 3). 21,797,672 trainable + 17,024 = 21,814,696.
template <typename T>
Model<T> resnet34(Index classes = 1000, bool include_top = true, const Shape& input = {3, 224, 224},
                  std::uint64_t seed = 0) {
  return detail::torchvision_resnet<T>("resnet34", {false, {3, 4, 6, 3}, {64, 128, 256, 512}, 64},
                                       classes, include_top, input, seed);
}

// ResNet-50: Bottleneck x (3, 4, 6, 3), outputs 256, 512, 1024, 2048 channels.
// 25,557,032 trainable + 53,120 = 25,610,152. (Keras's ResNet50, keras_resnet50 below, has
// biases in its convolutions and strides its bottlenecks' first 1x1.)
template <typename T>
Model<T> resnet50(Index classes = 1000, bool include_top = true, const Shape& input = {3, 224, 224},
                  std::uint64_t seed = 0) {
  return detail::torchvision_resnet<T>("resnet50", {true, {3, 4, 6, 3}, {64, 128, 256, 512}, 64},
                                       classes, include_top, input, seed);
}

// ---- Keras's ResNet50 (keras.applications) ---------------------------------------------------

namespace detail {

// keras.applications' ResNets give every BatchNormalization epsilon 1.001e-5 and Keras's default
// momentum (0.99).
constexpr double kKerasResNetEpsilon = 1.001e-5;

// Conv2D (with bias, Keras's default) named `{name}_conv`, then BatchNormalization `{name}_bn`.
// 'same' padding, as keras.applications' resnet.py declares (for a 1x1 convolution it pads
// nothing), or 'valid' after a ZeroPadding2D of its own (conv1).
template <typename T>
Node keras_conv_bn(Model<T>& model, Node x, const std::string& name, Index filters, Index kernel,
                   Index stride, Padding padding = Padding::same) {
  x = add_named<Conv2D>(model, name + "_conv", {x}, filters, kernel, stride, padding);
  return add_named<BatchNorm>(model, name + "_bn", {x}, 0.99, kKerasResNetEpsilon);
}

// Keras's bottleneck block ("block1" of keras.applications' resnet.py), named `block`
// ("conv3_block1"): the stride is on the first 1x1 convolution, as in He et al. 2016,
//   r = _3_bn(_3_conv_1x1(relu(_2_bn(_2_conv_3x3(relu(_1_bn(_1_conv_1x1,stride(x))))))))
//   y = relu(shortcut + r),  shortcut = _0_bn(_0_conv_1x1,stride(x)) in a stage's first block, else
//   x
template <typename T>
Node keras_bottleneck(Model<T>& model, Node x, const std::string& block, Index filters,
                      Index stride, bool conv_shortcut) {
  const Node shortcut =
      conv_shortcut ? keras_conv_bn(model, x, block + "_0", 4 * filters, 1, stride) : x;
  Node r = keras_conv_bn(model, x, block + "_1", filters, 1, stride);
  r = add_named<ReLU>(model, block + "_1_relu", {r});
  r = keras_conv_bn(model, r, block + "_2", filters, 3, 1);
  r = add_named<ReLU>(model, block + "_2_relu", {r});
  r = keras_conv_bn(model, r, block + "_3", 4 * filters, 1, 1);
  const Node sum = add_named<Add>(model, block + "_add", {shortcut, r});
  return add_named<ReLU>(model, block + "_out", {sum});
}

}  // namespace detail

// keras.applications.ResNet50 with Keras's layer names: conv1_conv 7x7/2 (64) - conv1_bn -
// conv1_relu - pool1_pool 3x3/2, the stages conv2..conv5 of 3, 4, 6 and 3 bottleneck blocks
// (conv2_block1_1_conv, ..., conv2_block1_add, conv2_block1_out), avg_pool, predictions (Dense),
// then Softmax ("predictions_softmax": Keras's activation='softmax' of predictions).
// Parameters on 1,000 classes, as Keras's summary() prints them: 25,583,592 trainable + 53,120
// moving statistics = 25,636,712; without the top 23,587,712. torchvision's resnet50 is this
// network with its stride on the 3x3 convolutions and no bias in the convolutions (26,560 fewer).
// Padding as Keras's: conv1 and pool1 are 'valid' windows after ZeroPadding2D layers of 3 and 1
// (conv1_pad, pool1_pad), every other convolution 'same'.
template <typename T>
Model<T> keras_resnet50(Index classes = 1000, bool include_top = true,
                        const Shape& input = {3, 224, 224}, std::uint64_t seed = 0) {
  if (include_top && classes <= 0) fail("keras_resnet50: expected classes > 0, got ", classes);
  Model<T> model;
  Node x = model.input(input);
  x = detail::add_named<ZeroPadding2D>(model, "conv1_pad", {x}, 3);
  x = detail::keras_conv_bn(model, x, "conv1", 64, 7, 2, Padding::valid);
  x = detail::add_named<ReLU>(model, "conv1_relu", {x});
  x = detail::add_named<ZeroPadding2D>(model, "pool1_pad", {x}, 1);
  x = detail::add_named<MaxPool2D>(model, "pool1_pool", {x}, 3, 2);
  const Index blocks[] = {3, 4, 6, 3};
  for (Index s = 0; s < 4; ++s)
    for (Index b = 0; b < blocks[s]; ++b) {
      const std::string block = "conv" + std::to_string(s + 2) + "_block" + std::to_string(b + 1);
      x = detail::keras_bottleneck(model, x, block, 64 << s, s > 0 && b == 0 ? 2 : 1, b == 0);
    }
  if (include_top) {
    x = detail::add_named<GlobalAveragePooling2D>(model, "avg_pool", {x});
    x = detail::add_named<Dense>(model, "predictions", {x}, classes);
    x = detail::add_named<Softmax>(model, "predictions_softmax", {x});
  }
  model.build(x, seed);
  return model;
}

// ---- The CIFAR ResNets of He et al. 2016, section 4.2 ------------------------------------------
//
// On (3, 32, 32): conv1 3x3 (16) - bn1 - relu, three stages of n = (depth - 2) / 6 BasicBlocks
// with 16, 32 and 64 filters on 32x32, 16x16 and 8x8 maps (the first block of stages 2 and 3
// strides 2), then the head: 6n + 2 layers with weights. The paper's shortcuts are identities
// with zero-padded extra channels where the width doubles (its option A); minicnn has no layer
// for that padding, so the two blocks that double the width project with a 1x1 convolution and
// BatchNorm (option B), which adds 16*32 + 2*32 and 32*64 + 2*64 trainable parameters (2,752).
// Counts on 10 classes, trainable (the paper's 0.27 M, 0.46 M, 0.66 M, 0.85 M and 1.7 M with
// option A) + moving statistics, checked against the PyTorch twin of
// tests/model/test_zoo_graphs.cpp:
//   ResNet-20 272,474 + 1,568   ResNet-32 466,906 + 2,464   ResNet-44 661,338 + 3,360
//   ResNet-56 855,770 + 4,256   ResNet-110 1,730,714 + 8,288
// Names follow the torchvision models' ("layer1.0.conv1", ...); depth is any 6n + 2.
template <typename T>
Model<T> cifar_resnet(Index depth = 20, Index classes = 10, bool include_top = true,
                      const Shape& input = {3, 32, 32}, std::uint64_t seed = 0) {
  if (depth < 8 || (depth - 2) % 6 != 0)
    fail("cifar_resnet: expected depth = 6n + 2 with n >= 1 (20, 32, 44, 56, 110, ...), got ",
         depth);
  if (include_top && classes <= 0) fail("cifar_resnet: expected classes > 0, got ", classes);
  const Index n = (depth - 2) / 6;
  Model<T> model;
  Node x = model.input(input);
  x = detail::conv_bn(model, x, "conv1", "bn1", 16, 3, 1);
  x = detail::add_named<ReLU>(model, "relu", {x});
  x = detail::residual_stages(model, x, {false, {n, n, n}, {16, 32, 64}, 16});
  return detail::finish_resnet(std::move(model), x, classes, include_top, seed);
}

}  // namespace minicnn
