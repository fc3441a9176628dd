// MobileNetV2 (Sandler et al. 2018) as a graph model (Model<T>, model/model.hpp), with
// torchvision's topology, padding, constants and layer names, so that a weight importer can map a
// state_dict by name. On (3, 224, 224):
//
//   features.0       conv 3x3 stride 2 (32) - BN - ReLU6                          -> (32, 112, 112)
//   features.1..17   inverted residual blocks, from the table (t, c, n, s) below  -> (320, 7, 7)
//   features.18      conv 1x1 (1280) - BN - ReLU6                                 -> (1280, 7, 7)
//   avgpool, classifier.0 Dropout(0.2), classifier.1 Linear, softmax               -> (classes)
//
// An inverted residual block on x with C channels, expand ratio t, output channels c, stride s:
//   h = relu6(bn(conv_1x1(x)))                   t*C channels (the expansion; absent when t = 1)
//   h = relu6(bn(depthwise_3x3,s(h)))            one 3x3 kernel per channel, stride s
//   y = bn(conv_1x1(h))                          c channels, no activation (the "linear
//   bottleneck") y = x + y                                    when s = 1 and C = c (the residual)
// The first block of a row (t, c, n, s) has stride s, the n - 1 others stride 1.
//
// Names are torchvision's module paths: "features.0.0" (conv), "features.0.1" (BN), "features.0.2"
// (ReLU6); in a block with expansion "features.3.conv.0.0/1/2" (expand conv, BN, ReLU6),
// "features.3.conv.1.0/1/2" (depthwise conv, BN, ReLU6), "features.3.conv.2" (project conv),
// "features.3.conv.3" (its BN); features.1 (t = 1) has no expansion, so its depthwise step is
// conv.0 and its projection conv.1 and conv.2. torchvision's ReLU6 are modules, so they have their
// paths; what it applies as a function has a name of its own: "features.3.add" (the residual sum),
// "avgpool" (adaptive_avg_pool2d) and "softmax".
//
// What follows torchvision, and what does not:
// - Convolutions (depthwise ones too) have no bias; BatchNorm has torchvision's constants
//   (momentum 0.1 = minicnn's 0.9, epsilon 1e-5). Trainable parameters are therefore torchvision's
//   sum over parameters(), the non-trainable ones its running means and variances.
// - Padding, as torchvision's: K/2 on every side, so 1 around every 3x3 convolution (Conv2D and
//   DepthwiseConv2D with Pads), 0 around the 1x1 ones. At stride 2 on an even input this pads one
//   row more on top than TensorFlow's 'same' would: the reference here is torchvision.
// - Initialisation: He et al.'s for the convolutions (torchvision's kaiming_normal_ draws with
//   fan_out, he_normal with fan_in), BatchNorm gamma 1, beta 0, the classifier Glorot-uniform
//   (torchvision draws it from N(0, 0.01)).
// - The classifier ends with Softmax (parameter-free), as every zoo model: predict() gives
//   probabilities and training fuses it with the loss (docs/training.md). torchvision returns the
//   logits of classifier.1.
// - include_top = false stops at features.18's ReLU6, the feature map (Keras's include_top=False,
//   pooling=None): (1280, 7, 7) on (3, 224, 224).
// - Width multiplier 1 only (torchvision's default): every channel count of the table is already
//   a multiple of 8, so torchvision's rounding (_make_divisible) changes none of them.
#pragma once

#include <cstdint>
#include <string>

#include "minicnn/error.hpp"
#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/add.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/depthwise_conv2d.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/model/model.hpp"
#include "minicnn/models/resnet.hpp"  // detail::add_named and torchvision's BatchNorm constants

