// Specification of the losses: categorical cross-entropy (one-hot and sparse targets, from
// probabilities and from logits) and mean squared error.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/losses/mean_squared_error.hpp"
#include "support/loss_gradient_check.hpp"

using namespace minicnn;

namespace {

// Row-wise softmax of (N, K) logits, written out plainly as the reference.
Tensor<double> softmax_rows(const Tensor<double>& z) {
  Tensor<double> p(z.shape());
  for (Index n = 0; n < z.dim(0); ++n) {
    double sum = 0;
    for (Index k = 0; k < z.dim(1); ++k)
      sum += std::exp(z(n, k));
    for (Index k = 0; k < z.dim(1); ++k)
      p(n, k) = std::exp(z(n, k)) / sum;
  }
  return p;
}

Tensor<double> uniform(const Shape& shape, double low, double high, std::uint64_t seed) {
  Random random(seed);
  Tensor<double> t(shape);
  t.fill_uniform(random, low, high);
  return t;
}

// (N) random class indices in [0, K), stored as double.
Tensor<double> random_labels(Index batch, Index classes, std::uint64_t seed) {
  Random random(seed);
  Tensor<double> labels({batch});
  for (double& label : labels)
    label = static_cast<double>(random.below(classes));
  return labels;
}

Tensor<double> one_hot(const Tensor<double>& labels, Index classes) {
  Tensor<double> t({labels.size(), classes}, 0.0);
  for (Index n = 0; n < labels.size(); ++n)
    t(n, static_cast<Index>(labels[n])) = 1.0;
  return t;
}

// (N, K) rows of positive numbers that sum to 1: soft targets.
Tensor<double> random_distributions(Index batch, Index classes, std::uint64_t seed) {
  Tensor<double> t = uniform({batch, classes}, 0.1, 1.0, seed);
  for (Index n = 0; n < batch; ++n) {
    double sum = 0;
    for (Index k = 0; k < classes; ++k)
      sum += t(n, k);
    for (Index k = 0; k < classes; ++k)
      t(n, k) /= sum;
  }
  return t;
}

}  // namespace

TEST_CASE("Sparse cross-entropy from logits is logsumexp(z) - z_y, averaged over the batch") {
  // Row 0: logits log 1, log 2, log 3 -> softmax (1/6, 2/6, 3/6); label 2: -log(1/2) = log 2.
  // Row 1: logits 0, 0, 0 -> softmax (1/3, 1/3, 1/3); label 0: -log(1/3) = log 3.
  const auto z = Tensor<double>::of({2, 3}, {0.0, std::log(2.0), std::log(3.0), 0.0, 0.0, 0.0});
  const auto y = Tensor<double>::of({2}, {2, 0});
  SparseCategoricalCrossentropy<double> loss(true);
  Tensor<double> gradient;
  CHECK(loss.compute(z, y, &gradient) == doctest::Approx((std::log(2.0) + std::log(3.0)) / 2));
  // (softmax - one-hot) / N with N = 2.
  const double expected[] = {1.0 / 12,          2.0 / 12, (3.0 / 6 - 1) / 2,
                             (1.0 / 3 - 1) / 2, 1.0 / 6,  1.0 / 6};
  REQUIRE(gradient.shape() == Shape{2, 3});
  for (Index i = 0; i < 6; ++i)
    CHECK(gradient[i] == doctest::Approx(expected[i]));
  Tensor<double> losses;
  loss.per_sample(z, y, losses);
  REQUIRE(losses.shape() == Shape{2});
  CHECK(losses[0] == doctest::Approx(std::log(2.0)));
  CHECK(losses[1] == doctest::Approx(std::log(3.0)));
}

