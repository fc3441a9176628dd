// Specification of the model zoo: every lab model builds on the input it was designed for, with
// the parameter counts Keras's summary() prints (the arithmetic is in models.hpp), and the zoo
// names each model once.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "minicnn/models.hpp"

using namespace minicnn;

namespace {

struct Expected {
  const char* name;
  Index total;   // Keras's "Total params"
  Index frozen;  // Keras's "Non-trainable params": BatchNorm's moving mean and variance
  Index classes;
};

// Every zoo entry, with the counts computed by hand in models.hpp.
const Expected kZoo[] = {
    {"mnist_cnn", 34826, 0, 10},
    {"mnist_model1", 216650, 0, 10},
    {"mnist_model2", 657162, 0, 10},
    {"mnist_model3", 545290, 64 + 64, 10},
    {"mnist_model4", 303370, 64 + 64, 10},
    {"mnist_model5", 1118730, 128 + 128, 10},
    {"pytorch_mnist_model1", 216650, 0, 10},
    {"pytorch_mnist_model2", 94298, 0, 10},
    {"pytorch_mnist_model3", 94298, 0, 10},
    {"pytorch_mnist_model4", 928314, 0, 10},
    {"lenet5_mnist", 61706, 0, 10},
    {"lenet5", 62006, 0, 10},
    {"cifar10_model1", 288906, 0, 10},
    {"cifar10_model5", 1193610, 256, 10},
    {"cifar10_model6", 621578, 2 * 64 + 2 * 128, 10},
    {"cifar10_model7", 789706, 2 * 64 + 2 * 128, 10},
    {"cifar10_model8", 789706, 384, 10},
    {"cifar10_model9", 789706, 384, 10},
    {"cifar10_model10", 789706, 384, 10},
    {"praisynet", 789706, 384, 10},
    {"praisynet_augmented", 789706, 384, 10},
    {"cifar10_basic", 1116970, 0, 10},
    {"cifar10_improved", 814122, 0, 10},
    {"cifar100_coarse_first", 592552, 0, 20},
    {"cifar100_fine_mlp", 406244, 0, 100},
};

}  // namespace

TEST_CASE("Every zoo model builds on its input with Keras's parameter counts") {
  for (const Expected& expected : kZoo) {
    const std::string name = expected.name;
    CAPTURE(name);
    const ZooModel<float>& entry = zoo_model<float>(expected.name);
    Sequential<float> model = entry.build(expected.classes);
    model.build(entry.input, 0);
    CHECK(model.parameter_count(true) + model.parameter_count(false) == expected.total);
    CHECK(model.parameter_count(false) == expected.frozen);
    CHECK(model.output_shape() == Shape{expected.classes});
    CHECK(model.layer(model.size() - 1).kind() == "Softmax");
  }
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
  CHECK(model.parameter_count(true) + model.parameter_count(false) ==
        789706 - 1290 + 128 * 100 + 100);
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

TEST_CASE("The augmented CIFAR-10 lab models are model 7 with the lab's recipe") {
  CHECK(zoo_model<float>("cifar10_model8").augmentation == "flip_shift_rotate_zoom");
  CHECK(zoo_model<float>("cifar10_model9").augmentation == "flip_shift");
  CHECK(zoo_model<float>("cifar10_model9").epochs == 20);
  CHECK(zoo_model<float>("cifar10_model10").epochs == 100);
  CHECK(zoo_model<float>("cifar10_model7").augmentation == "off");
  CHECK(zoo_model<float>("cifar100_fine_mlp").optimizer == "rmsprop");
  CHECK(zoo_model<float>("cifar100_fine_mlp").batch_size == 128);
}

TEST_CASE("An unknown model name is refused with the list of names") {
  CHECK_THROWS_WITH_AS(zoo_model<float>("model7"),
                       doctest::Contains("model_zoo: unknown model 'model7'; expected one of: "
                                         "mnist_cnn, mnist_model1, "),
                       Error);
}
