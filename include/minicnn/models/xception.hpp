// Xception (Chollet 2017) as a graph model (Model<T>, model/model.hpp): keras.applications'
// Xception with Keras's layer names, padding and constants. On (3, 299, 299):
//
//   entry flow   block1_conv1 3x3 stride 2 'valid' (32) - BN - ReLU           -> (32, 149, 149)
//                block1_conv2 3x3 'valid' (64) - BN - ReLU                    -> (64, 147, 147)
//                block2, block3, block4: 128, 256, 728 channels, each halving -> (728, 19, 19)
//   middle flow  block5..block12: 8 blocks of 3 separable convolutions (728)  -> (728, 19, 19)
//   exit flow    block13 (728, then 1024 channels, halving)                   -> (1024, 10, 10)
//                block14_sepconv1 (1536) - BN - ReLU, block14_sepconv2 (2048) - BN - ReLU
//                                                                             -> (2048, 10, 10)
//   top          avg_pool, predictions (Dense), predictions_softmax           -> (classes)
//
// A down-sampling block ("block3"; block2 and block13 alike) on x:
//   r = relu(x)                                   (block2 reads block1's ReLU output: no ReLU)
//   r = bn(sepconv_3x3(r)), r = bn(sepconv_3x3(relu(r)))          separable, 'same', no bias
//   y = maxpool_3x3,2,'same'(r) + bn(conv_1x1,2,'same'(x))        the residual is projected
// A middle-flow block: y = x + bn(sepconv(relu(bn(sepconv(relu(bn(sepconv(relu(x))))))))).
// Unlike ResNets, the activation comes before each separable convolution, so a block's output (the
// sum) is not rectified.
//
// Names are Keras's: block1_conv1, block1_conv1_bn, block1_conv1_act, block2_sepconv1,
// block2_sepconv1_bn, block2_sepconv2_act (the ReLU before block2_sepconv2), block2_pool, ...,
// avg_pool, predictions; then "predictions_softmax" (Keras's activation='softmax' of predictions).
// Keras leaves the projections and the sums unnamed, so they carry the names Keras gives them in a
// fresh session: conv2d, batch_normalization (block2's projection), conv2d_1 ... conv2d_3 and
// batch_normalization_1 ... _3 (block3, block4, block13), add, add_1, ..., add_11 (the sums of
// block2 to block13).
//
// Keras's constants: BatchNormalization's defaults (momentum 0.99, epsilon 1e-3), convolutions
// without bias, Glorot-uniform kernels (Keras's default). Padding as Keras's: the two stem
// convolutions 'valid', the rest 'same' (TensorFlow's rule, window.hpp: the odd extra row or column
// at the bottom/right; for the 1x1 stride-2 projections and the 3x3 separable convolutions at
// stride 1 it is symmetric or nothing), and the max pools 'same', whose padding never wins
// (max_pool2d.hpp pads with -infinity, as TensorFlow). 147 -> 74 -> 37 -> 19 -> 10.
#pragma once

#include <cstdint>
#include <string>

#include "minicnn/error.hpp"
#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/add.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "minicnn/layers/separable_conv2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/model/model.hpp"
#include "minicnn/models/resnet.hpp"  // detail::add_named

