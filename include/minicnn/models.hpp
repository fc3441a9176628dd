// Named models: the architectures of the course's labs, as unbuilt Sequential models. Build
// them on the input they were designed for: model.build({1, 28, 28}, seed) for MNIST and
// Fashion-MNIST, model.build({3, 32, 32}, seed) for CIFAR. model_zoo() at the end registers
// every one by name with the lab's training recipe; the example trainers choose from it.
//
// The labs are the course's pages in shared/seeds/ (docs/experiments.md has the table of which
// model comes from which page and section, and what was checked). Each model has the layers of
// its page, in its order: activations only where the page puts them. The Keras and PyTorch lab
// (003_b2361d6a25800958.txt) lists a convolution as "Conv2D: filters, kernel, stride, padding"
// and a Dense layer with its activation; Keras's Conv2D has no activation unless given one, and
// the PyTorch half writes its one ReLU as a layer of its own ("Activation: 'relu'", PraisyNet's
// ReLU()), so the lab's convolutions are linear. Its accuracies agree: model 1, a convolution
// feeding Dense 10 with nothing between them, is then a linear classifier, and the lab's 91.96 %
// on MNIST is what a linear classifier reaches (docs/experiments.md compares it with the same
// layers and a ReLU).
// Classifiers end with Dense(classes) and Softmax, so that the probability cross-entropy losses
// apply and Sequential fuses them (see sequential.hpp); PyTorch's CrossEntropyLoss does the same.
// Builders take the number of classes, defaulting to the lab's. Parameter counts, as Keras's
// summary() reports them (BatchNorm's moving statistics included; PyTorch counts those as
// buffers), are computed in the comments for the default input and classes, and checked by
// tests/model/test_models.cpp.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/data/image_transform.hpp"
#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/avg_pool2d.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/sequential.hpp"

