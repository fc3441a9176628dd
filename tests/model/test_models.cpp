// Specification of the model zoo: every model has the layers of its page in shared/seeds/ (the
// course's labs; docs/experiments.md has the table of pages and sections), builds on the input it
// was designed for with the parameter counts Keras's summary() (or PyTorch) prints for the page's
// code, trains with the page's recipe, and the zoo names each model once.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "minicnn/models.hpp"

using namespace minicnn;

namespace {

// The layers of a built model in one line, for comparison with a page's code:
// "Conv3x3/valid(32, 26, 26)" is a Conv2D with its kernel, padding and output shape (C, H, W),
// "Max(32, 13, 13)" / "Ave(...)" a pooling layer and its output, "Dense(10)" a Dense layer and
// its units, "Dropout 0.25" its rate, "BN 0.99/0.001" a BatchNormalization's momentum (Keras's
// convention) and epsilon; activations by name.
std::string layers_of(const Sequential<float>& model) {
  std::string text;
  for (Index i = 0; i < model.size(); ++i) {
    const Layer<float>& layer = model.layer(i);
    const std::string kind = layer.kind();
    const Config config = layer.config();
    std::string item = kind;
    if (kind == "Conv2D")
      item = "Conv" + config.get("kernel_size") + "/" + config.get("padding") +
             layer.output_shape().str();
    else if (kind == "MaxPooling2D" || kind == "AveragePooling2D")
      item = kind.substr(0, 3) + layer.output_shape().str();
    else if (kind == "Dense")
      item = "Dense" + layer.output_shape().str();
    else if (kind == "Dropout")
      item = "Dropout " + config.get("rate");
    else if (kind == "BatchNormalization")
      item = "BN " + config.get("momentum") + "/" + config.get("epsilon");
    text += (text.empty() ? "" : " - ") + item;
  }
  return text;
}

// Architectures that several entries share.
const char* const kKerasModel1Mnist = "Conv3x3/valid(32, 26, 26) - Flatten - Dense(10) - Softmax";
const char* const kKerasModel1Cifar = "Conv3x3/valid(32, 30, 30) - Flatten - Dense(10) - Softmax";
const char* const kKerasModel7 =
    "Conv5x5/valid(64, 28, 28) - Conv5x5/valid(64, 24, 24) - Max(64, 12, 12) - BN 0.99/0.001 - "
    "Conv5x5/valid(128, 8, 8) - Conv5x5/valid(128, 4, 4) - Max(128, 2, 2) - BN 0.99/0.001 - "
    "Flatten - Dense(128) - ReLU - Dense(10) - Softmax";
const char* const kPraisyNet =
    "Conv5x5/valid(64, 28, 28) - Conv5x5/valid(64, 24, 24) - Max(64, 12, 12) - BN 0.9/1e-05 - "
    "Conv5x5/valid(128, 8, 8) - Conv5x5/valid(128, 4, 4) - Max(128, 2, 2) - BN 0.9/1e-05 - "
    "Flatten - Dense(128) - ReLU - Dense(10) - Softmax";
const char* const kPytorchModel4Mnist =
    "Conv3x3/valid(64, 26, 26) - Conv3x3/valid(32, 24, 24) - Dropout 0.5 - ReLU - "
    "Max(32, 23, 23) - Conv3x3/valid(16, 21, 21) - Flatten - Dense(128) - ReLU - Dense(10) - "
    "Softmax";
const char* const kLenet5Tail =
    " - Tanh - Ave(6, 14, 14) - Conv5x5/valid(16, 10, 10) - Tanh - Ave(16, 5, 5) - Flatten - "
    "Dense(120) - Tanh - Dense(84) - Tanh - Dense(10) - Softmax";

struct Expected {
  const char* name;
  Index trainable;      // Keras's "Trainable params" (PyTorch: sum of p.numel())
  Index non_trainable;  // Keras's "Non-trainable params": BatchNorm's moving mean and variance
                        // (PyTorch's running statistics, buffers it does not count)
  Index classes;
  std::string layers;  // layers_of() the built model, as the page declares them
};

// Every zoo entry. The counts are those Keras's summary() prints for the page's code (the
// CIFAR-100 page prints its own: 592,552); models.hpp computes each by hand above its builder
// (conv F*C*KH*KW+F, dense in*out+out, BatchNorm 4*C of which 2*C non-trainable), and each was
// checked with PyTorch 1.13 on the same layers (trainable = sum of p.numel(); non-trainable =
// the BatchNorm running_mean and running_var). The layers follow the pages line by line: the
// Keras/PyTorch lab's convolutions have no activation (models.hpp says why), the tutorial's
// basic model is 'valid' as its code says.
const Expected kZoo[] = {
    // Keras example "Simple MNIST convnet" (not a page of the course).
    {"mnist_cnn", 34826, 0, 10,
     "Conv3x3/valid(32, 26, 26) - ReLU - Max(32, 13, 13) - Conv3x3/valid(64, 11, 11) - ReLU - "
     "Max(64, 5, 5) - Flatten - Dropout 0.5 - Dense(10) - Softmax"},
    // 003, Keras 1.2: 320 + 216,330.
    {"mnist_model1", 216650, 0, 10, kKerasModel1Mnist},
    // 003, Keras 1.4.1: 320 + 18,496 + 73,856 + 564,490.
    {"mnist_model2", 657162, 0, 10,
     "Conv3x3/valid(32, 26, 26) - Conv3x3/valid(64, 24, 24) - Max(64, 23, 23) - "
     "Conv3x3/valid(128, 21, 21) - Flatten - Dense(10) - Softmax"},
    // 003, Keras 1.4.2: 832 + 51,264 + 128 (+ 128 moving) + 204,928 + 288,010.
    {"mnist_model3", 545162, 128, 10,
     "Conv5x5/valid(32, 24, 24) - Conv5x5/valid(64, 20, 20) - BN 0.99/0.001 - Max(64, 19, 19) - "
     "Conv5x5/valid(128, 15, 15) - Flatten - Dense(10) - Softmax"},
    // 003, Keras 1.4.2: model 3's with a 6*6*128*10+10 = 46,090 Dense layer.
    {"mnist_model4", 303242, 128, 10,
     "Conv5x5/valid(32, 24, 24) - Conv5x5/valid(64, 20, 20) - BN 0.99/0.001 - Max(64, 10, 10) - "
     "Conv5x5/valid(128, 6, 6) - Flatten - Dense(10) - Softmax"},
    // 003, Keras 1.4.2: 1,664 + 204,928 + 256 (+ 256) + 819,456 + 92,170.
    {"mnist_model5", 1118474, 256, 10,
     "Conv5x5/valid(64, 24, 24) - Conv5x5/valid(128, 20, 20) - BN 0.99/0.001 - "
     "Max(128, 10, 10) - Conv5x5/valid(256, 6, 6) - Flatten - Dense(10) - Softmax"},
    // 003, PyTorch 1.1: Keras's model 1.
    {"pytorch_mnist_model1", 216650, 0, 10, kKerasModel1Mnist},
    // 003, PyTorch 1.2.1: 640 + 18,464 + 4,624 + 70,570.
    {"pytorch_mnist_model2", 94298, 0, 10,
     "Conv3x3/valid(64, 26, 26) - Conv3x3/valid(32, 24, 24) - Max(32, 23, 23) - "
     "Conv3x3/valid(16, 21, 21) - Flatten - Dense(10) - Softmax"},
    // 003, PyTorch 1.2.2: model 2's counts; Dropout (rate not given: 0.5) and ReLU have none.
    {"pytorch_mnist_model3", 94298, 0, 10,
     "Conv3x3/valid(64, 26, 26) - Conv3x3/valid(32, 24, 24) - Dropout 0.5 - ReLU - "
     "Max(32, 23, 23) - Conv3x3/valid(16, 21, 21) - Flatten - Dense(10) - Softmax"},
    // 003, PyTorch 1.2.2: 640 + 18,464 + 4,624 + 903,296 + 1,290.
    {"pytorch_mnist_model4", 928314, 0, 10, kPytorchModel4Mnist},
    // LeNet-5 (LeCun et al. 1998, not a page of the course): 156 + 2,416 + 48,120 + 10,164 + 850.
    {"lenet5_mnist", 61706, 0, 10, std::string("Conv5x5/same(6, 28, 28)") + kLenet5Tail},
    {"lenet5", 62006, 0, 10, std::string("Conv5x5/valid(6, 28, 28)") + kLenet5Tail},
    // 003, Keras CIFAR-10 2.2: 896 + 288,010.
    {"cifar10_model1", 288906, 0, 10, kKerasModel1Cifar},
    // 003, Keras CIFAR-10 1.4: 4,864 + 204,928 + 256 (+ 256) + 819,456 + 163,850.
    {"cifar10_model5", 1193354, 256, 10,
     "Conv5x5/valid(64, 28, 28) - Conv5x5/valid(128, 24, 24) - BN 0.99/0.001 - "
     "Max(128, 12, 12) - Conv5x5/valid(256, 8, 8) - Flatten - Dense(10) - Softmax"},
    // 003, Keras CIFAR-10 1.4: 4,864 + 128 (+ 128) + 204,928 + 256 (+ 256) + 409,728 + 1,290.
    {"cifar10_model6", 621194, 384, 10,
     "Conv5x5/valid(64, 28, 28) - Max(64, 14, 14) - BN 0.99/0.001 - Conv5x5/valid(128, 10, 10) - "
     "Max(128, 5, 5) - BN 0.99/0.001 - Flatten - Dense(128) - ReLU - Dense(10) - Softmax"},
    // 003, Keras CIFAR-10 1.4: 4,864 + 102,464 + 128 (+ 128) + 204,928 + 409,728 + 256 (+ 256)
    // + 65,664 + 1,290; models 8 to 10 (Keras 3.1) are model 7 with augmentation.
    {"cifar10_model7", 789322, 384, 10, kKerasModel7},
    {"cifar10_model8", 789322, 384, 10, kKerasModel7},
    {"cifar10_model9", 789322, 384, 10, kKerasModel7},
    {"cifar10_model10", 789322, 384, 10, kKerasModel7},
    // 003, PyTorch CIFAR-10 2.1: Keras's model 1 on CIFAR-10.
    {"pytorch_cifar10_model1", 288906, 0, 10, kKerasModel1Cifar},
    // 003, PyTorch CIFAR-10 2.2.1: 1,792 + 18,464 + 4,624 + 1,280,128 + 1,290.
    {"pytorch_cifar10_model4", 1306298, 0, 10,
     "Conv3x3/valid(64, 30, 30) - Conv3x3/valid(32, 28, 28) - Dropout 0.5 - ReLU - "
     "Max(32, 27, 27) - Conv3x3/valid(16, 25, 25) - Flatten - Dense(128) - ReLU - Dense(10) - "
     "Softmax"},
    // 003, PyTorch CIFAR-10 2.2.2: 1,792 + 18,464 + 18,496 + 18,464 + 4,624 + 819,328 + 33,024
    // + 2,570.
    {"pytorch_cifar10_model5", 916762, 0, 10,
     "Conv3x3/valid(64, 30, 30) - Conv3x3/valid(32, 28, 28) - Dropout 0.5 - ReLU - "
     "Max(32, 27, 27) - Conv3x3/valid(64, 25, 25) - Conv3x3/valid(32, 23, 23) - Dropout 0.5 - "
     "ReLU - Max(32, 22, 22) - Conv3x3/valid(16, 20, 20) - Flatten - Dense(128) - ReLU - "
     "Dense(256) - ReLU - Dense(10) - Softmax"},
    // 003, PyTorch 3: PyTorch prints 789,322 parameters; its 384 running statistics are buffers.
    {"praisynet", 789322, 384, 10, kPraisyNet},
    {"praisynet_augmented", 789322, 384, 10, kPraisyNet},
    // 004, "Model building": 896 + 9,248 + 18,496 + 36,928 + 5*5*64*256+256 = 409,856 + 2,570.
    {"cifar10_basic", 477994, 0, 10,
     "Conv3x3/valid(32, 30, 30) - ReLU - Conv3x3/valid(32, 28, 28) - ReLU - Max(32, 14, 14) - "
     "Dropout 0.25 - Conv3x3/valid(64, 12, 12) - ReLU - Conv3x3/valid(64, 10, 10) - ReLU - "
     "Max(64, 5, 5) - Dropout 0.25 - Flatten - Dense(256) - ReLU - Dropout 0.5 - Dense(10) - "
     "Softmax"},
    // 004, "Improving your model" (its improved_model.py): 896 + 9,248 + 18,496 + 36,928 +
    // 73,856 + 147,584 + 1,049,088 + 131,328 + 2,570.
    {"cifar10_improved", 1469994, 0, 10,
     "Conv3x3/same(32, 32, 32) - ReLU - Conv3x3/same(32, 32, 32) - ReLU - Max(32, 16, 16) - "
     "Dropout 0.25 - Conv3x3/same(64, 16, 16) - ReLU - Conv3x3/same(64, 16, 16) - ReLU - "
     "Max(64, 8, 8) - Dropout 0.25 - Conv3x3/same(128, 8, 8) - ReLU - Conv3x3/same(128, 8, 8) - "
     "ReLU - Max(128, 4, 4) - Dropout 0.25 - Flatten - Dense(512) - ReLU - Dropout 0.5 - "
     "Dense(256) - ReLU - Dropout 0.5 - Dense(10) - Softmax"},
    // 000, "Model specification": the page's summary() prints 592,552 (224 + 1,168 + 4,640 +
    // 576,500 + 10,020), all trainable.
    {"cifar100_coarse_first", 592552, 0, 20,
     "Conv3x3/valid(8, 30, 30) - ReLU - Dropout 0.2 - Conv3x3/valid(16, 28, 28) - ReLU - "
     "Max(16, 14, 14) - Dropout 0.2 - Conv3x3/valid(32, 12, 12) - ReLU - Max(32, 6, 6) - "
     "Flatten - Dense(500) - ReLU - Dropout 0.2 - Dense(20) - Softmax"},
    // 001, "Baseline Model": 393,344 + 12,900.
    {"cifar100_fine_mlp", 406244, 0, 100, "Flatten - Dense(128) - ReLU - Dense(100) - Softmax"},
};

}  // namespace

