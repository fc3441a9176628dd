// Specification of Dropout: inverted dropout with its own reproducible random stream.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "minicnn/layers/dropout.hpp"
#include "support/gradient_check.hpp"

using namespace minicnn;

namespace {

Tensor<float> random_input(const Shape& shape, std::uint64_t seed) {
  Random random(seed);
  Tensor<float> x(shape);
  x.fill_uniform(random, 0.5f, 1.5f);  // never 0, so a zero output means "dropped"
  return x;
}

}  // namespace

TEST_CASE("Dropout is the identity in inference mode") {
  Dropout<float> dropout(0.5);
  Random random(1);
  CHECK(dropout.build({3, 4, 4}, random) == Shape{3, 4, 4});
  const auto x = random_input({2, 3, 4, 4}, 2);
  Tensor<float> y;
  dropout.forward(x, y, Mode::inference);
  CHECK(y.shape() == x.shape());
  CHECK(y.vector() == x.vector());
}

TEST_CASE("Dropout keeps about 1 - rate of the elements and scales them by 1 / (1 - rate)") {
  for (double rate : {0.25, 0.5, 0.9}) {
    CAPTURE(rate);
    Dropout<float> dropout(rate);
    Random random(3);
    dropout.build({1000}, random);
    const auto x = random_input({1000, 1000}, 4);
    Tensor<float> y;
    dropout.forward(x, y, Mode::training);
    Index kept = 0;
    bool scaled = true;
    for (Index i = 0; i < x.size(); ++i) {
      if (y[i] == 0.0f) continue;
      ++kept;
      scaled = scaled && y[i] == doctest::Approx(x[i] / (1.0 - rate)).epsilon(1e-6);
    }
    CHECK(scaled);
    // The kept fraction of 10^6 Bernoulli draws has a standard deviation below 5e-4.
    const double fraction = static_cast<double>(kept) / static_cast<double>(x.size());
    CHECK(std::abs(fraction - (1.0 - rate)) < 0.003);
  }
}

TEST_CASE("Dropout with rate 0 keeps everything") {
  Dropout<float> dropout(0.0);
  Random random(5);
  dropout.build({10}, random);
  const auto x = random_input({3, 10}, 6);
  Tensor<float> y;
  dropout.forward(x, y, Mode::training);
  CHECK(y.vector() == x.vector());
}

TEST_CASE("Dropout repeats its masks for the same seed, on any thread count") {
  const auto x = random_input({4, 3, 32, 32}, 7);  // several mask blocks
  auto masks_for = [&](std::uint64_t seed, int threads) {
    Dropout<float> dropout(0.3);
    Random random(seed);
    dropout.build({3, 32, 32}, random);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    Tensor<float> first, second;
    dropout.forward(x, first, Mode::training);
    dropout.forward(x, second, Mode::training);
    omp_set_num_threads(saved);
    CHECK(first.vector() != second.vector());  // a new mask at every step
    return std::make_pair(first, second);
  };
  const auto reference = masks_for(8, 1);
  const auto same_seed = masks_for(8, 2);
  const auto other_seed = masks_for(9, 1);
  CHECK(same_seed.first.vector() == reference.first.vector());
  CHECK(same_seed.second.vector() == reference.second.vector());
  CHECK(other_seed.first.vector() != reference.first.vector());
}

TEST_CASE("Dropout's random stream can be saved and restored to repeat a mask") {
  Dropout<float> dropout(0.5);
  Random random(10);
  dropout.build({64}, random);
  REQUIRE(dropout.random_stream() != nullptr);
  const auto x = random_input({8, 64}, 11);
  const Random::State saved = dropout.random_stream()->state();
  Tensor<float> first, again;
  dropout.forward(x, first, Mode::training);
  dropout.random_stream()->set_state(saved);
  dropout.forward(x, again, Mode::training);
  CHECK(again.vector() == first.vector());
}

TEST_CASE("Dropout's gradient passes through the kept units only, with their scale") {
  Dropout<double> dropout(0.5);
  Random random(12);
  dropout.build({50}, random);
  Tensor<double> x({4, 50}, 1.0), y, dx;
  dropout.forward(x, y, Mode::training);
  Tensor<double> dy(x.shape());
  dy.fill_uniform(random, -1.0, 1.0);
  dropout.backward(x, y, dy, dx, Mode::training);
  Index kept = 0;
  for (Index i = 0; i < x.size(); ++i) {
    if (y[i] == 0.0) {
      CHECK(dx[i] == 0.0);
    } else {
      ++kept;
      CHECK(y[i] == 2.0);
      CHECK(dx[i] == 2.0 * dy[i]);
    }
  }
  CHECK(kept > 0);
  CHECK(kept < x.size());
}