TEST_CASE("Cross-entropy from logits stays finite and exact at logits of +-1000") {
  // exp(1000) overflows even a double, but with the maximum subtracted the row (1000, -1000)
  // needs only exp(0) = 1 and exp(-2000) = 0: logsumexp = 1000 exactly, so the loss is
  // 1000 - 1000 = 0 for label 0 and 1000 - (-1000) = 2000 for label 1. Mean: 1000.
  const auto z = Tensor<float>::of({2, 2}, {1000, -1000, 1000, -1000});
  const auto y = Tensor<float>::of({2}, {0, 1});
  const auto t = Tensor<float>::of({2, 2}, {1, 0, 0, 1});
  Tensor<float> sparse_gradient, dense_gradient, losses;
  CHECK(SparseCategoricalCrossentropy<float>(true).compute(z, y, &sparse_gradient) == 1000.0f);
  CHECK(CategoricalCrossentropy<float>(true).compute(z, t, &dense_gradient) == 1000.0f);
  SparseCategoricalCrossentropy<float>(true).per_sample(z, y, losses);
  CHECK(losses[0] == 0.0f);
  CHECK(losses[1] == 2000.0f);
  // softmax = (1, 0) in both rows; (softmax - t) / 2 = (0, 0) and (0.5, -0.5).
  for (const Tensor<float>* g : {&sparse_gradient, &dense_gradient}) {
    CHECK((*g)[0] == 0.0f);
    CHECK((*g)[1] == 0.0f);
    CHECK((*g)[2] == 0.5f);
    CHECK((*g)[3] == -0.5f);
  }
}

TEST_CASE("Cross-entropy from probabilities is -sum t log p, clipped at 1e-7") {
  // Row 0: -(0.25 log 0.5 + 0.75 log 0.25); row 1: p = 0 for the true class costs -log(1e-7).
  const auto p = Tensor<double>::of({2, 2}, {0.5, 0.25, 1.0, 0.0});
  const auto t = Tensor<double>::of({2, 2}, {0.25, 0.75, 0.0, 1.0});
  CategoricalCrossentropy<double> loss;
  Tensor<double> gradient, losses;
  const double row0 = -(0.25 * std::log(0.5) + 0.75 * std::log(0.25));
  const double row1 = -std::log(1e-7);
  CHECK(row1 == doctest::Approx(16.118095650958));
  CHECK(loss.compute(p, t, &gradient) == doctest::Approx((row0 + row1) / 2));
  loss.per_sample(p, t, losses);
  CHECK(losses[0] == doctest::Approx(row0));
  CHECK(losses[1] == doctest::Approx(row1));
  // -t / p / N where p is not clipped; 0 where it is (the clip is flat there).
  CHECK(gradient[0] == doctest::Approx(-0.25 / 0.5 / 2));
  CHECK(gradient[1] == doctest::Approx(-0.75 / 0.25 / 2));
  CHECK(gradient[2] == 0.0);
  CHECK(gradient[3] == 0.0);

  SparseCategoricalCrossentropy<double> sparse;
  const auto y = Tensor<double>::of({2}, {0, 1});
  CHECK(sparse.compute(p, y, &gradient) == doctest::Approx((-std::log(0.5) + row1) / 2));
  CHECK(gradient[0] == doctest::Approx(-1.0 / 0.5 / 2));
  CHECK(gradient[1] == 0.0);
  CHECK(gradient[2] == 0.0);
  CHECK(gradient[3] == 0.0);
}

TEST_CASE("The probability path equals the logits path on softmax outputs") {
  // Where nothing is clipped, loss(softmax(z)) from probabilities == loss(z) from logits, and
  // the chain rule through softmax, dL/dz_k = p_k (dL/dp_k - sum_j p_j dL/dp_j), turns the
  // probability gradient into the logits gradient.
  const Index batch = 3, classes = 5;
  const auto z = uniform({batch, classes}, -3.0, 3.0, 21);
  const auto p = softmax_rows(z);
  const auto y = random_labels(batch, classes, 22);
  const auto soft = random_distributions(batch, classes, 23);
  SparseCategoricalCrossentropy<double> sparse;
  CategoricalCrossentropy<double> categorical;
  struct Case {
    const Loss<double>& loss;
    const Tensor<double>& target;
  };
  for (const Case& c : {Case{sparse, y}, Case{categorical, soft}}) {
    CAPTURE(c.loss.kind());
    Tensor<double> dp, dz, from_p, from_z;
    const auto logits_loss = c.loss.on_logits();
    REQUIRE(logits_loss != nullptr);
    CHECK(c.loss.compute(p, c.target, &dp) ==
          doctest::Approx(logits_loss->compute(z, c.target, &dz)).epsilon(1e-12));
    c.loss.per_sample(p, c.target, from_p);
    logits_loss->per_sample(z, c.target, from_z);
    for (Index n = 0; n < batch; ++n) {
      CHECK(from_p[n] == doctest::Approx(from_z[n]).epsilon(1e-12));
      double p_dot_dp = 0;
      for (Index k = 0; k < classes; ++k)
        p_dot_dp += p(n, k) * dp(n, k);
      for (Index k = 0; k < classes; ++k)
        CHECK(p(n, k) * (dp(n, k) - p_dot_dp) == doctest::Approx(dz(n, k)).epsilon(1e-12));
    }
  }
}

