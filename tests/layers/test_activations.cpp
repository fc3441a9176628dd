// Specification of the element-wise activation layers: ReLU (with Keras's max_value), LeakyReLU,
// Tanh, Sigmoid.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <limits>

#include "minicnn/layers/activations.hpp"
#include "support/gradient_check.hpp"
#include "support/layer_helpers.hpp"

using namespace minicnn;
using minicnn::testing::apply;

TEST_CASE("ReLU keeps positive values and zeroes the rest") {
  ReLU<double> relu;
  const auto y = apply(relu, Tensor<double>::of({2, 3}, {-2, -0.5, 0, 0.5, 2, -1e-300}));
  CHECK(y.shape() == Shape{2, 3});
  const double expected[] = {0, 0, 0, 0.5, 2, 0};
  for (Index i = 0; i < 6; ++i)
    CHECK(y[i] == expected[i]);
}

TEST_CASE("ReLU propagates NaN instead of hiding it") {
  ReLU<float> relu;
  const auto y = apply(relu, Tensor<float>::of({1, 1}, {std::nanf("")}));
  CHECK(std::isnan(y[0]));
}

TEST_CASE("ReLU with max_value clips at the maximum: ReLU6 is ReLU(6), as Keras") {
  const float inf = std::numeric_limits<float>::infinity();
  ReLU<float> relu6(6.0);
  const auto y =
      apply(relu6, Tensor<float>::of({1, 8}, {-1, 0, 3, 6, 7, inf, -inf, std::nanf("")}));
  const float expected[] = {0, 0, 3, 6, 6, 6, 0};
  for (Index i = 0; i < 7; ++i)
    CHECK(y[i] == expected[i]);
  CHECK(std::isnan(y[7]));

  ReLU<float> plain;  // no maximum: +infinity stays
  CHECK(apply(plain, Tensor<float>::of({1, 1}, {inf}))[0] == inf);
  ReLU<float> zero(0.0);
  CHECK(apply(zero, Tensor<float>::of({1, 2}, {-2, 5}))[1] == 0.0f);
}

TEST_CASE("ReLU with max_value passes the gradient where 0 < x <= max_value") {
  const double inf = std::numeric_limits<double>::infinity();
  ReLU<double> relu6(6.0);
  const auto x = Tensor<double>::of({1, 6}, {-1, 0, 3, 6, 6.5, inf});
  const auto y = apply(relu6, x);
  const auto dy = Tensor<double>::of({1, 6}, {10, 20, 30, 40, 50, 60});
  Tensor<double> dx;
  relu6.backward(x, y, dy, dx, Mode::training);
  const double expected[] = {0, 0, 30, 40, 0, 0};
  for (Index i = 0; i < 6; ++i)
    CHECK(dx[i] == expected[i]);

  ReLU<double> plain;  // the gradient at +infinity stays 1 without a maximum
  const auto big = Tensor<double>::of({1, 1}, {inf});
  const auto out = apply(plain, big);
  plain.backward(big, out, Tensor<double>::of({1, 1}, {7}), dx, Mode::training);
  CHECK(dx[0] == 7.0);
}

TEST_CASE("LeakyReLU multiplies negative values by alpha, 0.3 by default as in Keras") {
  LeakyReLU<double> keras_default;
  const auto y = apply(keras_default, Tensor<double>::of({1, 4}, {-2, -0.5, 0, 3}));
  CHECK(y[0] == doctest::Approx(-0.6).epsilon(1e-15));
  CHECK(y[1] == doctest::Approx(-0.15).epsilon(1e-15));
  CHECK(y[2] == 0.0);
  CHECK(y[3] == 3.0);

  LeakyReLU<double> torch_default(0.01);
  const auto z = apply(torch_default, Tensor<double>::of({1, 2}, {-4, 4}));
  CHECK(z[0] == doctest::Approx(-0.04).epsilon(1e-15));
  CHECK(z[1] == 4.0);
}