namespace minicnn {

namespace detail {

// ReLU6: the activation of every MobileNetV2 block, ReLU capped at 6 (kept in the range a
// low-precision fixed-point format holds, the reason the paper gives).
constexpr double kReLU6 = 6.0;

// A KxK convolution without bias, padded K/2 on every side (torchvision's Conv2d(..., padding=K//2,
// bias=False)), depthwise when `depthwise` (torchvision's groups = channels; `filters` is then the
// input's channels, one kernel each), named `conv`, then BatchNorm named `bn`.
template <typename T>
Node mobilenet_conv(Model<T>& model, Node x, const std::string& conv, const std::string& bn,
                    Index filters, Index kernel, Index stride, bool depthwise) {
  if (depthwise)
    x = add_named<DepthwiseConv2D>(model, conv, {x}, kernel, stride, Pads(kernel / 2), 1, false, 1,
                                   Initializer::he_normal);
  else
    x = add_named<Conv2D>(model, conv, {x}, filters, kernel, stride, Pads(kernel / 2), false,
                          Initializer::he_normal);
  return add_named<BatchNorm>(model, bn, {x}, kTorchBatchNormMomentum, kTorchBatchNormEpsilon);
}

// Conv - BN - ReLU6 named `{prefix}.0`, `.1`, `.2` (torchvision's Conv2dNormActivation).
template <typename T>
Node conv_bn_relu6(Model<T>& model, Node x, const std::string& prefix, Index filters, Index kernel,
                   Index stride, bool depthwise = false) {
  x = mobilenet_conv(model, x, prefix + ".0", prefix + ".1", filters, kernel, stride, depthwise);
  return add_named<ReLU>(model, prefix + ".2", {x}, kReLU6);
}

// The inverted residual block `block` ("features.3") on x, which has `channels` channels (see the
// formulas at the top of this file).
template <typename T>
Node inverted_residual(Model<T>& model, Node x, const std::string& block, Index channels,
                       Index expand_ratio, Index out, Index stride) {
  const auto conv = [&](Index k) { return block + ".conv." + std::to_string(k); };
  Index k = 0;
  Node h = x;
  if (expand_ratio != 1) h = conv_bn_relu6(model, h, conv(k++), expand_ratio * channels, 1, 1);
  h = conv_bn_relu6(model, h, conv(k++), expand_ratio * channels, 3, stride, true);
  h = mobilenet_conv(model, h, conv(k), conv(k + 1), out, 1, 1, false);
  if (stride == 1 && channels == out) h = add_named<Add>(model, block + ".add", {x, h});
  return h;
}

}  // namespace detail

// torchvision's mobilenet_v2 (weights=None). Parameters on 1,000 classes, checked by
// tests/model/test_zoo_mobile.cpp against torchvision 0.14: 3,504,872 trainable (its sum over
// parameters()) + 34,112 moving statistics; without the top 2,223,872 trainable (classifier.1's
// 1280 * classes + classes less).
template <typename T>
Model<T> mobilenet_v2(Index classes = 1000, bool include_top = true,
                      const Shape& input = {3, 224, 224}, std::uint64_t seed = 0) {
  if (include_top && classes <= 0) fail("mobilenet_v2: expected classes > 0, got ", classes);
  // The paper's table 2: expand ratio t, output channels c, repeats n, stride of the first s.
  struct Row {
    Index t, c, n, s;
  };
  const Row rows[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                      {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  Model<T> model;
  Node x = model.input(input);
  x = detail::conv_bn_relu6(model, x, "features.0", 32, 3, 2);
  Index channels = 32, index = 1;
  for (const Row& row : rows)
    for (Index i = 0; i < row.n; ++i) {
      const std::string block = "features." + std::to_string(index++);
      x = detail::inverted_residual(model, x, block, channels, row.t, row.c, i == 0 ? row.s : 1);
      channels = row.c;
    }
  x = detail::conv_bn_relu6(model, x, "features." + std::to_string(index), 1280, 1, 1);
  if (include_top) {
    x = detail::add_named<GlobalAveragePooling2D>(model, "avgpool", {x});
    x = detail::add_named<Dropout>(model, "classifier.0", {x}, 0.2);
    x = detail::add_named<Dense>(model, "classifier.1", {x}, classes);
    x = detail::add_named<Softmax>(model, "softmax", {x});
  }
  model.build(x, seed);
  return model;
}

}  // namespace minicnn
