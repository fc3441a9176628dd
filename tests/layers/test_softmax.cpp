// Specification of Softmax: y_nk = exp(x_nk) / sum_j exp(x_nj), computed stably.
#include <doctest/doctest.h>

#include <cmath>

#include "minicnn/layers/softmax.hpp"
#include "support/gradient_check.hpp"

using namespace minicnn;

TEST_CASE("Softmax turns each row of scores into probabilities") {
  Softmax<double> softmax;
  Random random(1);
  CHECK(softmax.build({3}, random) == Shape{3});
  // exp(0) : exp(ln 2) : exp(ln 3) = 1 : 2 : 3; the second row is the first plus 5 (no change).
  const double ln2 = std::log(2.0), ln3 = std::log(3.0);
  auto x = Tensor<double>::of({2, 3}, {0, ln2, ln3, 5, 5 + ln2, 5 + ln3});
  Tensor<double> y;
  softmax.forward(x, y, Mode::inference);
  CHECK(y.shape() == Shape{2, 3});
  for (Index n = 0; n < 2; ++n) {
    CHECK(y(n, 0) == doctest::Approx(1.0 / 6).epsilon(1e-15));
    CHECK(y(n, 1) == doctest::Approx(2.0 / 6).epsilon(1e-15));
    CHECK(y(n, 2) == doctest::Approx(3.0 / 6).epsilon(1e-15));
  }
}

TEST_CASE("Softmax is finite and sums to 1 for extreme logits") {
  Softmax<float> softmax;
  Random random(2);
  softmax.build({4}, random);
  auto x = Tensor<float>::of(
      {3, 4}, {1000, -1000, 0, 999, -1000, -1000, -1000, -1000, 1000, 1000, 1000, 1000});
  Tensor<float> y;
  softmax.forward(x, y, Mode::inference);
  for (float p : y)
    CHECK(std::isfinite(p));
  for (Index n = 0; n < 3; ++n)
    CHECK(y.matrix().row(n).sum() == doctest::Approx(1.0f).epsilon(1e-6));
  CHECK(y(0, 0) == doctest::Approx(1 / (1 + std::exp(-1.0f))).epsilon(1e-6));
  CHECK(y(0, 1) == 0.0f);
  CHECK(y(0, 3) == doctest::Approx(1 / (1 + std::exp(1.0f))).epsilon(1e-6));
  for (Index k = 0; k < 4; ++k) {
    CHECK(y(1, k) == 0.25f);
    CHECK(y(2, k) == 0.25f);
  }
}

TEST_CASE("Softmax rows sum to 1 for random scores") {
  Softmax<double> softmax;
  Random random(3);
  softmax.build({10}, random);
  Tensor<double> x({64, 10}), y;
  x.fill_normal(random, 0.0, 10.0);
  softmax.forward(x, y, Mode::inference);
  for (Index n = 0; n < 64; ++n)
    CHECK(y.matrix().row(n).sum() == doctest::Approx(1.0).epsilon(1e-14));
}

TEST_CASE("Softmax gradients match central differences") {
  const Shape shapes[] = {Shape{1, 3}, Shape{4, 5}, Shape{3, 1}, Shape{2, 11}};
  for (const Shape& shape : shapes) {
    CAPTURE(shape);
    Softmax<double> softmax;
    Random random(4);
    softmax.build(shape.sample(), random);
    const auto report = testing::check_layer_gradients(softmax, shape, 6);
    INFO(report.worst_element);
    CHECK(report.worst_error < 1e-6);
    CHECK(report.elements_checked == shape.size());
  }
}

TEST_CASE("Softmax backward applies the Jacobian diag(y) - y y^T") {
  Softmax<double> softmax;
  Random random(5);
  softmax.build({2}, random);
  const auto x = Tensor<double>::of({1, 2}, {0, 0});  // y = (1/2, 1/2)
  Tensor<double> y, dx;
  softmax.forward(x, y, Mode::training);
  // dx = y * (dy - <dy, y>) = (0.5 * (1 - 0.5), 0.5 * (0 - 0.5)) = (0.25, -0.25)
  softmax.backward(x, y, Tensor<double>::of({1, 2}, {1, 0}), dx, Mode::training);
  CHECK(dx[0] == 0.25);
  CHECK(dx[1] == -0.25);
}

TEST_CASE("Softmax refuses samples that are not rank 1 and wrong shapes, naming itself") {
  Softmax<float> softmax;
  softmax.set_name("probabilities");
  Random random(6);
  CHECK_THROWS_WITH_AS(softmax.build({3, 4, 4}, random),
                       "Softmax 'probabilities': expected input of rank 1 per sample (class "
                       "scores), got (3, 4, 4); add a Flatten layer before Softmax",
                       Error);
  CHECK_THROWS_WITH_AS(softmax.build({0}, random),
                       "Softmax 'probabilities': expected at least 1 class, got 0", Error);
  softmax.build({5}, random);
  Tensor<float> x({2, 4}), y, dx;
  CHECK_THROWS_WITH_AS(softmax.forward(x, y, Mode::inference),
                       "Softmax 'probabilities': expected input of shape (N, 5), got (2, 4)",
                       Error);
  Tensor<float> good({2, 5}, 0.0f), dy({2, 4}), right_dy({2, 5}), wrong_y({2, 4});
  softmax.forward(good, y, Mode::training);
  CHECK_THROWS_WITH_AS(
      softmax.backward(good, y, dy, dx, Mode::training),
      "Softmax 'probabilities': expected output gradient of shape (2, 5), got (2, 4)", Error);
  CHECK_THROWS_WITH_AS(softmax.backward(good, wrong_y, right_dy, dx, Mode::training),
                       "Softmax 'probabilities': expected output of shape (2, 5), got (2, 4)",
                       Error);
}

TEST_CASE("Softmax names its kind and round-trips through its config") {
  Softmax<float> softmax;
  CHECK(softmax.kind() == "Softmax");
  CHECK(softmax.config().entries().empty());
  const auto copy = Softmax<float>::from_config(softmax.config());
  CHECK(copy->kind() == "Softmax");
  CHECK(copy->config() == softmax.config());
  CHECK(softmax.parameter_count(true) == 0);
}
