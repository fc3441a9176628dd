// Specification of BatchNorm (Keras's BatchNormalization): per-channel normalisation with batch
// statistics in training, moving averages in inference.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>

#include "minicnn/layers/batch_norm.hpp"
#include "support/gradient_check.hpp"

using namespace minicnn;

namespace {

// The layer's parameters by name: gamma, beta, moving_mean, moving_variance.
template <typename T>
Tensor<T>& value(BatchNorm<T>& layer, int index) {
  return layer.parameters()[static_cast<std::size_t>(index)]->value;
}
constexpr int kGamma = 0, kBeta = 1, kMovingMean = 2, kMovingVariance = 3;

}  // namespace

TEST_CASE("BatchNorm has gamma, beta and the moving statistics, in Keras's order") {
  BatchNorm<float> bn;
  Random random(1);
  CHECK(bn.build({3, 5, 5}, random) == Shape{3, 5, 5});
  const auto parameters = bn.parameters();
  REQUIRE(parameters.size() == 4);
  const char* names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
  const bool trainable[] = {true, true, false, false};
  const float initial[] = {1, 0, 0, 1};
  for (std::size_t k = 0; k < 4; ++k) {
    CAPTURE(names[k]);
    CHECK(parameters[k]->name == names[k]);
    CHECK(parameters[k]->trainable == trainable[k]);
    CHECK(parameters[k]->value.shape() == Shape{3});
    for (float v : parameters[k]->value)
      CHECK(v == initial[k]);
  }
  CHECK(bn.parameter_count(true) == 6);
  CHECK(bn.parameter_count(false) == 6);
}

TEST_CASE("BatchNorm in training normalises each feature with the batch mean and biased variance") {
  BatchNorm<double> bn;
  Random random(2);
  bn.build({1}, random);
  value(bn, kGamma)[0] = 2.0;
  value(bn, kBeta)[0] = 1.0;
  const auto x = Tensor<double>::of({4, 1}, {1, 2, 3, 4});  // mean 2.5, biased variance 1.25
  Tensor<double> y;
  bn.forward(x, y, Mode::training);
  for (Index n = 0; n < 4; ++n)
    CHECK(y[n] ==
          doctest::Approx(2.0 * (x[n] - 2.5) / std::sqrt(1.25 + 1e-3) + 1.0).epsilon(1e-14));
}

TEST_CASE("BatchNorm on images takes statistics per channel over batch, height and width") {
  BatchNorm<double> bn;  // momentum 0.99, epsilon 1e-3
  Random random(3);
  bn.build({2, 1, 2}, random);
  // Channel 0 holds {1, 3, 5, 7}: mean 4, variance 5. Channel 1 holds {10, 10, 20, 20}: mean 15,
  // variance 25.
  const auto x = Tensor<double>::of({2, 2, 1, 2}, {1, 3, 10, 10, 5, 7, 20, 20});
  Tensor<double> y;
  bn.forward(x, y, Mode::training);
  for (Index n = 0; n < 2; ++n)
    for (Index w = 0; w < 2; ++w) {
      CHECK(y(n, 0, 0, w) == doctest::Approx((x(n, 0, 0, w) - 4) / std::sqrt(5.001)));
      CHECK(y(n, 1, 0, w) == doctest::Approx((x(n, 1, 0, w) - 15) / std::sqrt(25.001)));
    }
  // moving = 0.99 moving + 0.01 statistic, with the unbiased variance (m = 4: times 4/3).
  CHECK(value(bn, kMovingMean)[0] == doctest::Approx(0.01 * 4).epsilon(1e-14));
  CHECK(value(bn, kMovingMean)[1] == doctest::Approx(0.01 * 15).epsilon(1e-14));
  CHECK(value(bn, kMovingVariance)[0] == doctest::Approx(0.99 + 0.01 * 5 * 4 / 3).epsilon(1e-14));
  CHECK(value(bn, kMovingVariance)[1] == doctest::Approx(0.99 + 0.01 * 25 * 4 / 3).epsilon(1e-14));
}