TEST_CASE("Dropout gradients match central differences") {
  const Shape shapes[] = {Shape{1, 9}, Shape{3, 2, 3, 5}, Shape{5, 7}};
  for (const Shape& shape : shapes) {
    for (Mode mode : {Mode::training, Mode::inference}) {
      CAPTURE(shape);
      CAPTURE(mode == Mode::training);
      Dropout<double> dropout(0.4);
      Random random(13);
      dropout.build(shape.sample(), random);
      const auto report = testing::check_layer_gradients(dropout, shape, 14, mode);
      INFO(report.worst_element);
      CHECK(report.worst_error < 1e-6);
      CHECK(report.elements_checked == shape.size());
    }
  }
}

TEST_CASE("Dropout's inference backward is the identity, even after a training forward") {
  Dropout<double> dropout(0.5);
  Random random(16);
  dropout.build({3, 4, 5}, random);
  Tensor<double> x({2, 3, 4, 5}), y, dx;
  x.fill_uniform(random, -1.0, 1.0);
  dropout.forward(x, y, Mode::training);  // draws a mask that inference must not use
  const Random::State stream = dropout.random_stream()->state();
  const auto report = testing::check_layer_gradients(dropout, x.shape(), 17, Mode::inference);
  INFO(report.worst_element);
  CHECK(report.worst_error < 1e-6);
  Tensor<double> dy(x.shape());
  dy.fill_uniform(random, -1.0, 1.0);
  dropout.backward(x, x, dy, dx, Mode::inference);
  CHECK(dx.vector() == dy.vector());
  const Random::State after = dropout.random_stream()->state();
  CHECK(std::equal(after.words, after.words + 4, stream.words));
}

TEST_CASE("Dropout refuses bad rates and shapes, naming itself") {
  CHECK_THROWS_WITH_AS(Dropout<float>(1.0), "Dropout: expected rate in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(Dropout<float>(-0.5), "Dropout: expected rate in [0, 1), got -0.5", Error);
  CHECK_THROWS_WITH_AS(Dropout<float>(std::nan("")), "Dropout: expected rate in [0, 1), got nan",
                       Error);

  Dropout<float> dropout(0.5);
  dropout.set_name("drop");
  Random random(15);
  Tensor<float> x({2, 3}), y, dx;
  CHECK_THROWS_WITH_AS(dropout.forward(x, y, Mode::training),
                       "Dropout 'drop': forward() called before build()", Error);
  dropout.build({4}, random);
  CHECK_THROWS_WITH_AS(dropout.forward(x, y, Mode::training),
                       "Dropout 'drop': expected input of shape (N, 4), got (2, 3)", Error);
  Tensor<float> good({2, 4}, 1.0f), dy({2, 5}), right_dy({2, 4});
  CHECK_THROWS_WITH_AS(dropout.backward(good, good, right_dy, dx, Mode::training),
                       "Dropout 'drop': backward() called before a training-mode forward()", Error);
  dropout.forward(good, y, Mode::training);
  CHECK_THROWS_WITH_AS(dropout.backward(good, y, dy, dx, Mode::training),
                       "Dropout 'drop': expected output gradient of shape (2, 4), got (2, 5)",
                       Error);
  Tensor<float> other_batch({3, 4}, 1.0f), other_dy({3, 4});
  CHECK_THROWS_WITH_AS(dropout.backward(other_batch, y, other_dy, dx, Mode::training),
                       "Dropout 'drop': expected the input of the last training-mode forward(), "
                       "of shape (2, 4), got (3, 4)",
                       Error);
}

TEST_CASE("Dropout names its kind and round-trips through its config") {
  Dropout<float> dropout(0.2);
  CHECK(dropout.kind() == "Dropout");
  CHECK(dropout.config().str() == "rate=0.2");
  const auto copy = Dropout<float>::from_config(dropout.config());
  CHECK(copy->kind() == "Dropout");
  CHECK(copy->config() == dropout.config());
  CHECK(dropout.parameter_count(true) == 0);
}