TEST_CASE("Sparse labels and their one-hot rows give the same loss and gradient") {
  for (bool from_logits : {false, true}) {
    CAPTURE(from_logits);
    const auto prediction = uniform({4, 3}, 0.05, 1.0, 31);
    const auto y = random_labels(4, 3, 32);
    Tensor<double> sparse_gradient, dense_gradient, sparse_losses, dense_losses;
    SparseCategoricalCrossentropy<double> sparse(from_logits);
    CategoricalCrossentropy<double> categorical(from_logits);
    CHECK(sparse.compute(prediction, y, &sparse_gradient) ==
          doctest::Approx(categorical.compute(prediction, one_hot(y, 3), &dense_gradient))
              .epsilon(1e-14));
    for (Index i = 0; i < prediction.size(); ++i)
      CHECK(sparse_gradient[i] == doctest::Approx(dense_gradient[i]).epsilon(1e-14));
    sparse.per_sample(prediction, y, sparse_losses);
    categorical.per_sample(prediction, one_hot(y, 3), dense_losses);
    for (Index n = 0; n < 4; ++n)
      CHECK(sparse_losses[n] == doctest::Approx(dense_losses[n]).epsilon(1e-14));
  }
}

TEST_CASE("Cross-entropy gradients match central differences") {
  for (bool from_logits : {false, true})
    for (Index batch : {1, 3})
      for (Index classes : {2, 5}) {
        CAPTURE(from_logits);
        CAPTURE(batch);
        CAPTURE(classes);
        // Logits anywhere; probabilities away from the clip at 1e-7 (not normalised: the
        // formula does not need it, and the check is stronger without).
        const auto prediction = from_logits ? uniform({batch, classes}, -4.0, 4.0, 41)
                                            : uniform({batch, classes}, 0.05, 1.0, 41);
        const auto y = random_labels(batch, classes, 42);
        const auto soft = random_distributions(batch, classes, 43);

        auto report = testing::check_loss_gradients(
            SparseCategoricalCrossentropy<double>(from_logits), prediction, y);
        INFO(report.worst_element);
        CHECK(report.worst_error < 1e-6);
        CHECK(report.elements_checked == batch * classes);

        report = testing::check_loss_gradients(CategoricalCrossentropy<double>(from_logits),
                                               prediction, soft);
        INFO(report.worst_element);
        CHECK(report.worst_error < 1e-6);
        CHECK(report.elements_checked == batch * classes);
      }
}

TEST_CASE("Cross-entropy from logits with targets that do not sum to 1 is sum_k t_k (lse - z_k)") {
  // t = (2, 1): loss = 3 logsumexp(z) - 2 z_0 - z_1; the gradient 3 softmax - t follows it.
  const auto z = Tensor<double>::of({1, 2}, {0.5, -1.0});
  const auto t = Tensor<double>::of({1, 2}, {2.0, 1.0});
  const double lse = std::log(std::exp(0.5) + std::exp(-1.0));
  CategoricalCrossentropy<double> loss(true);
  CHECK(loss.compute(z, t, nullptr) == doctest::Approx(3 * lse - 2 * 0.5 + 1.0));
  const auto report = testing::check_loss_gradients(loss, z, t);
  INFO(report.worst_element);
  CHECK(report.worst_error < 1e-6);
}