TEST_CASE("Every zoo model builds on its input with the parameter counts of its page's code") {
  for (const Expected& expected : kZoo) {
    const std::string name = expected.name;
    CAPTURE(name);
    const ZooModel<float>& entry = zoo_model<float>(expected.name);
    Sequential<float> model = entry.build(expected.classes);
    model.build(entry.input, 0);
    CHECK(model.parameter_count(true) == expected.trainable);
    CHECK(model.parameter_count(false) == expected.non_trainable);
    CHECK(model.output_shape() == Shape{expected.classes});
    CHECK(model.layer(model.size() - 1).kind() == "Softmax");
  }
}

TEST_CASE("Every zoo model has its page's layers, in its order, with its sizes and rates") {
  for (const Expected& expected : kZoo) {
    const std::string name = expected.name;
    CAPTURE(name);
    const ZooModel<float>& entry = zoo_model<float>(expected.name);
    Sequential<float> model = entry.build(expected.classes);
    model.build(entry.input, 0);
    CHECK(layers_of(model) == expected.layers);
  }
}

TEST_CASE("The tutorial's basic model is 'valid', as its code declares, not as its comments say") {
  // 004, "Model building": Keras's Conv2D(32, (3, 3)) pads nothing, so Pool2 hands Flatten
  // 5x5x64 = 1,600 features (the page's comments say 3x3x64 = 576); Keras prints 477,994.
  auto model = cifar10_basic<float>();
  model.build({3, 32, 32}, 0);
  CHECK(model.layer("flatten").output_shape() == Shape{5 * 5 * 64});
  CHECK(model.parameter_count(true) == 477994);
}