TEST_CASE("Tanh computes the hyperbolic tangent") {
  Tanh<double> tanh_layer;
  const auto y = apply(tanh_layer, Tensor<double>::of({1, 4}, {-1000, -0.5, 0, 2}));
  CHECK(y[0] == -1.0);
  CHECK(y[1] == doctest::Approx(-0.46211715726000974).epsilon(1e-15));
  CHECK(y[2] == 0.0);
  CHECK(y[3] == doctest::Approx(0.9640275800758169).epsilon(1e-15));
}

TEST_CASE("Sigmoid computes 1 / (1 + e^-x), finite and exact at the extremes") {
  Sigmoid<double> sigmoid;
  const auto y =
      apply(sigmoid, Tensor<double>::of({1, 5}, {0, std::log(3.0), -std::log(3.0), -40, 40}));
  CHECK(y[0] == 0.5);
  CHECK(y[1] == doctest::Approx(0.75).epsilon(1e-15));
  CHECK(y[2] == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(y[3] == doctest::Approx(4.248354255291589e-18).epsilon(1e-12));  // e^-40 / (1 + e^-40)
  CHECK(y[4] == doctest::Approx(1.0).epsilon(1e-15));

  Sigmoid<float> single;
  const auto z = apply(single, Tensor<float>::of({1, 4}, {-1000, 1000, -88.5f, 89}));
  CHECK(z[0] == 0.0f);
  CHECK(z[1] == 1.0f);
  for (float value : z) {
    CHECK(std::isfinite(value));
    CHECK(value >= 0.0f);
    CHECK(value <= 1.0f);
  }
}

TEST_CASE("activations accept samples of any rank and keep their shape") {
  const Shape shapes[] = {Shape{}, Shape{7}, Shape{3, 5}, Shape{2, 3, 4}};
  for (const Shape& sample : shapes) {
    CAPTURE(sample);
    Random random(2);
    ReLU<float> relu;
    LeakyReLU<float> leaky;
    Tanh<float> tanh_layer;
    Sigmoid<float> sigmoid;
    CHECK(relu.build(sample, random) == sample);
    CHECK(leaky.build(sample, random) == sample);
    CHECK(tanh_layer.build(sample, random) == sample);
    CHECK(sigmoid.build(sample, random) == sample);
    Tensor<float> x(sample.with_batch(2), 0.5f), y;
    sigmoid.forward(x, y, Mode::training);
    CHECK(y.shape() == x.shape());
  }
}

TEST_CASE("activation gradients match central differences") {
  const Shape shapes[] = {Shape{1, 7}, Shape{4, 5}, Shape{3, 2, 3, 5}, Shape{2, 1, 1, 1}};
  for (const Shape& shape : shapes) {
    CAPTURE(shape);
    ReLU<double> relu;
    ReLU<double> capped(0.5);  // inputs are in (-1, 1): all three pieces are checked
    LeakyReLU<double> leaky(0.2);
    Tanh<double> tanh_layer;
    Sigmoid<double> sigmoid;
    Layer<double>* layers[] = {&relu, &capped, &leaky, &tanh_layer, &sigmoid};
    for (Layer<double>* layer : layers) {
      CAPTURE(layer->kind());
      Random random(3);
      layer->build(shape.sample(), random);
      const auto report = testing::check_layer_gradients(*layer, shape, 5);
      INFO(report.worst_element);
      CHECK(report.worst_error < 1e-6);
      CHECK(report.elements_checked == shape.size());
    }
  }
}

TEST_CASE("ReLU passes the gradient where x > 0 and blocks it elsewhere") {
  ReLU<double> relu;
  const auto x = Tensor<double>::of({1, 4}, {-1, 0, 1e-9, 3});
  const auto y = apply(relu, x);
  const auto dy = Tensor<double>::of({1, 4}, {10, 20, 30, 40});
  Tensor<double> dx;
  relu.backward(x, y, dy, dx, Mode::training);
  const double expected[] = {0, 0, 30, 40};
  for (Index i = 0; i < 4; ++i)
    CHECK(dx[i] == expected[i]);
}

TEST_CASE("activations give the same numbers on 1 and 2 threads") {
  const int threads = omp_get_max_threads();
  Tensor<float> x({4, 8, 32, 32});  // above the parallel threshold
  Random random(4);
  x.fill_uniform(random, -5.0f, 5.0f);
  Tensor<float> dy(x.shape());
  dy.fill_uniform(random, -1.0f, 1.0f);
  Tanh<float> tanh_layer;
  tanh_layer.build(x.shape().sample(), random);
  Tensor<float> y[2], dx[2];
  for (int t : {1, 2}) {
    omp_set_num_threads(t);
    tanh_layer.forward(x, y[t - 1], Mode::training);
    tanh_layer.backward(x, y[t - 1], dy, dx[t - 1], Mode::training);
  }
  omp_set_num_threads(threads);
  CHECK(y[0].vector() == y[1].vector());
  CHECK(dx[0].vector() == dx[1].vector());
}

TEST_CASE("activations refuse bad arguments and shapes, naming themselves") {
  CHECK_THROWS_WITH_AS(ReLU<float>(-1.0), "ReLU: expected a finite max_value >= 0, got -1", Error);
  CHECK_THROWS_WITH_AS(ReLU<float>(std::nan("")), "ReLU: expected a finite max_value >= 0, got nan",
                       Error);
  CHECK_THROWS_WITH_AS(LeakyReLU<float>(-0.1), "LeakyReLU: expected a finite alpha >= 0, got -0.1",
                       Error);
  CHECK_THROWS_WITH_AS(LeakyReLU<float>(std::numeric_limits<double>::infinity()),
                       "LeakyReLU: expected a finite alpha >= 0, got inf", Error);

  Sigmoid<float> sigmoid;
  sigmoid.set_name("gate");
  Random random(5);
  Tensor<float> x({2, 3}), y, dx;
  CHECK_THROWS_WITH_AS(sigmoid.forward(x, y, Mode::inference),
                       "Sigmoid 'gate': forward() called before build()", Error);
  sigmoid.build({4}, random);
  CHECK_THROWS_WITH_AS(sigmoid.forward(x, y, Mode::inference),
                       "Sigmoid 'gate': expected input of shape (N, 4), got (2, 3)", Error);
  Tensor<float> good({2, 4}), dy({2, 5});
  sigmoid.forward(good, y, Mode::training);
  CHECK_THROWS_WITH_AS(sigmoid.backward(good, y, dy, dx, Mode::training),
                       "Sigmoid 'gate': expected output gradient of shape (2, 4), got (2, 5)",
                       Error);
  Tensor<float> right_dy({2, 4}), wrong_y({3, 4});
  CHECK_THROWS_WITH_AS(sigmoid.backward(good, wrong_y, right_dy, dx, Mode::training),
                       "Sigmoid 'gate': expected output of shape (2, 4), got (3, 4)", Error);
}

TEST_CASE("activations name their kind and round-trip through their config") {
  CHECK(ReLU<float>().kind() == "ReLU");
  CHECK(LeakyReLU<float>().kind() == "LeakyReLU");
  CHECK(Tanh<float>().kind() == "Tanh");
  CHECK(Sigmoid<float>().kind() == "Sigmoid");

  LeakyReLU<float> leaky(0.05);
  CHECK(leaky.config().str() == "alpha=0.05");
  const auto copy = LeakyReLU<float>::from_config(leaky.config());
  CHECK(copy->kind() == "LeakyReLU");
  CHECK(copy->config() == leaky.config());
  CHECK(LeakyReLU<float>().config().get_double("alpha") == 0.3);

  CHECK(ReLU<float>::from_config(Config())->kind() == "ReLU");
  CHECK(Tanh<float>::from_config(Config())->kind() == "Tanh");
  CHECK(Sigmoid<float>::from_config(Config())->kind() == "Sigmoid");
  CHECK(ReLU<float>().config().entries().empty());  // no key: no maximum, as written before
  CHECK(!ReLU<float>::from_config(Config())->config().has("max_value"));
  ReLU<float> relu6(6.0);
  CHECK(relu6.config().str() == "max_value=6");
  CHECK(ReLU<float>::from_config(relu6.config())->config() == relu6.config());
  CHECK(ReLU<float>(0.25).config().get_double("max_value") == 0.25);
  CHECK(ReLU<float>().parameter_count(true) == 0);
}