TEST_CASE("Mean squared error is the mean of (p - t)^2 over all values") {
  // Differences 1, 2 / 2, 3; squares 1, 4 / 4, 9: per sample 5/2 and 13/2, mean 18/4.
  const auto p = Tensor<double>::of({2, 2}, {1, 2, 3, 4});
  const auto t = Tensor<double>::of({2, 2}, {0, 0, 1, 1});
  MeanSquaredError<double> loss;
  Tensor<double> gradient, losses;
  CHECK(loss.compute(p, t, &gradient) == 4.5);
  loss.per_sample(p, t, losses);
  REQUIRE(losses.shape() == Shape{2});
  CHECK(losses[0] == 2.5);
  CHECK(losses[1] == 6.5);
  // 2 (p - t) / (N K) = (p - t) / 2.
  const double expected[] = {0.5, 1.0, 1.0, 1.5};
  for (Index i = 0; i < 4; ++i)
    CHECK(gradient[i] == expected[i]);
}

TEST_CASE("Mean squared error gradients match central differences") {
  for (Index batch : {1, 3})
    for (Index outputs : {2, 5}) {
      CAPTURE(batch);
      CAPTURE(outputs);
      const auto report = testing::check_loss_gradients(MeanSquaredError<double>(),
                                                        uniform({batch, outputs}, -2, 2, 51),
                                                        uniform({batch, outputs}, -2, 2, 52));
      INFO(report.worst_element);
      CHECK(report.worst_error < 1e-6);
      CHECK(report.elements_checked == batch * outputs);
    }
}

TEST_CASE(
    "compute() is the mean of per_sample() and gives the same value with or without the "
    "gradient") {
  const auto prediction = uniform({3, 5}, 0.05, 1.0, 61);
  const auto y = random_labels(3, 5, 62);
  const auto soft = random_distributions(3, 5, 63);
  SparseCategoricalCrossentropy<double> sparse_p, sparse_z(true);
  CategoricalCrossentropy<double> dense_p, dense_z(true);
  MeanSquaredError<double> mse;
  struct Case {
    const Loss<double>& loss;
    const Tensor<double>& target;
  };
  for (const Case& c : {Case{sparse_p, y}, Case{sparse_z, y}, Case{dense_p, soft},
                        Case{dense_z, soft}, Case{mse, soft}}) {
    CAPTURE(c.loss.kind());
    Tensor<double> losses, gradient;
    c.loss.per_sample(prediction, c.target, losses);
    REQUIRE(losses.shape() == Shape{3});
    const double mean = (losses[0] + losses[1] + losses[2]) / 3;
    CHECK(c.loss.compute(prediction, c.target, nullptr) == doctest::Approx(mean).epsilon(1e-14));
    CHECK(c.loss.compute(prediction, c.target, &gradient) ==
          c.loss.compute(prediction, c.target, nullptr));
  }
}

TEST_CASE("Losses reuse the caller's gradient and per-sample tensors") {
  const auto prediction = uniform({3, 5}, 0.05, 1.0, 71);
  const auto y = random_labels(3, 5, 72);
  SparseCategoricalCrossentropy<double> loss(true);
  Tensor<double> gradient, losses;
  loss.compute(prediction, y, &gradient);
  loss.per_sample(prediction, y, losses);
  const double* gradient_storage = gradient.data();
  const double* losses_storage = losses.data();
  loss.compute(prediction, y, &gradient);
  loss.per_sample(prediction, y, losses);
  CHECK(gradient.data() == gradient_storage);
  CHECK(losses.data() == losses_storage);
}

TEST_CASE("Cross-entropies hand Sequential their logits version; the others have none") {
  const auto sparse = SparseCategoricalCrossentropy<float>().on_logits();
  REQUIRE(sparse != nullptr);
  CHECK(sparse->kind() == "SparseCategoricalCrossentropy");
  CHECK(sparse->config().str() == "from_logits=true");
  const auto categorical = CategoricalCrossentropy<float>().on_logits();
  REQUIRE(categorical != nullptr);
  CHECK(categorical->kind() == "CategoricalCrossentropy");
  CHECK(categorical->config().str() == "from_logits=true");
  // Already on logits: fusing a Softmax in front would change what the loss means.
  CHECK(SparseCategoricalCrossentropy<float>(true).on_logits() == nullptr);
  CHECK(CategoricalCrossentropy<float>(true).on_logits() == nullptr);
  CHECK(MeanSquaredError<float>().on_logits() == nullptr);
}