TEST_CASE("The zoo lists every model once, each in the table above") {
  std::set<std::string> names;
  for (const ZooModel<float>& entry : model_zoo<float>())
    CHECK(names.insert(entry.name).second);
  CHECK(names.size() == std::size(kZoo));
  for (const Expected& expected : kZoo)
    CHECK(names.count(expected.name) == 1);
}

TEST_CASE("Builders take the number of classes") {
  auto model = cifar10_model7<float>(100);
  model.build({3, 32, 32}, 0);
  CHECK(model.output_shape() == Shape{100});
  CHECK(model.parameter_count(true) == 789322 - 1290 + 128 * 100 + 100);
}

TEST_CASE("LeNet-5 with a 'same' first convolution on 28x28 equals LeNet-5 on zero-padded 32x32") {
  // Same weights (same seed, same shapes) and the same digit, once padded by the convolution
  // and once by hand: the outputs agree.
  auto padded_inside = lenet5<double>(10, Padding::same);
  auto padded_outside = lenet5<double>(10);
  padded_inside.build({1, 28, 28}, 7);
  padded_outside.build({1, 32, 32}, 7);
  Tensor<double> digit({1, 1, 28, 28}), framed({1, 1, 32, 32}, 0.0);
  Random random(3);
  for (Index r = 0; r < 28; ++r)
    for (Index c = 0; c < 28; ++c)
      framed(0, 0, r + 2, c + 2) = digit(0, 0, r, c) = random.uniform();
  const Tensor<double> a = padded_inside.predict(digit), b = padded_outside.predict(framed);
  for (Index k = 0; k < 10; ++k)
    CHECK(a(0, k) == doctest::Approx(b(0, k)).epsilon(1e-12));
}