namespace minicnn {

namespace detail {

// Keras's names for the layers keras.applications' xception.py leaves unnamed: `base` ("conv2d",
// "add") for the first, then `base_1`, `base_2`, ...
inline std::string keras_default_name(const std::string& base, Index index) {
  return index == 0 ? base : base + "_" + std::to_string(index);
}

// SeparableConv2D 3x3 'same' without bias named `{name}`, then BatchNormalization `{name}_bn`.
template <typename T>
Node sepconv_bn(Model<T>& model, Node x, const std::string& name, Index filters) {
  x = add_named<SeparableConv2D>(model, name, {x}, filters, 3, 1, Padding::same, 1, false);
  return add_named<BatchNorm>(model, name + "_bn", {x});
}

// A down-sampling block of the entry and exit flows named `block` ("block3"): two separable
// convolutions to `filters1` then `filters2` channels, a 3x3 stride-2 max pool, plus the projected
// residual, which is Keras's `projection`-th unnamed Conv2D and BatchNormalization (0 for block2,
// 3 for block13); the sum is its `sum`-th unnamed Add. `relu_first` is false for block2, whose
// input is already rectified.
template <typename T>
Node xception_down_block(Model<T>& model, Node x, const std::string& block, Index projection,
                         Index sum, Index filters1, Index filters2, bool relu_first) {
  Node residual = add_named<Conv2D>(model, keras_default_name("conv2d", projection), {x}, filters2,
                                    1, 2, Padding::same, false);
  residual = add_named<BatchNorm>(model, keras_default_name("batch_normalization", projection),
                                  {residual});
  Node r = x;
  if (relu_first) r = add_named<ReLU>(model, block + "_sepconv1_act", {r});
  r = sepconv_bn(model, r, block + "_sepconv1", filters1);
  r = add_named<ReLU>(model, block + "_sepconv2_act", {r});
  r = sepconv_bn(model, r, block + "_sepconv2", filters2);
  r = add_named<MaxPool2D>(model, block + "_pool", {r}, 3, 2, Padding::same);
  return add_named<Add>(model, keras_default_name("add", sum), {r, residual});
}

}  // namespace detail

// keras.applications.Xception (weights=None). Parameters on 1,000 classes, as Keras's summary()
// prints them, checked by tests/model/test_zoo_mobile.cpp: 22,855,952 trainable + 54,528 moving
// statistics = 22,910,480; without the top 20,861,480 (predictions' 2048 * classes + classes
// less).
template <typename T>
Model<T> xception(Index classes = 1000, bool include_top = true, const Shape& input = {3, 299, 299},
                  std::uint64_t seed = 0) {
  using detail::add_named;
  if (include_top && classes <= 0) fail("xception: expected classes > 0, got ", classes);
  Model<T> model;
  Node x = model.input(input);
  // Entry flow.
  x = add_named<Conv2D>(model, "block1_conv1", {x}, 32, 3, 2, Padding::valid, false);
  x = add_named<BatchNorm>(model, "block1_conv1_bn", {x});
  x = add_named<ReLU>(model, "block1_conv1_act", {x});
  x = add_named<Conv2D>(model, "block1_conv2", {x}, 64, 3, 1, Padding::valid, false);
  x = add_named<BatchNorm>(model, "block1_conv2_bn", {x});
  x = add_named<ReLU>(model, "block1_conv2_act", {x});
  x = detail::xception_down_block(model, x, "block2", 0, 0, 128, 128, false);
  x = detail::xception_down_block(model, x, "block3", 1, 1, 256, 256, true);
  x = detail::xception_down_block(model, x, "block4", 2, 2, 728, 728, true);
  // Middle flow: eight blocks of three separable convolutions around an identity.
  for (Index b = 5; b <= 12; ++b) {
    const std::string block = "block" + std::to_string(b);
    Node r = x;
    for (int k = 1; k <= 3; ++k) {
      const std::string sepconv = block + "_sepconv" + std::to_string(k);
      r = add_named<ReLU>(model, sepconv + "_act", {r});
      r = detail::sepconv_bn(model, r, sepconv, 728);
    }
    x = add_named<Add>(model, detail::keras_default_name("add", b - 2), {r, x});
  }
  // Exit flow.
  x = detail::xception_down_block(model, x, "block13", 3, 11, 728, 1024, true);
  x = detail::sepconv_bn(model, x, "block14_sepconv1", 1536);
  x = add_named<ReLU>(model, "block14_sepconv1_act", {x});
  x = detail::sepconv_bn(model, x, "block14_sepconv2", 2048);
  x = add_named<ReLU>(model, "block14_sepconv2_act", {x});
  if (include_top) {
    x = add_named<GlobalAveragePooling2D>(model, "avg_pool", {x});
    x = add_named<Dense>(model, "predictions", {x}, classes);
    x = add_named<Softmax>(model, "predictions_softmax", {x});
  }
  model.build(x, seed);
  return model;
}

}  // namespace minicnn