TEST_CASE("Losses round-trip through their config") {
  const SparseCategoricalCrossentropy<float> sparse(true);
  CHECK(sparse.config().str() == "from_logits=true");
  CHECK(SparseCategoricalCrossentropy<float>::from_config(sparse.config())->config() ==
        sparse.config());
  const CategoricalCrossentropy<float> categorical;
  CHECK(categorical.config().str() == "from_logits=false");
  CHECK(CategoricalCrossentropy<float>::from_config(categorical.config())->config() ==
        categorical.config());
  CHECK(MeanSquaredError<float>::from_config(Config())->kind() == "MeanSquaredError");
}

TEST_CASE("Losses refuse bad shapes and labels, naming themselves, the sample and the values") {
  const Tensor<float> scores({2, 3}, 0.5f);
  Tensor<float> gradient, losses;
  SparseCategoricalCrossentropy<float> sparse;
  CategoricalCrossentropy<float> categorical;
  MeanSquaredError<float> mse;

  CHECK_THROWS_WITH_AS(
      sparse.compute(Tensor<float>({2, 3, 4}), Tensor<float>({2}), nullptr),
      "SparseCategoricalCrossentropy: expected a prediction of shape (N, K) with N, K >= 1, got "
      "(2, 3, 4)",
      Error);
  CHECK_THROWS_WITH_AS(
      categorical.per_sample(Tensor<float>({0, 3}), Tensor<float>({0, 3}), losses),
      "CategoricalCrossentropy: expected a prediction of shape (N, K) with N, K >= 1, got (0, 3)",
      Error);
  CHECK_THROWS_WITH_AS(
      sparse.compute(scores, Tensor<float>({2, 3}), &gradient),
      "SparseCategoricalCrossentropy: expected target of shape (2), one class index per sample, "
      "got (2, 3)",
      Error);
  CHECK_THROWS_WITH_AS(
      categorical.compute(scores, Tensor<float>({2}), &gradient),
      "CategoricalCrossentropy: expected target of shape (2, 3), like the prediction, got (2)",
      Error);
  CHECK_THROWS_WITH_AS(sparse.compute(scores, Tensor<float>::of({2}, {0, 2.5f}), nullptr),
                       "SparseCategoricalCrossentropy: sample 1: expected a class index in [0, "
                       "3), got 2.5",
                       Error);
  CHECK_THROWS_WITH_AS(sparse.per_sample(scores, Tensor<float>::of({2}, {3, 0}), losses),
                       "SparseCategoricalCrossentropy: sample 0: expected a class index in [0, "
                       "3), got 3",
                       Error);
  CHECK_THROWS_WITH_AS(sparse.compute(scores, Tensor<float>::of({2}, {1, -1}), nullptr),
                       "SparseCategoricalCrossentropy: sample 1: expected a class index in [0, "
                       "3), got -1",
                       Error);
  CHECK_THROWS_WITH_AS(
      sparse.compute(scores, Tensor<float>::of({2}, {std::numeric_limits<float>::quiet_NaN(), 0}),
                     nullptr),
      "SparseCategoricalCrossentropy: sample 0: expected a class index in [0, 3), got nan", Error);
  CHECK_THROWS_WITH_AS(
      mse.compute(Tensor<float>({0, 3}), Tensor<float>({0, 3}), nullptr),
      "MeanSquaredError: expected a non-empty prediction of shape (N, ...), got (0, 3)", Error);
  CHECK_THROWS_WITH_AS(
      mse.per_sample(scores, Tensor<float>({3, 2}), losses),
      "MeanSquaredError: expected target of shape (2, 3), like the prediction, got (3, 2)", Error);
}