namespace {

struct Recipe {
  const char* name;
  Index epochs;              // 0: the page does not say
  Index batch_size;          // 0: the page does not say
  const char* optimizer;     // "": the page does not say
  const char* augmentation;  // AugmentationSettings::config().str()
};

const char* const kNoAugmentation =
    "horizontal_flip=false, width_shift=0, height_shift=0, rotation=0, zoom=0, shear=0";

// Every zoo model's recipe as its page gives it (models.hpp's model_zoo() cites them).
const Recipe kRecipes[] = {
    // 003, Keras 1.2: "we decided to lower the number of epochs to 20"; no optimizer or batch.
    {"mnist_model1", 20, 0, "", kNoAugmentation},
    {"mnist_model2", 20, 0, "", kNoAugmentation},
    {"mnist_model3", 20, 0, "", kNoAugmentation},
    {"mnist_model4", 20, 0, "", kNoAugmentation},
    {"mnist_model5", 20, 0, "", kNoAugmentation},
    {"cifar10_model1", 20, 0, "", kNoAugmentation},
    {"cifar10_model5", 20, 0, "", kNoAugmentation},
    {"cifar10_model6", 20, 0, "", kNoAugmentation},
    {"cifar10_model7", 20, 0, "", kNoAugmentation},
    // 003, Keras 3.1: the ImageDataGenerator settings and epochs of models 8, 9 and 10.
    {"cifar10_model8", 20, 0, "",
     "horizontal_flip=true, width_shift=0.1, height_shift=0.1, rotation=10, zoom=0.2, shear=0"},
    {"cifar10_model9", 20, 0, "",
     "horizontal_flip=true, width_shift=0.1, height_shift=0.1, rotation=0, zoom=0, shear=0"},
    {"cifar10_model10", 100, 0, "",
     "horizontal_flip=true, width_shift=0.1, height_shift=0.1, rotation=0, zoom=0, shear=0"},
    // 003, PyTorch: no recipe but PraisyNet's augmented run's.
    {"pytorch_mnist_model1", 0, 0, "", kNoAugmentation},
    {"pytorch_mnist_model2", 0, 0, "", kNoAugmentation},
    {"pytorch_mnist_model3", 0, 0, "", kNoAugmentation},
    {"pytorch_mnist_model4", 0, 0, "", kNoAugmentation},
    {"pytorch_cifar10_model1", 0, 0, "", kNoAugmentation},
    {"pytorch_cifar10_model4", 0, 0, "", kNoAugmentation},
    {"pytorch_cifar10_model5", 0, 0, "", kNoAugmentation},
    // 003, PyTorch 3: RandomHorizontalFlip, RandomRotation(10), RandomAffine's shear=10 (its
    // scale=(.2, 1.2) has no counterpart), 100 epochs.
    {"praisynet", 0, 0, "", kNoAugmentation},
    {"praisynet_augmented", 100, 0, "",
     "horizontal_flip=true, width_shift=0, height_shift=0, rotation=10, zoom=0, shear=10"},
    // 004, "Model training": Adam(), batch_size = 128, nb_epoch = 200; improved_model.py: the
    // same, with ImageDataGenerator(zoom_range=0.1, shifts 0.05, horizontal_flip=True).
    {"cifar10_basic", 200, 128, "adam", kNoAugmentation},
    {"cifar10_improved", 200, 128, "adam",
     "horizontal_flip=true, width_shift=0.05, height_shift=0.05, rotation=0, zoom=0.1, shear=0"},
    // 000, "Training": Batch size = 16, optimizer='adam', "Epoch 50/50".
    {"cifar100_coarse_first", 50, 16, "adam", kNoAugmentation},
    // 001, "Baseline Model": optimizer='rmsprop', epochs=5, batch_size=128.
    {"cifar100_fine_mlp", 5, 128, "rmsprop", kNoAugmentation},
    // Not from a page: the trainers' defaults apply.
    {"mnist_cnn", 0, 0, "", kNoAugmentation},
    {"lenet5_mnist", 0, 0, "", kNoAugmentation},
    {"lenet5", 0, 0, "", kNoAugmentation},
};

}  // namespace

TEST_CASE("Each zoo model carries its page's recipe") {
  std::set<std::string> names;  // every zoo model once
  for (const Recipe& expected : kRecipes) {
    const std::string name = expected.name;
    CAPTURE(name);
    CHECK(names.insert(name).second);
    const ZooModel<float>& entry = zoo_model<float>(expected.name);
    CHECK(entry.epochs == expected.epochs);
    CHECK(entry.batch_size == expected.batch_size);
    CHECK(entry.optimizer == expected.optimizer);
    CHECK(entry.augmentation.config().str() == expected.augmentation);
  }
  CHECK(names.size() == model_zoo<float>().size());
  // The Keras lab's augmented models use the trainers' named presets.
  CHECK(zoo_model<float>("cifar10_model8").augmentation.config() ==
        augmentation_preset("flip_shift_rotate_zoom").config());
  CHECK(zoo_model<float>("cifar10_model9").augmentation.config() ==
        augmentation_preset("flip_shift").config());
}

TEST_CASE("An unknown model name is refused with the list of names") {
  CHECK_THROWS_WITH_AS(zoo_model<float>("model7"),
                       doctest::Contains("model_zoo: unknown model 'model7'; expected one of: "
                                         "mnist_cnn, mnist_model1, "),
                       Error);
}
