// Specification of Flatten: (N, C, H, W) -> (N, C*H*W) in row-major (C, H, W) order.
#include <doctest/doctest.h>

#include "minicnn/layers/flatten.hpp"
#include "support/gradient_check.hpp"

using namespace minicnn;

TEST_CASE("Flatten keeps the batch axis and lays each sample out as C, H, W") {
  Flatten<float> flatten;
  Random random(1);
  CHECK(flatten.build({2, 3, 4}, random) == Shape{24});
  Tensor<float> x({5, 2, 3, 4}), y;
  for (Index i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i);
  flatten.forward(x, y, Mode::inference);
  CHECK(y.shape() == Shape{5, 24});
  for (Index n = 0; n < 5; ++n)
    for (Index c = 0; c < 2; ++c)
      for (Index h = 0; h < 3; ++h)
        for (Index w = 0; w < 4; ++w)
          CHECK(y(n, (c * 3 + h) * 4 + w) == x(n, c, h, w));
}

TEST_CASE("Flatten accepts samples of any rank") {
  Random random(2);
  CHECK(Flatten<float>().build({7}, random) == Shape{7});
  CHECK(Flatten<float>().build({3, 5}, random) == Shape{15});
  CHECK(Flatten<float>().build({}, random) == Shape{1});
  Flatten<float> flatten;
  flatten.build({}, random);
  auto x = Tensor<float>::of({3}, {1, 2, 3});
  Tensor<float> y;
  flatten.forward(x, y, Mode::training);
  CHECK(y.shape() == Shape{3, 1});
  CHECK(y(2, 0) == 3.0f);
}

TEST_CASE("Flatten backward gives the gradient back its input shape") {
  Flatten<double> flatten;
  Random random(3);
  flatten.build({2, 2, 2}, random);
  Tensor<double> x({2, 2, 2, 2}, 0.0), y, dx;
  flatten.forward(x, y, Mode::training);
  Tensor<double> dy({2, 8});
  for (Index i = 0; i < dy.size(); ++i)
    dy[i] = static_cast<double>(10 * i);
  flatten.backward(x, y, dy, dx, Mode::training);
  CHECK(dx.shape() == x.shape());
  CHECK(dx(1, 0, 1, 1) == dy(1, 3));
  CHECK(dx.vector() == dy.vector());
}

TEST_CASE("Flatten gradients match central differences") {
  const Shape shapes[] = {Shape{1, 3, 2, 5}, Shape{3, 1, 4, 3}, Shape{2, 6}};
  for (const Shape& shape : shapes) {
    CAPTURE(shape);
    Flatten<double> flatten;
    Random random(4);
    flatten.build(shape.sample(), random);
    const auto report = testing::check_layer_gradients(flatten, shape, 7);
    INFO(report.worst_element);
    CHECK(report.worst_error < 1e-6);
    CHECK(report.elements_checked == shape.size());
  }
}

TEST_CASE("Flatten refuses wrong shapes, naming itself") {
  Flatten<float> flatten;
  flatten.set_name("flat");
  Random random(5);
  Tensor<float> x({2, 3, 4, 4}), y, dx;
  CHECK_THROWS_WITH_AS(flatten.forward(x, y, Mode::inference),
                       "Flatten 'flat': forward() called before build()", Error);
  flatten.build({3, 4, 5}, random);
  CHECK_THROWS_WITH_AS(flatten.forward(x, y, Mode::inference),
                       "Flatten 'flat': expected input of shape (N, 3, 4, 5), got (2, 3, 4, 4)",
                       Error);
  Tensor<float> good({2, 3, 4, 5}), dy({2, 59});
  flatten.forward(good, y, Mode::training);
  CHECK_THROWS_WITH_AS(flatten.backward(good, y, dy, dx, Mode::training),
                       "Flatten 'flat': expected output gradient of shape (2, 60), got (2, 59)",
                       Error);
}

TEST_CASE("Flatten names its kind and round-trips through its config") {
  Flatten<float> flatten;
  CHECK(flatten.kind() == "Flatten");
  CHECK(flatten.config().entries().empty());
  const auto copy = Flatten<float>::from_config(flatten.config());
  CHECK(copy->kind() == "Flatten");
  CHECK(copy->config() == flatten.config());
  CHECK(flatten.parameter_count(true) == 0);
}
