// Specification of Dense: y = x W + b.
#include <doctest/doctest.h>

#include "minicnn/layers/dense.hpp"
#include "support/gradient_check.hpp"

using namespace minicnn;

TEST_CASE("Dense computes x W + b") {
  Dense<double> dense(2);
  Random random(1);
  dense.build({3}, random);
  auto params = dense.parameters();
  params[0]->value = Tensor<double>::of({3, 2}, {1, 2, 3, 4, 5, 6});
  params[1]->value = Tensor<double>::of({2}, {0.5, -0.5});
  auto x = Tensor<double>::of({2, 3}, {1, 0, -1, 2, 1, 0});
  Tensor<double> y;
  dense.forward(x, y, Mode::inference);
  CHECK(y.shape() == Shape{2, 2});
  CHECK(y(0, 0) == 1 - 5 + 0.5);
  CHECK(y(0, 1) == 2 - 6 - 0.5);
  CHECK(y(1, 0) == 2 + 3 + 0.5);
  CHECK(y(1, 1) == 4 + 4 - 0.5);
}

TEST_CASE("Dense initialises its kernel Glorot-uniform and its bias to zero") {
  Dense<float> dense(300);
  Random random(2);
  CHECK(dense.build({200}, random) == Shape{300});
  CHECK(dense.parameter_count(true) == 200 * 300 + 300);
  const float limit = std::sqrt(6.0f / 500.0f);
  const auto& kernel = dense.parameters()[0]->value;
  float lowest = limit, highest = -limit;
  for (float w : kernel) {
    lowest = std::min(lowest, w);
    highest = std::max(highest, w);
  }
  CHECK(lowest >= -limit);
  CHECK(highest < limit);
  CHECK(lowest < -0.99f * limit);  // 60,000 draws reach both ends of the range
  CHECK(highest > 0.99f * limit);
  for (float b : dense.parameters()[1]->value)
    CHECK(b == 0.0f);
}

TEST_CASE("Dense gradients match central differences") {
  for (bool use_bias : {true, false}) {
    for (Index batch : {1, 3}) {
      CAPTURE(use_bias);
      CAPTURE(batch);
      Dense<double> dense(5, use_bias);
      Random random(3);
      dense.build({7}, random);
      const auto report = testing::check_layer_gradients(dense, {batch, 7}, 11);
      INFO(report.worst_element);
      CHECK(report.worst_error < 1e-6);
      CHECK(report.elements_checked == batch * 7 + 7 * 5 + (use_bias ? 5 : 0));
    }
  }
}

TEST_CASE("Dense backward_parameters accumulates backward's parameter gradients, without dx") {
  Dense<double> with_dx(4), without_dx(4);
  Random first(5), second(5);
  with_dx.build({6}, first);
  without_dx.build({6}, second);
  Tensor<double> x({3, 6}), dy({3, 4}), y, dx, scratch;
  Random random(6);
  x.fill_uniform(random, -1.0, 1.0);
  dy.fill_uniform(random, -1.0, 1.0);
  with_dx.forward(x, y, Mode::training);
  with_dx.backward(x, y, dy, dx, Mode::training);
  without_dx.backward_parameters(x, y, dy, scratch, Mode::training);
  for (std::size_t k = 0; k < 2; ++k)
    CHECK(with_dx.parameters()[k]->grad.vector() == without_dx.parameters()[k]->grad.vector());
  CHECK(scratch.empty());  // no dx was computed
}

TEST_CASE("Dense refuses bad arguments and shapes, naming itself") {
  CHECK_THROWS_WITH_AS(Dense<float>(0), "Dense: expected units > 0, got 0", Error);
  Dense<float> dense(4);
  dense.set_name("fc");
  Random random(4);
  CHECK_THROWS_WITH_AS(dense.build({3, 8, 8}, random),
                       "Dense 'fc': expected input of rank 1 per sample (features), got (3, 8, 8); "
                       "add a Flatten layer before Dense",
                       Error);
  Tensor<float> x({2, 6}), y;
  CHECK_THROWS_WITH_AS(dense.forward(x, y, Mode::inference),
                       "Dense 'fc': forward() called before build()", Error);
  dense.build({5}, random);
  CHECK_THROWS_WITH_AS(dense.forward(x, y, Mode::inference),
                       "Dense 'fc': expected input of shape (N, 5), got (2, 6)", Error);
  Tensor<float> good({2, 5}), dy({2, 3}), dx;
  dense.forward(good, y, Mode::training);
  CHECK_THROWS_WITH_AS(dense.backward(good, y, dy, dx, Mode::training),
                       "Dense 'fc': expected output gradient of shape (2, 4), got (2, 3)", Error);
}

TEST_CASE("Dense round-trips through its config") {
  Dense<float> dense(12, false, Initializer::he_normal);
  auto copy = Dense<float>::from_config(dense.config());
  CHECK(copy->config() == dense.config());
  CHECK(dense.config().str() == "units=12, use_bias=false, kernel_initializer=he_normal");
}