namespace minicnn {

namespace detail {

// The classifier every lab model ends with: Flatten - Dense(classes) - Softmax.
template <typename T>
void add_classifier(Sequential<T>& model, Index classes) {
  model.template add<Flatten>().template add<Dense>(classes).template add<Softmax>();
}

// Conv2D(filters, kernel) followed by ReLU.
template <typename T>
void add_conv_relu(Sequential<T>& model, Index filters, Index kernel,
                   Padding padding = Padding::valid) {
  model.template add<Conv2D>(filters, kernel, 1, padding).template add<ReLU>();
}

}  // namespace detail

// ---- MNIST ---------------------------------------------------------------------------------

// The default of the MNIST trainer: Keras's "simple MNIST convnet" example (not one of the
// course's pages). Conv2D 32,3 - ReLU - MaxPool 2 - Conv2D 64,3 - ReLU - MaxPool 2 - Flatten -
// Dropout .5 - Dense 10 - Softmax on (1, 28, 28): 34,826 parameters. Small and fast, and
// accurate within a few epochs (docs/experiments.md has its figures).
template <typename T>
Sequential<T> mnist_cnn(Index classes = 10) {
  Sequential<T> model;
  detail::add_conv_relu(model, 32, 3);
  model.template add<MaxPool2D>(2);
  detail::add_conv_relu(model, 64, 3);
  model.template add<MaxPool2D>(2);
  model.template add<Flatten>().template add<Dropout>(0.5);
  model.template add<Dense>(classes).template add<Softmax>();
  return model;
}

// Keras lab model 1 (MNIST and CIFAR-10; the PyTorch lab's model 1 is the same): Conv2D 32,3 -
// Flatten - Dense 10 - Softmax, no activation between (Keras's section 1.2).
//   (1, 28, 28): conv 32*1*9+32 = 320; dense 26*26*32*10+10 = 216,330; total 216,650.
//   (3, 32, 32): conv 32*3*9+32 = 896;  dense 30*30*32*10+10 = 288,010; total 288,906.
template <typename T>
Sequential<T> mnist_model1(Index classes = 10) {
  Sequential<T> model;
  model.template add<Conv2D>(32, 3);
  detail::add_classifier(model, classes);
  return model;
}

// Keras lab model 2 (section 1.4.1): Conv2D 32,3 - Conv2D 64,3 - MaxPool 2 stride 1 -
// Conv2D 128,3 - Flatten - Dense 10 - Softmax on (1, 28, 28). 28 -> 26 -> 24 -> 23 -> 21:
//   conv 320; conv 64*32*9+64 = 18,496; conv 128*64*9+128 = 73,856;
//   dense 21*21*128*10+10 = 564,490; total 657,162.
template <typename T>
Sequential<T> mnist_model2(Index classes = 10) {
  Sequential<T> model;
  model.template add<Conv2D>(32, 3).template add<Conv2D>(64, 3);
  model.template add<MaxPool2D>(2, 1).template add<Conv2D>(128, 3);
  detail::add_classifier(model, classes);
  return model;
}

namespace detail {

// Keras lab models 3 to 5 (section 1.4.2): Conv2D f,5 - Conv2D 2f,5 - BatchNorm (Keras's
// defaults) - MaxPool 2 - Conv2D 4f,5 - Flatten - Dense(classes) - Softmax.
template <typename T>
Sequential<T> keras_batch_norm_model(Index filters, Index pool_stride, Index classes) {
  Sequential<T> model;
  model.template add<Conv2D>(filters, 5).template add<Conv2D>(2 * filters, 5);
  model.template add<BatchNorm>().template add<MaxPool2D>(2, pool_stride);
  model.template add<Conv2D>(4 * filters, 5);
  add_classifier(model, classes);
  return model;
}

}  // namespace detail

// Keras lab model 3: Conv2D 32,5 - Conv2D 64,5 - BatchNorm - MaxPool 2 stride 1 - Conv2D 128,5 -
// Flatten - Dense 10 - Softmax on (1, 28, 28). 28 -> 24 -> 20 -> 19 -> 15:
//   conv 32*1*25+32 = 832; conv 64*32*25+64 = 51,264; batch norm 4*64 = 256 (128 moving
//   statistics); conv 128*64*25+128 = 204,928; dense 15*15*128*10+10 = 288,010;
//   total 545,290, of which 128 non-trainable.
template <typename T>
Sequential<T> mnist_model3(Index classes = 10) {
  return detail::keras_batch_norm_model<T>(32, 1, classes);
}

// Keras lab model 4: model 3 with MaxPool 2 stride 2. 28 -> 24 -> 20 -> 10 -> 6: the dense
// layer shrinks to 6*6*128*10+10 = 46,090; total 303,370, of which 128 non-trainable.
template <typename T>
Sequential<T> mnist_model4(Index classes = 10) {
  return detail::keras_batch_norm_model<T>(32, 2, classes);
}

// Keras lab model 5 (MNIST, and CIFAR-10 section 1.4): Conv2D 64,5 - Conv2D 128,5 - BatchNorm -
// MaxPool 2 - Conv2D 256,5 - Flatten - Dense 10 - Softmax.
//   (1, 28, 28), 28 -> 24 -> 20 -> 10 -> 6: conv 64*1*25+64 = 1,664; conv 128*64*25+128 =
//   204,928; batch norm 4*128 = 512 (256 moving statistics); conv 256*128*25+256 = 819,456;
//   dense 6*6*256*10+10 = 92,170; total 1,118,730.
//   (3, 32, 32), 32 -> 28 -> 24 -> 12 -> 8: conv 64*3*25+64 = 4,864; the same 204,928, 512 and
//   819,456; dense 8*8*256*10+10 = 163,850; total 1,193,610.
template <typename T>
Sequential<T> mnist_model5(Index classes = 10) {
  return detail::keras_batch_norm_model<T>(64, 2, classes);
}

// PyTorch lab model 1 (section 1.1, "the same model1 as with Keras"): Conv2d(1, 32, 3) -
// Linear(26*26*32, 10): 216,650 parameters on (1, 28, 28), 288,906 on (3, 32, 32).
template <typename T>
Sequential<T> pytorch_mnist_model1(Index classes = 10) {
  return mnist_model1<T>(classes);
}

// PyTorch lab model 2 (section 1.2.1): Conv 64,3 - Conv 32,3 - MaxPool 2 stride 1 - Conv 16,3 -
// Flatten - Dense 10, no activation, on (1, 28, 28). 28 -> 26 -> 24 -> 23 -> 21:
//   conv 64*1*9+64 = 640; conv 32*64*9+32 = 18,464; conv 16*32*9+16 = 4,624;
//   dense 21*21*16*10+10 = 70,570; total 94,298.
template <typename T>
Sequential<T> pytorch_mnist_model2(Index classes = 10) {
  Sequential<T> model;
  model.template add<Conv2D>(64, 3).template add<Conv2D>(32, 3);
  model.template add<MaxPool2D>(2, 1).template add<Conv2D>(16, 3);
  detail::add_classifier(model, classes);
  return model;
}

namespace detail {

// The PyTorch lab's block (section 1.2.2): Conv 64,3 - Conv 32,3 - Dropout - ReLU - MaxPool 2
// stride 1, its only activation after the Dropout. The lab writes "Dropout." without a rate:
// 0.5, PyTorch's nn.Dropout() default.
template <typename T>
void add_pytorch_block(Sequential<T>& model) {
  model.template add<Conv2D>(64, 3).template add<Conv2D>(32, 3);
  model.template add<Dropout>(0.5).template add<ReLU>().template add<MaxPool2D>(2, 1);
}

// PyTorch lab models 3 and 4 up to the classifier: the block, then Conv 16,3.
template <typename T>
Sequential<T> pytorch_mnist_features() {
  Sequential<T> model;
  add_pytorch_block(model);
  model.template add<Conv2D>(16, 3);
  return model;
}

}  // namespace detail

// PyTorch lab model 3: Conv 64,3 - Conv 32,3 - Dropout .5 - ReLU - MaxPool 2 stride 1 -
// Conv 16,3 - Flatten - Dense 10; Dropout has no parameters: 94,298 on (1, 28, 28).
template <typename T>
Sequential<T> pytorch_mnist_model3(Index classes = 10) {
  Sequential<T> model = detail::pytorch_mnist_features<T>();
  detail::add_classifier(model, classes);
  return model;
}

// PyTorch lab model 4: model 3 + Dense 128 - ReLU before the classifier.
//   (1, 28, 28): 640 + 18,464 + 4,624; dense 21*21*16*128+128 = 903,296; dense 128*10+10 =
//   1,290; total 928,314.
//   (3, 32, 32), the lab's CIFAR-10 model 4 (section 2.2.1), 32 -> 30 -> 28 -> 27 -> 25:
//   conv 64*3*9+64 = 1,792; 18,464; 4,624; dense 25*25*16*128+128 = 1,280,128; 1,290;
//   total 1,306,298.
template <typename T>
Sequential<T> pytorch_mnist_model4(Index classes = 10) {
  Sequential<T> model = detail::pytorch_mnist_features<T>();
  model.template add<Flatten>().template add<Dense>(128).template add<ReLU>();
  model.template add<Dense>(classes).template add<Softmax>();
  return model;
}

// LeNet-5 (LeCun et al. 1998) as usually reproduced, not one of the course's pages: tanh
// activations, average pooling, full connections between feature maps. Conv 6,5 - Tanh -
// AvgPool 2 - Conv 16,5 - Tanh - AvgPool 2 - Flatten - Dense 120 - Tanh - Dense 84 - Tanh -
// Dense 10 - Softmax. Designed for (1, 32, 32): 32 -> 28 -> 14 -> 10 -> 5:
//   conv 6*1*25+6 = 156; conv 16*6*25+16 = 2,416; dense 5*5*16*120+120 = 48,120;
//   dense 120*84+84 = 10,164; dense 84*10+10 = 850; total 61,706.
// On (3, 32, 32) (CIFAR) the first convolution has 6*3*25+6 = 456: total 62,006.
// MNIST's 28x28 digits: the paper pads them to 32x32 with zeros. first_padding = same does
// exactly that inside the first convolution (a 5x5 'same' convolution pads 2 on every side), so
// lenet5(10, Padding::same) on (1, 28, 28) is the paper's network, with the same 61,706
// parameters, without copying the data set.
template <typename T>
Sequential<T> lenet5(Index classes = 10, Padding first_padding = Padding::valid) {
  Sequential<T> model;
  model.template add<Conv2D>(6, 5, 1, first_padding).template add<Tanh>();
  model.template add<AvgPool2D>(2);
  model.template add<Conv2D>(16, 5).template add<Tanh>().template add<AvgPool2D>(2);
  model.template add<Flatten>().template add<Dense>(120).template add<Tanh>();
  model.template add<Dense>(84).template add<Tanh>();
  model.template add<Dense>(classes).template add<Softmax>();
  return model;
}

// ---- CIFAR-10 ------------------------------------------------------------------------------

// Keras lab model 6 (CIFAR-10 section 1.4) on (3, 32, 32): Conv 64,5 - MaxPool 2 - BatchNorm -
// Conv 128,5 - MaxPool 2 - BatchNorm - Flatten - Dense 128 - ReLU - Dense 10 - Softmax.
// 32 -> 28 -> 14 -> 10 -> 5:
//   conv 4,864; batch norm 4*64 = 256; conv 128*64*25+128 = 204,928; batch norm 4*128 = 512;
//   dense 5*5*128*128+128 = 409,728; dense 128*10+10 = 1,290; total 621,578 (384
//   non-trainable).
template <typename T>
Sequential<T> cifar10_model6(Index classes = 10) {
  Sequential<T> model;
  model.template add<Conv2D>(64, 5).template add<MaxPool2D>(2).template add<BatchNorm>();
  model.template add<Conv2D>(128, 5).template add<MaxPool2D>(2).template add<BatchNorm>();
  model.template add<Flatten>().template add<Dense>(128).template add<ReLU>();
  model.template add<Dense>(classes).template add<Softmax>();
  return model;
}

namespace detail {

// Two blocks of two 5x5 convolutions, each block followed by MaxPool 2 and BatchNorm, then
// Dense 128 - ReLU - Dense(classes) - Softmax: Keras lab model 7 and PyTorch lab's PraisyNet,
// which differ only in their BatchNorm's momentum and epsilon.
template <typename T>
Sequential<T> two_double_conv_blocks(Index classes, double momentum, double epsilon) {
  Sequential<T> model;
  for (Index filters : {64, 128}) {
    model.template add<Conv2D>(filters, 5).template add<Conv2D>(filters, 5);
    model.template add<MaxPool2D>(2).template add<BatchNorm>(momentum, epsilon);
  }
  model.template add<Flatten>().template add<Dense>(128).template add<ReLU>();
  model.template add<Dense>(classes).template add<Softmax>();
  return model;
}

}  // namespace detail

// Keras lab model 7 on (3, 32, 32): Conv 64,5 - Conv 64,5 - MaxPool 2 - BatchNorm - Conv 128,5 -
// Conv 128,5 - MaxPool 2 - BatchNorm - Flatten - Dense 128 - ReLU - Dense 10 - Softmax.
// 32 -> 28 -> 24 -> 12 -> 8 -> 4 -> 2:
//   conv 64*3*25+64 = 4,864; conv 64*64*25+64 = 102,464; batch norm 256;
//   conv 128*64*25+128 = 204,928; conv 128*128*25+128 = 409,728; batch norm 512;
//   dense 2*2*128*128+128 = 65,664; dense 1,290; total 789,706 (384 non-trainable).
// The lab's models 8, 9 and 10 are this architecture trained with augmentation (model_zoo()).
template <typename T>
Sequential<T> cifar10_model7(Index classes = 10) {
  return detail::two_double_conv_blocks<T>(classes, 0.99, 1e-3);
}

// PyTorch lab's PraisyNet (section 3): model 7's layers, as the lab lists them (Conv2d, Conv2d,
// MaxPool2d, LazyBatchNorm2d twice, then LazyLinear(128), ReLU(), LazyLinear), with PyTorch's
// BatchNorm2d defaults (PyTorch momentum 0.1 is 0.9 here, epsilon 1e-5). PyTorch counts 789,322
// parameters; Keras would print 789,706, the running statistics (PyTorch's buffers) included.
template <typename T>
Sequential<T> praisynet(Index classes = 10) {
  return detail::two_double_conv_blocks<T>(classes, 0.9, 1e-5);
}

// PyTorch lab's CIFAR-10 model 5 (section 2.2.2) on (3, 32, 32): the block twice (the second with
// Conv 64,3 - Conv 32,3 again), Conv 16,3 - Flatten - Dense 128 - ReLU - Dense 256 - ReLU -
// Dense 10. 32 -> 30 -> 28 -> 27 -> 25 -> 23 -> 22 -> 20:
//   conv 64*3*9+64 = 1,792; conv 32*64*9+32 = 18,464; conv 64*32*9+64 = 18,496; 18,464;
//   conv 16*32*9+16 = 4,624; dense 20*20*16*128+128 = 819,328; dense 128*256+256 = 33,024;
//   dense 256*10+10 = 2,570; total 916,762.
template <typename T>
Sequential<T> pytorch_cifar10_model5(Index classes = 10) {
  Sequential<T> model;
  detail::add_pytorch_block(model);
  detail::add_pytorch_block(model);
  model.template add<Conv2D>(16, 3);
  model.template add<Flatten>().template add<Dense>(128).template add<ReLU>();
  model.template add<Dense>(256).template add<ReLU>();
  model.template add<Dense>(classes).template add<Softmax>();
  return model;
}

// The CIFAR-10 tutorial's "basic model" (004_272f9899a87222bc.txt, "Model building"), as its
// code declares it: Conv2D(32, (3, 3)) with Keras's default padding, 'valid'. The tutorial's
// shape comments ("Conv4 12 12 (64) => 6 6 (64)", "3 3 (64) => 576") contradict its code; the
// code is followed. Conv 32,3 - ReLU - Conv 32,3 - ReLU - MaxPool 2 - Dropout .25 - Conv 64,3 -
// ReLU - Conv 64,3 - ReLU - MaxPool 2 - Dropout .25 - Flatten - Dense 256 - ReLU - Dropout .5 -
// Dense 10 - Softmax. 32 -> 30 -> 28 -> 14 -> 12 -> 10 -> 5:
//   conv 32*3*9+32 = 896; conv 32*32*9+32 = 9,248; conv 64*32*9+64 = 18,496;
//   conv 64*64*9+64 = 36,928; dense 5*5*64*256+256 = 409,856; dense 256*10+10 = 2,570;
//   total 477,994.
template <typename T>
Sequential<T> cifar10_basic(Index classes = 10) {
  Sequential<T> model;
  for (Index filters : {32, 64}) {
    detail::add_conv_relu(model, filters, 3);
    detail::add_conv_relu(model, filters, 3);
    model.template add<MaxPool2D>(2).template add<Dropout>(0.25);
  }
  model.template add<Flatten>().template add<Dense>(256).template add<ReLU>();
  model.template add<Dropout>(0.5).template add<Dense>(classes).template add<Softmax>();
  return model;
}

// The tutorial's improved model. The page says only that improved_model.py adds "2 more layers
// of convolution as well as image augmentation"; that file, in the tutorial's repository
// (mingruimingrui/Convolution-neural-networks-made-easy-with-keras, commit e0e2a35), declares
// three blocks of two 3x3 'same' convolutions (32, 64, 128 filters), each block followed by
// MaxPool 2 and Dropout .25, then Dense 512 - ReLU - Dropout .5 - Dense 256 - ReLU - Dropout .5 -
// Dense 10 - Softmax. 32 -> 16 -> 8 -> 4:
//   896 + 9,248 + 18,496 + 36,928 (as above, 'same' keeps the counts); conv 128*64*9+128 =
//   73,856; conv 128*128*9+128 = 147,584; dense 4*4*128*512+512 = 1,049,088;
//   dense 512*256+256 = 131,328; dense 2,570; total 1,469,994.
template <typename T>
Sequential<T> cifar10_improved(Index classes = 10) {
  Sequential<T> model;
  for (Index filters : {32, 64, 128}) {
    detail::add_conv_relu(model, filters, 3, Padding::same);
    detail::add_conv_relu(model, filters, 3, Padding::same);
    model.template add<MaxPool2D>(2).template add<Dropout>(0.25);
  }
  model.template add<Flatten>();
  for (Index units : {512, 256})
    model.template add<Dense>(units).template add<ReLU>().template add<Dropout>(0.5);
  model.template add<Dense>(classes).template add<Softmax>();
  return model;
}

// ---- CIFAR-100 -----------------------------------------------------------------------------

// CIFAR-100 with its 20 coarse labels (000_dd355652229978e1.txt, "Model specification"), on
// (3, 32, 32): Conv2D 8,3 - ReLU - Dropout .2 - Conv2D 16,3 - ReLU - MaxPool 2 - Dropout .2 -
// Conv2D 32,3 - ReLU - MaxPool 2 - Flatten - Dense 500 - ReLU - Dropout .2 - Dense 20 - Softmax.
// 32 -> 30 -> 28 -> 14 -> 12 -> 6, as the page's summary prints:
//   conv 8*3*9+8 = 224; conv 16*8*9+16 = 1,168; conv 32*16*9+32 = 4,640;
//   dense 6*6*32*500+500 = 576,500; dense 500*20+20 = 10,020; total 592,552.
template <typename T>
Sequential<T> cifar100_coarse_first(Index classes = 20) {
  Sequential<T> model;
  detail::add_conv_relu(model, 8, 3);
  model.template add<Dropout>(0.2);
  detail::add_conv_relu(model, 16, 3);
  model.template add<MaxPool2D>(2).template add<Dropout>(0.2);
  detail::add_conv_relu(model, 32, 3);
  model.template add<MaxPool2D>(2);
  model.template add<Flatten>().template add<Dense>(500).template add<ReLU>();
  model.template add<Dropout>(0.2).template add<Dense>(classes).template add<Softmax>();
  return model;
}

// CIFAR-100 fine-label baseline (001_73ef590c6f179353.txt, "Baseline Model"), a multilayer
// perceptron on the flattened (3, 32, 32) image: Flatten - Dense 128 - ReLU - Dense 100 -
// Softmax. dense 3072*128+128 = 393,344; dense 128*100+100 = 12,900; total 406,244.
template <typename T>
Sequential<T> cifar100_fine_mlp(Index classes = 100) {
  Sequential<T> model;
  model.template add<Flatten>().template add<Dense>(128).template add<ReLU>();
  model.template add<Dense>(classes).template add<Softmax>();
  return model;
}

// ---- The zoo -------------------------------------------------------------------------------

namespace detail {

// The tutorial's improved_model.py: ImageDataGenerator(zoom_range=0.1, width_shift_range=0.05,
// height_shift_range=0.05, horizontal_flip=True), rotation off.
inline AugmentationSettings tutorial_improved_augmentation() {
  AugmentationSettings s;
  s.horizontal_flip = true;
  s.width_shift = s.height_shift = 0.05;
  s.zoom = 0.1;
  return s;
}

// PraisyNet's augmentation (PyTorch lab section 3): RandomAffine(0, scale=(.2, 1.2), shear=10),
// RandomHorizontalFlip(), RandomRotation(10). The flip, the 10 degrees of rotation and the
// 10 degrees of shear are here; the scale is not: torchvision draws one factor for both axes
// from [0.2, 1.2], while minicnn's zoom (Keras's) draws each axis from [1 - zoom, 1 + zoom]
// around 1. torchvision also fills with zeros where minicnn repeats the nearest edge pixel.
inline AugmentationSettings praisynet_augmentation() {
  AugmentationSettings s;
  s.horizontal_flip = true;
  s.rotation = 10.0;
  s.shear = 10.0;
  return s;
}

}  // namespace detail

// A named model and how its lab trained it. The trainers use the recipe for the options the
// command line leaves unset (zeros and empty strings mean "the page does not say": the
// trainer's default applies).
template <typename T>
struct ZooModel {
  using Builder = std::function<Sequential<T>(Index)>;  // takes the number of classes