TEST_CASE("BatchNorm's moving statistics after two training steps, by hand") {
  BatchNorm<double> bn(0.9);
  Random random(4);
  bn.build({1}, random);
  Tensor<double> y;
  // Step 1: {1, 2, 3, 4}: mean 2.5, unbiased variance 5/3.
  //   moving_mean = 0.9 * 0 + 0.1 * 2.5 = 0.25;  moving_variance = 0.9 * 1 + 0.1 * 5/3 = 16/15
  bn.forward(Tensor<double>::of({4, 1}, {1, 2, 3, 4}), y, Mode::training);
  CHECK(value(bn, kMovingMean)[0] == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(value(bn, kMovingVariance)[0] == doctest::Approx(16.0 / 15).epsilon(1e-15));
  // Step 2: {0, 0, 6, 6}: mean 3, unbiased variance 4 * 9 / 3 = 12.
  //   moving_mean = 0.9 * 0.25 + 0.1 * 3 = 0.525;  moving_variance = 0.9 * 16/15 + 0.1 * 12 = 2.16
  bn.forward(Tensor<double>::of({4, 1}, {0, 0, 6, 6}), y, Mode::training);
  CHECK(value(bn, kMovingMean)[0] == doctest::Approx(0.525).epsilon(1e-15));
  CHECK(value(bn, kMovingVariance)[0] == doctest::Approx(2.16).epsilon(1e-15));
}

TEST_CASE("BatchNorm in inference uses the moving statistics and changes nothing") {
  BatchNorm<double> bn;
  Random random(5);
  bn.build({2}, random);
  value(bn, kGamma) = Tensor<double>::of({2}, {2, -1});
  value(bn, kBeta) = Tensor<double>::of({2}, {0.5, 0});
  value(bn, kMovingMean) = Tensor<double>::of({2}, {1, -2});
  value(bn, kMovingVariance) = Tensor<double>::of({2}, {3, 0.5});
  const auto x = Tensor<double>::of({3, 2}, {0, 0, 1, 1, 4, -2});
  Tensor<double> y;
  bn.forward(x, y, Mode::inference);
  for (Index n = 0; n < 3; ++n) {
    CHECK(y(n, 0) == doctest::Approx(2 * (x(n, 0) - 1) / std::sqrt(3.001) + 0.5).epsilon(1e-14));
    CHECK(y(n, 1) == doctest::Approx(-(x(n, 1) + 2) / std::sqrt(0.501)).epsilon(1e-14));
  }
  CHECK(value(bn, kMovingMean)[0] == 1.0);
  CHECK(value(bn, kMovingMean)[1] == -2.0);
  CHECK(value(bn, kMovingVariance)[0] == 3.0);
  CHECK(value(bn, kMovingVariance)[1] == 0.5);

  // A batch of one sample is fine in inference and gives that sample's row of the batch.
  Tensor<double> one;
  bn.forward(Tensor<double>::of({1, 2}, {4, -2}), one, Mode::inference);
  CHECK(one[0] == y(2, 0));
  CHECK(one[1] == y(2, 1));
}

TEST_CASE("BatchNorm's float statistics stay accurate for data far from zero") {
  // Values around 10^4 with standard deviation 1: a one-pass float sum of squares (about 10^11,
  // with float steps of 8192) would lose the variance entirely.
  BatchNorm<float> bn(0.0);  // momentum 0: the moving statistics become the batch's own
  Random random(6);
  bn.build({1}, random);
  Tensor<float> x({1000, 1});
  x.fill_normal(random, 1e4f, 1.0f);
  double mean = 0, variance = 0;
  for (float v : x)
    mean += v;
  mean /= 1000;
  for (float v : x)
    variance += (v - mean) * (v - mean);
  variance /= 1000;
  Tensor<float> y;
  bn.forward(x, y, Mode::training);
  CHECK(value(bn, kMovingMean)[0] == doctest::Approx(mean).epsilon(1e-7));
  CHECK(value(bn, kMovingVariance)[0] == doctest::Approx(variance * 1000 / 999).epsilon(1e-5));
  for (Index n = 0; n < 1000; ++n)
    CHECK(std::abs(y[n] - (x[n] - mean) / std::sqrt(variance + 1e-3)) < 2e-3);
}

TEST_CASE("BatchNorm gradients match central differences, in training and in inference") {
  const Shape shapes[] = {Shape{3, 4},       Shape{5, 3},       Shape{2, 1},
                          Shape{2, 3, 4, 5}, Shape{3, 2, 3, 3}, Shape{1, 2, 3, 3}};
  for (const Shape& shape : shapes) {
    for (Mode mode : {Mode::training, Mode::inference}) {
      CAPTURE(shape);
      CAPTURE(mode == Mode::training);
      BatchNorm<double> bn(0.9, 1e-2);
      Random random(7);
      bn.build(shape.sample(), random);
      for (int k : {kGamma, kBeta, kMovingMean})
        value(bn, k).fill_uniform(random, -1.5, 1.5);
      value(bn, kMovingVariance).fill_uniform(random, 0.2, 2.0);
      const auto report = testing::check_layer_gradients(bn, shape, 8, mode);
      INFO(report.worst_element);
      CHECK(report.worst_error < 1e-6);
      CHECK(report.elements_checked == shape.size() + 2 * shape[1]);
    }
  }
}

TEST_CASE("BatchNorm's backward differentiates the last training forward, not a later inference") {
  BatchNorm<double> bn;
  Random random(9);
  bn.build({3}, random);
  Tensor<double> x({4, 3}), other({2, 3}), dy({4, 3});
  x.fill_uniform(random, -1.0, 1.0);
  other.fill_uniform(random, 5.0, 6.0);
  dy.fill_uniform(random, -1.0, 1.0);
  auto plain = bn.clone();
  Tensor<double> y, dx_plain, y_other, dx;
  plain->forward(x, y, Mode::training);
  plain->backward(x, y, dy, dx_plain, Mode::training);
  bn.forward(x, y, Mode::training);
  bn.forward(other, y_other, Mode::inference);  // e.g. a validation batch in between
  bn.backward(x, y, dy, dx, Mode::training);
  CHECK(dx.vector() == dx_plain.vector());
}

TEST_CASE(
    "BatchNorm's inference backward differentiates the moving statistics, whatever came before") {
  // The layer has normalised a training batch first: an inference-mode gradient must ignore the
  // batch statistics that forward() cached and use dx = dy gamma / sqrt(moving_var + epsilon).
  for (const Shape& shape : {Shape{4, 3}, Shape{3, 2, 3, 5}}) {
    CAPTURE(shape);
    BatchNorm<double> bn(0.5, 1e-2);
    Random random(21);
    bn.build(shape.sample(), random);
    value(bn, kGamma).fill_uniform(random, 0.5, 1.5);
    Tensor<double> batch(shape), y;
    batch.fill_uniform(random, 2.0, 4.0);
    bn.forward(batch, y, Mode::training);
    const auto report = testing::check_layer_gradients(bn, shape, 22, Mode::inference);
    INFO(report.worst_element);
    CHECK(report.worst_error < 1e-6);

    const Tensor<double> moving_mean = value(bn, kMovingMean);
    const Tensor<double> moving_variance = value(bn, kMovingVariance);
    Tensor<double> dy(shape), dx;
    dy.fill_uniform(random, -1.0, 1.0);
    bn.forward(batch, y, Mode::inference);
    bn.backward(batch, y, dy, dx, Mode::inference);
    const Index channels = shape[1];
    const Index spatial = shape.size() / (shape[0] * channels);
    for (Index i = 0; i < dx.size(); ++i) {
      const Index c = (i / spatial) % channels;
      const double scale = value(bn, kGamma)[c] / std::sqrt(moving_variance[c] + 1e-2);
      CHECK(dx[i] == doctest::Approx(dy[i] * scale).epsilon(1e-12));
    }
    CHECK(value(bn, kMovingMean).vector() == moving_mean.vector());
    CHECK(value(bn, kMovingVariance).vector() == moving_variance.vector());

    // ... and leaves the training cache alone: the training gradient afterwards is unchanged.
    auto untouched = bn.clone();
    Tensor<double> dx_after, dx_expected;
    bn.backward(batch, y, dy, dx_after, Mode::training);
    untouched->backward(batch, y, dy, dx_expected, Mode::training);
    CHECK(dx_after.vector() == dx_expected.vector());
  }
}

TEST_CASE("BatchNorm gives the same numbers on 1 and 2 threads") {
  const int threads = omp_get_max_threads();
  Random random(10);
  Tensor<float> x({8, 16, 16, 16}), dy(x.shape());  // above the parallel threshold
  x.fill_normal(random, 3.0f, 2.0f);
  dy.fill_uniform(random, -1.0f, 1.0f);
  BatchNorm<float> prototype;
  prototype.build({16, 16, 16}, random);
  std::unique_ptr<Layer<float>> bn[2];
  Tensor<float> y[2], dx[2];
  for (int t : {1, 2}) {
    omp_set_num_threads(t);
    bn[t - 1] = prototype.clone();
    bn[t - 1]->forward(x, y[t - 1], Mode::training);
    bn[t - 1]->backward(x, y[t - 1], dy, dx[t - 1], Mode::training);
  }
  omp_set_num_threads(threads);
  CHECK(y[0].vector() == y[1].vector());
  CHECK(dx[0].vector() == dx[1].vector());
  for (std::size_t k = 0; k < 4; ++k) {
    CAPTURE(k);
    CHECK(bn[0]->parameters()[k]->value.vector() == bn[1]->parameters()[k]->value.vector());
    if (k < 2)
      CHECK(bn[0]->parameters()[k]->grad.vector() == bn[1]->parameters()[k]->grad.vector());
  }
}

TEST_CASE("BatchNorm refuses bad arguments and shapes, naming itself") {
  CHECK_THROWS_WITH_AS(BatchNorm<float>(1.5),
                       "BatchNormalization: expected momentum in [0, 1], got 1.5", Error);
  CHECK_THROWS_WITH_AS(BatchNorm<float>(-0.1),
                       "BatchNormalization: expected momentum in [0, 1], got -0.1", Error);
  CHECK_THROWS_WITH_AS(BatchNorm<float>(0.99, 0.0),
                       "BatchNormalization: expected a finite epsilon > 0, got 0", Error);

  BatchNorm<float> bn;
  bn.set_name("bn");
  Random random(11);
  CHECK_THROWS_WITH_AS(bn.build({8, 8}, random),
                       "BatchNormalization 'bn': expected input of rank 1 (features) or 3 "
                       "(channels, height, width) per sample, got (8, 8)",
                       Error);
  Tensor<float> x({2, 4}), y, dx;
  CHECK_THROWS_WITH_AS(bn.forward(x, y, Mode::training),
                       "BatchNormalization 'bn': forward() called before build()", Error);
  bn.build({3}, random);
  CHECK_THROWS_WITH_AS(bn.forward(x, y, Mode::training),
                       "BatchNormalization 'bn': expected input of shape (N, 3), got (2, 4)",
                       Error);
  Tensor<float> single({1, 3}, 1.0f);
  CHECK_THROWS_WITH_AS(bn.forward(single, y, Mode::training),
                       "BatchNormalization 'bn': expected more than 1 value per channel in "
                       "training mode (N*H*W), got 1 for input of shape (1, 3)",
                       Error);
  bn.forward(single, y, Mode::inference);  // no statistics to estimate: fine
  Tensor<float> single_dy({1, 3}, 1.0f);
  CHECK_THROWS_WITH_AS(bn.backward(single, y, single_dy, dx, Mode::training),
                       "BatchNormalization 'bn': backward() called before a training-mode "
                       "forward()",
                       Error);
  bn.backward(single, y, single_dy, dx, Mode::inference);  // the inference function: fine
  Tensor<float> good({2, 3}, 1.0f), dy({2, 2});
  bn.forward(good, y, Mode::training);
  CHECK_THROWS_WITH_AS(bn.backward(good, y, dy, dx, Mode::training),
                       "BatchNormalization 'bn': expected output gradient of shape (2, 3), got "
                       "(2, 2)",
                       Error);

  BatchNorm<float> images;
  images.build({2, 1, 1}, random);
  Tensor<float> one_pixel({1, 2, 1, 1}, 1.0f);
  CHECK_THROWS_WITH_AS(images.forward(one_pixel, y, Mode::training),
                       "BatchNormalization: expected more than 1 value per channel in training "
                       "mode (N*H*W), got 1 for input of shape (1, 2, 1, 1)",
                       Error);
}

TEST_CASE("BatchNorm names its kind and round-trips through its config") {
  BatchNorm<float> bn(0.9, 1e-5);
  CHECK(bn.kind() == "BatchNormalization");
  CHECK(bn.config().str() == "momentum=0.9, epsilon=1e-05");
  const auto copy = BatchNorm<float>::from_config(bn.config());
  CHECK(copy->kind() == "BatchNormalization");
  CHECK(copy->config() == bn.config());
  CHECK(BatchNorm<float>().config().get_double("momentum") == 0.99);
  CHECK(BatchNorm<float>().config().get_double("epsilon") == 1e-3);
}