  ZooModel(std::string name_, std::string description_, Shape input_, Builder build_,
           AugmentationSettings augmentation_ = {}, Index epochs_ = 0, Index batch_size_ = 0,
           std::string optimizer_ = "")
      : name(std::move(name_)),
        description(std::move(description_)),
        input(std::move(input_)),
        build(std::move(build_)),
        augmentation(augmentation_),
        epochs(epochs_),
        batch_size(batch_size_),
        optimizer(std::move(optimizer_)) {}

  std::string name;
  std::string description;  // the lab and what differs from its neighbours
  Shape input;              // the sample shape it was designed for
  Builder build;
  AugmentationSettings augmentation;  // the lab's (data/image_transform.hpp); default: none
  Index epochs;                       // the lab's epochs (0: not given)
  Index batch_size;                   // the lab's batch size (0: not given)
  std::string optimizer;  // the lab's optimizer, adam, sgd or rmsprop (empty: not given)
};

// Every lab model by name, in the order of the labs. One place: the trainers' --model and their
// --help read this list. The recipes, page by page:
//   Keras lab (003, "Keras"): 20 epochs ("we decided to lower the number of epochs to 20",
//     section 1.2), 100 for model 10 (section 3.1); optimizer and batch size not given.
//   PyTorch lab (003, "PyTorch"): PraisyNet's augmented run 100 epochs ("899.34s (179.87s for
//     20 epochs)", section 3); nothing else given.
//   Tutorial (004, "Model training"): Adam (Keras defaults), batch 128, nb_epoch = 200; the
//     improved model's file has the same (the page's "about 85% in 50 iterations" is a point
//     on the way).
//   CIFAR-100 coarse (000, "Training"): Adam, batch 16, "Epoch 50/50".
//   CIFAR-100 fine (001, "Baseline Model"): rmsprop, epochs=5, batch_size=128.
template <typename T>
const std::vector<ZooModel<T>>& model_zoo() {
  const Shape mnist{1, 28, 28}, cifar{3, 32, 32};
  const AugmentationSettings none,
      flip_shift = augmentation_preset("flip_shift"),
      flip_shift_rotate_zoom = augmentation_preset("flip_shift_rotate_zoom");
  const auto lenet5_on_28x28 = [](Index classes) { return lenet5<T>(classes, Padding::same); };
  static const std::vector<ZooModel<T>> zoo = {
      {"mnist_cnn", "Keras example: simple MNIST convnet", mnist, mnist_cnn<T>},
      {"mnist_model1", "MNIST Keras lab model 1: Conv 32,3 - Dense 10", mnist, mnist_model1<T>,
       none, 20},
      {"mnist_model2", "MNIST Keras lab model 2: Conv 32,3 - Conv 64,3 - MaxPool 2,1 - Conv 128,3",
       mnist, mnist_model2<T>, none, 20},
      {"mnist_model3",
       "MNIST Keras lab model 3: Conv 32,5 - Conv 64,5 - BN - MaxPool 2,1 - Conv 128,5", mnist,
       mnist_model3<T>, none, 20},
      {"mnist_model4", "MNIST Keras lab model 4: model 3 with MaxPool 2,2", mnist, mnist_model4<T>,
       none, 20},
      {"mnist_model5",
       "MNIST Keras lab model 5: Conv 64,5 - Conv 128,5 - BN - MaxPool 2 - Conv 256,5", mnist,
       mnist_model5<T>, none, 20},
      {"pytorch_mnist_model1", "MNIST PyTorch lab model 1: Conv 32,3 - Dense 10", mnist,
       pytorch_mnist_model1<T>},
      {"pytorch_mnist_model2",
       "MNIST PyTorch lab model 2: Conv 64,3 - Conv 32,3 - MaxPool 2,1 - Conv 16,3", mnist,
       pytorch_mnist_model2<T>},
      {"pytorch_mnist_model3",
       "MNIST PyTorch lab model 3: model 2 + Dropout .5 (rate not given) - ReLU", mnist,
       pytorch_mnist_model3<T>},
      {"pytorch_mnist_model4", "MNIST PyTorch lab model 4: model 3 + Dense 128", mnist,
       pytorch_mnist_model4<T>},
      {"lenet5_mnist", "LeNet-5 on 28x28, zero-padded to 32x32 by its first convolution", mnist,
       lenet5_on_28x28},
      {"lenet5", "LeNet-5 on 32x32 (tanh, average pooling)", cifar,
       [](Index classes) { return lenet5<T>(classes); }},
      {"cifar10_model1", "CIFAR-10 Keras lab model 1: Conv 32,3 - Dense 10", cifar, mnist_model1<T>,
       none, 20},
      {"cifar10_model5",
       "CIFAR-10 Keras lab model 5: Conv 64,5 - Conv 128,5 - BN - MaxPool 2 - Conv 256,5", cifar,
       mnist_model5<T>, none, 20},
      {"cifar10_model6", "CIFAR-10 Keras lab model 6: (Conv 5 - MaxPool - BN) x2 - Dense 128",
       cifar, cifar10_model6<T>, none, 20},
      {"cifar10_model7", "CIFAR-10 Keras lab model 7: (Conv 5 x2 - MaxPool - BN) x2 - Dense 128",
       cifar, cifar10_model7<T>, none, 20},
      {"cifar10_model8",
       "CIFAR-10 Keras lab model 8: model 7 + flip, shifts .1, rotation 10, zoom .2", cifar,
       cifar10_model7<T>, flip_shift_rotate_zoom, 20},
      {"cifar10_model9", "CIFAR-10 Keras lab model 9: model 7 + flip, shifts .1, 20 epochs", cifar,
       cifar10_model7<T>, flip_shift, 20},
      {"cifar10_model10", "CIFAR-10 Keras lab model 10: model 7 + flip, shifts .1, 100 epochs",
       cifar, cifar10_model7<T>, flip_shift, 100},
      {"pytorch_cifar10_model1", "CIFAR-10 PyTorch lab model 1: Conv 32,3 - Dense 10", cifar,
       pytorch_mnist_model1<T>},
      {"pytorch_cifar10_model4", "CIFAR-10 PyTorch lab model 4: the MNIST model 4", cifar,
       pytorch_mnist_model4<T>},
      {"pytorch_cifar10_model5", "CIFAR-10 PyTorch lab model 5: model 4's block twice + Dense 256",
       cifar, pytorch_cifar10_model5<T>},
      {"praisynet", "CIFAR-10 PyTorch lab: model 7's layers, PyTorch BatchNorm defaults", cifar,
       praisynet<T>},
      {"praisynet_augmented",
       "PraisyNet + flip, rotation 10, shear 10 (the lab's scale left out), 100 epochs", cifar,
       praisynet<T>, detail::praisynet_augmentation(), 100},
      {"cifar10_basic", "CIFAR-10 tutorial basic model: 2 VGG blocks ('valid'), Dropout", cifar,
       cifar10_basic<T>, none, 200, 128, "adam"},
      {"cifar10_improved",
       "CIFAR-10 tutorial improved model: 3 VGG blocks ('same'), Dense 512 + augmentation", cifar,
       cifar10_improved<T>, detail::tutorial_improved_augmentation(), 200, 128, "adam"},
      {"cifar100_coarse_first", "CIFAR-100 coarse lab first model (batch 16, Adam)", cifar,
       cifar100_coarse_first<T>, none, 50, 16, "adam"},
      {"cifar100_fine_mlp", "CIFAR-100 fine MLP baseline: Dense 128 (RMSprop, batch 128)", cifar,
       cifar100_fine_mlp<T>, none, 5, 128, "rmsprop"},
  };
  return zoo;
}

// The zoo entry called `name`; the error lists every name.
template <typename T>
const ZooModel<T>& zoo_model(const std::string& name) {
  std::string names;
  for (const ZooModel<T>& entry : model_zoo<T>()) {
    if (entry.name == name) return entry;
    names += (names.empty() ? "" : ", ") + entry.name;
  }
  fail("model_zoo: unknown model '", name, "'; expected one of: ", names);
}

}  // namespace minicnn
