// Specification of the callbacks: EarlyStopping, ModelCheckpoint and the learning-rate schedules
// (StepDecay, CosineDecay, ReduceLROnPlateau). Decisions are checked on hand-made sequences of
// EpochLogs fed to the hooks directly; fit() runs check that they are wired into training.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "minicnn/callbacks/early_stopping.hpp"
#include "minicnn/callbacks/lr_schedules.hpp"
#include "minicnn/callbacks/model_checkpoint.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/optimizers/sgd.hpp"
#include "minicnn/sequential.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;
using minicnn::testing::TempDir;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The logs of one epoch in which `metric` (and every other metric) has the value `value`.
EpochLogs logs_at(Index epoch, double value) {
  EpochLogs logs;
  logs.epoch = epoch;
  logs.has_validation = true;
  logs.loss = logs.accuracy = logs.val_loss = logs.val_accuracy = value;
  return logs;
}

// Feeds `values` to the callback's hooks as fit() would, epoch 0 first, until it asks to stop;
// returns the number of epochs run. `before_epoch_end(epoch)` runs where the epoch's training
// would be.
template <typename Before>
Index drive(Callback<float>& callback, Sequential<float>& model, Optimizer<float>& optimizer,
            const std::vector<double>& values, Before before_epoch_end) {
  callback.on_train_begin(model, optimizer);
  Index epochs = 0;
  for (const double value : values) {
    before_epoch_end(epochs);
    const bool stop = callback.on_epoch_end(logs_at(epochs, value), model, optimizer);
    ++epochs;
    if (stop) break;
  }
  callback.on_train_end(model, optimizer);
  return epochs;
}
Index drive(Callback<float>& callback, const std::vector<double>& values) {
  Sequential<float> unused;
  SGD<float> sgd;
  return drive(callback, unused, sgd, values, [](Index) {});
}

// The optimizer's learning rate after each epoch's on_epoch_end, for `values` fed as in drive().
std::vector<double> rates_after(Callback<float>& callback, Optimizer<float>& optimizer,
                                const std::vector<double>& values) {
  Sequential<float> unused;
  std::vector<double> rates;
  callback.on_train_begin(unused, optimizer);
  for (std::size_t epoch = 0; epoch < values.size(); ++epoch) {
    callback.on_epoch_end(logs_at(static_cast<Index>(epoch), values[epoch]), unused, optimizer);
    rates.push_back(optimizer.learning_rate());
  }
  return rates;
}

// Two features, three classes, separable by angle: x (n, 2), y (n) class indices.
void points(Index n, Tensor<float>& x, Tensor<float>& y) {
  Random random(7);
  x.resize({n, 2});
  y.resize({n});
  for (Index i = 0; i < n; ++i) {
    const double angle = 2.0943951023931953 * static_cast<double>(i % 3);
    x(i, 0) = static_cast<float>(2 * std::cos(angle) + 0.5 * random.normal());
    x(i, 1) = static_cast<float>(2 * std::sin(angle) + 0.5 * random.normal());
    y[i] = static_cast<float>(i % 3);
  }
}

// Dense 3 on 2 features, trained from logits; with batch normalisation when `normalised`, so
// that there are non-trainable parameters too.
Sequential<float> tiny_model(std::uint64_t seed, bool normalised = false) {
  Sequential<float> model;
  model.add<Dense>(3);
  if (normalised) model.add<BatchNorm>();
  model.build({2}, seed);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>(true));
  return model;
}

FitOptions<float> quiet(Index epochs) {
  FitOptions<float> options;
  options.epochs = epochs;
  options.batch_size = 8;
  options.seed = 3;
  options.verbose = Verbose::silent;
  return options;
}

std::vector<float> weights(Model<float>& model) {
  std::vector<float> all;
  for (Parameter<float>* p : model.parameters())
    all.insert(all.end(), p->value.begin(), p->value.end());
  return all;
}

std::vector<double> learning_rates(const History& history) {
  std::vector<double> rates;
  for (const EpochLogs& logs : history.epochs)
    rates.push_back(logs.learning_rate);
  return rates;
}

}  // namespace

// ---- EarlyStopping ------------------------------------------------------------------------------

TEST_CASE("EarlyStopping in min mode stops at the patience-th epoch in a row without improvement") {
  EarlyStopping<float> stop("val_loss", 0.0, 3);
  CHECK_FALSE(stop.monitor().maximizes());
  // Improvements at epochs 0, 1 and 4; 0.9 again at epoch 3 is no improvement.
  CHECK(drive(stop, {1.0, 0.9, 0.95, 0.9, 0.8, 0.85, 0.86, 0.87, 0.5}) == 8);
  CHECK(stop.stopped_epoch() == 7);
  CHECK(stop.best_epoch() == 4);
  CHECK(stop.best() == 0.8);
  CHECK(stop.wait() == 3);
}

TEST_CASE("EarlyStopping counts only improvements larger than min_delta") {
  EarlyStopping<float> stop("loss", 0.05, 2);
  // 0.96 is not below 1.0 - 0.05; 0.94 is and becomes the best; 0.93 and 0.92 are not below 0.89.
  CHECK(drive(stop, {1.0, 0.96, 0.94, 0.93, 0.92, 0.1}) == 5);
  CHECK(stop.stopped_epoch() == 4);
  CHECK(stop.best() == 0.94);
  CHECK(stop.best_epoch() == 2);
}

TEST_CASE("EarlyStopping in max mode, automatic for accuracies or explicit") {
  EarlyStopping<float> automatic("val_accuracy", 0.0, 2);
  CHECK(automatic.monitor().maximizes());
  // An equal value is no improvement.
  CHECK(drive(automatic, {0.5, 0.6, 0.6, 0.59, 0.9}) == 4);
  CHECK(automatic.stopped_epoch() == 3);
  CHECK(automatic.best() == 0.6);

  EarlyStopping<float> explicit_max("loss", 0.1, 1, MonitorMode::max);
  CHECK(explicit_max.monitor().maximizes());
  CHECK(drive(explicit_max, {1.0, 1.2, 1.25}) == 3);  // 1.25 is not above 1.2 + 0.1
  CHECK(explicit_max.best() == 1.2);

  EarlyStopping<float> explicit_min("accuracy", 0.0, 1, MonitorMode::min);
  CHECK(drive(explicit_min, {0.5, 0.4, 0.45}) == 3);
}

TEST_CASE("EarlyStopping with patience 0 or 1 stops at the first epoch without improvement") {
  for (Index patience : {0, 1}) {
    CAPTURE(patience);
    EarlyStopping<float> stop("loss", 0.0, patience);
    CHECK(drive(stop, {3.0, 2.0, 2.5, 1.0}) == 3);
    CHECK(stop.stopped_epoch() == 2);
  }
}

TEST_CASE("EarlyStopping never stops at epoch 0 and NaN is never an improvement") {
  EarlyStopping<float> stop("loss", 0.0, 0);
  CHECK(drive(stop, {kNaN, kNaN, 1.0}) == 2);
  CHECK(stop.stopped_epoch() == 1);
  CHECK(stop.best_epoch() == -1);
}

TEST_CASE("EarlyStopping that never triggers reports no stopped epoch; each fit starts afresh") {
  EarlyStopping<float> stop("loss", 0.0, 2);
  CHECK(drive(stop, {3.0, 2.0, 2.5, 1.0}) == 4);
  CHECK(stop.stopped_epoch() == -1);
  CHECK(stop.best() == 1.0);
  // A second run does not compare with the first run's best of 1.0.
  CHECK(drive(stop, {5.0, 4.0}) == 2);
  CHECK(stop.best() == 4.0);
  CHECK(stop.best_epoch() == 1);
}

TEST_CASE("EarlyStopping restores every parameter's value from the best epoch") {
  // Every parameter (the Dense kernel and bias, BatchNorm's gamma, beta and its non-trainable
  // moving statistics) holds the epoch number during that epoch.
  auto model = tiny_model(1, true);
  REQUIRE(model.parameters().size() == 6);
  SGD<float> sgd;
  const auto fill_with_epoch = [&](Index epoch) {
    for (Parameter<float>* p : model.parameters())
      p->value.fill(static_cast<float>(epoch));
  };
  const auto all_equal = [&](float value) {
    for (float w : weights(model))
      if (w != value) return false;
    return true;
  };

  SUBCASE("after stopping early") {
    EarlyStopping<float> stop("val_loss", 0.0, 2, MonitorMode::automatic, true);
    CHECK(drive(stop, model, sgd, {3.0, 1.0, 2.0, 2.5, 0.0}, fill_with_epoch) == 4);
    CHECK(stop.best_epoch() == 1);
    CHECK(all_equal(1.0f));
  }
  SUBCASE("after running all epochs, as Keras 3") {
    EarlyStopping<float> stop("val_loss", 0.0, 5, MonitorMode::automatic, true);
    CHECK(drive(stop, model, sgd, {3.0, 1.0, 2.0}, fill_with_epoch) == 3);
    CHECK(stop.stopped_epoch() == -1);
    CHECK(all_equal(1.0f));
  }
  SUBCASE("from the first epoch when no epoch improves") {
    EarlyStopping<float> stop("val_loss", 0.0, 5, MonitorMode::automatic, true);
    CHECK(drive(stop, model, sgd, {kNaN, kNaN}, fill_with_epoch) == 2);
    CHECK(all_equal(0.0f));
  }
  SUBCASE("not at all without restore_best_weights") {
    EarlyStopping<float> stop("val_loss", 0.0, 2);
    CHECK(drive(stop, model, sgd, {3.0, 1.0, 2.0, 2.5}, fill_with_epoch) == 4);
    CHECK(all_equal(3.0f));
  }
}

TEST_CASE("EarlyStopping stops fit() and restores the best weights of a real run") {
  Tensor<float> x, y;
  points(48, x, y);

  SUBCASE("a loss that cannot improve by min_delta stops after patience epochs") {
    auto model = tiny_model(2);
    SGD<float> frozen(1e-12);  // the loss moves by far less than min_delta
    EarlyStopping<float> stop("loss", 1e-3, 2);
    auto options = quiet(10);
    options.callbacks = {&stop};
    const History history = model.fit(x, y, frozen, options);
    CHECK(history.epochs.size() == 3);
    CHECK(stop.stopped_epoch() == 2);
  }
  SUBCASE("a diverging run ends with the weights of its best epoch") {
    auto model = tiny_model(3);
    SGD<float> reckless(20.0);  // overshoots: the loss goes up and down
    std::vector<std::vector<float>> after_epoch;
    struct Snapshot : Callback<float> {
      std::vector<std::vector<float>>* out;
      bool on_epoch_end(const EpochLogs&, Model<float>& m, Optimizer<float>&) override {
        out->push_back(weights(m));
        return false;
      }
    } snapshot;
    snapshot.out = &after_epoch;
    EarlyStopping<float> stop("loss", 0.0, 3, MonitorMode::automatic, true);
    auto options = quiet(12);
    options.callbacks = {&snapshot, &stop};
    const History history = model.fit(x, y, reckless, options);
    const auto losses = history.metric("loss");
    const auto best =
        static_cast<Index>(std::min_element(losses.begin(), losses.end()) - losses.begin());
    CHECK(stop.best_epoch() == best);
    REQUIRE(best + 1 < static_cast<Index>(history.epochs.size()));  // the test means something
    CHECK(weights(model) == after_epoch[static_cast<std::size_t>(best)]);
    CHECK(weights(model) != after_epoch.back());
  }
}

// ---- ModelCheckpoint ---------------------------------------------------------------------------

TEST_CASE("ModelCheckpoint saves after every epoch, naming files by the 1-based epoch") {
  TempDir dir;
  Tensor<float> x, y;
  points(30, x, y);
  auto model = tiny_model(4);
  SGD<float> sgd(0.1);
  ModelCheckpoint<float> plain(dir / "e{epoch}.mcnn");
  ModelCheckpoint<float> padded(dir / "run-{epoch:03d}-of-{epoch}.mcnn");
  auto options = quiet(3);
  options.callbacks = {&plain, &padded};
  model.fit(x, y, sgd, options);
  CHECK_FALSE(std::filesystem::exists(dir / "e0.mcnn"));
  for (Index epoch = 1; epoch <= 3; ++epoch) {
    CAPTURE(epoch);
    const std::string n = std::to_string(epoch);
    CHECK(load_checkpoint<float>(dir / ("e" + n + ".mcnn")).epochs_completed == epoch);
    CHECK(std::filesystem::exists(dir / ("run-00" + n + "-of-" + n + ".mcnn")));
  }
  CHECK(plain.last_saved() == dir / "e3.mcnn");
  CHECK(plain.file_path(12) == dir / "e12.mcnn");
  CHECK(padded.file_path(1234) == dir / "run-1234-of-1234.mcnn");
}

TEST_CASE("ModelCheckpoint with one argument keeps the last epoch and needs no validation data") {
  TempDir dir;
  Tensor<float> x, y;
  points(30, x, y);
  auto model = tiny_model(5);
  SGD<float> sgd(0.1);
  ModelCheckpoint<float> last(dir / "last.mcnn");
  CHECK_FALSE(last.save_best_only());
  CHECK(last.monitor().metric() == "val_loss");  // not read unless save_best_only
  auto options = quiet(2);
  options.callbacks = {&last};
  model.fit(x, y, sgd, options);
  const auto saved = load_checkpoint<float>(dir / "last.mcnn");
  CHECK(saved.epochs_completed == 2);
  CHECK(saved.optimizer_kind == "SGD");
  CHECK(Sequential<float>::load(dir / "last.mcnn").parameters().size() == 2);
}

TEST_CASE("ModelCheckpoint with save_best_only saves only when the metric improves") {
  TempDir dir;
  auto model = tiny_model(6);
  SGD<float> sgd;
  const auto saved = [&](const std::string& prefix) {
    std::vector<Index> epochs;
    for (Index epoch = 1; epoch <= 5; ++epoch)
      if (std::filesystem::exists(dir / (prefix + std::to_string(epoch)))) epochs.push_back(epoch);
    return epochs;
  };
  ModelCheckpoint<float> by_loss(dir / "loss{epoch}", "val_loss", true);
  drive(by_loss, model, sgd, {1.0, 1.2, 0.8, 0.8, 0.7}, [](Index) {});
  CHECK(saved("loss") == std::vector<Index>{1, 3, 5});
  CHECK(by_loss.monitor().best() == 0.7);

  ModelCheckpoint<float> by_accuracy(dir / "accuracy{epoch}", "val_accuracy", true);
  drive(by_accuracy, model, sgd, {0.5, 0.4, 0.6, 0.7, 0.7}, [](Index) {});
  CHECK(saved("accuracy") == std::vector<Index>{1, 3, 4});

  ModelCheckpoint<float> inverted(dir / "min{epoch}", "val_accuracy", true, MonitorMode::min);
  drive(inverted, model, sgd, {0.5, 0.4, 0.6, 0.3, 0.7}, [](Index) {});
  CHECK(saved("min") == std::vector<Index>{1, 2, 4});
}

TEST_CASE("A ModelCheckpoint file restores into a fresh model and resumes training exactly") {
  TempDir dir;
  Tensor<float> x, y;
  points(40, x, y);
  // SGD with momentum: the velocity slots must be saved too for the resume to be exact.
  auto straight = tiny_model(8);
  SGD<float> sgd(0.05, 0.9);
  ModelCheckpoint<float> each(dir / "epoch{epoch}.mcnn");
  auto options = quiet(3);
  options.callbacks = {&each};
  const History full = straight.fit(x, y, sgd, options);

  auto resumed = Sequential<float>::load(dir / "epoch1.mcnn");
  resumed.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>(true));
  SGD<float> fresh(0.5, 0.9);  // another learning rate: the checkpoint's replaces it
  auto rest = quiet(3);
  rest.initial_epoch = resumed.restore(dir / "epoch1.mcnn", &fresh);
  CHECK(rest.initial_epoch == 1);
  CHECK(fresh.learning_rate() == sgd.learning_rate());
  const History tail = resumed.fit(x, y, fresh, rest);
  REQUIRE(tail.epochs.size() == 2);
  CHECK(tail.epochs[0].loss == full.epochs[1].loss);
  CHECK(tail.epochs[1].loss == full.epochs[2].loss);
  CHECK(weights(resumed) == weights(straight));
}

// ---- Learning-rate schedules --------------------------------------------------------------------

TEST_CASE("StepDecay multiplies the rate by factor every step_epochs epochs") {
  StepDecay<float> steps(0.1, 0.5, 3);
  const std::vector<double> expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025};
  for (Index epoch = 0; epoch < 8; ++epoch)
    CHECK(steps.learning_rate(epoch) == expected[static_cast<std::size_t>(epoch)]);
  StepDecay<float> tenth(1.0, 0.1, 1);
  CHECK(tenth.learning_rate(2) == doctest::Approx(0.01).epsilon(1e-15));
  CHECK(tenth.learning_rate(5) == doctest::Approx(1e-5).epsilon(1e-15));

  // In fit(), and resumed from an epoch: the rate depends on the epoch only.
  Tensor<float> x, y;
  points(16, x, y);
  auto model = tiny_model(9);
  SGD<float> sgd(7.0);  // replaced before the first batch
  auto options = quiet(8);
  options.callbacks = {&steps};
  CHECK(learning_rates(model.fit(x, y, sgd, options)) == expected);
  options.initial_epoch = 4;
  CHECK(learning_rates(model.fit(x, y, sgd, options)) ==
        std::vector<double>(expected.begin() + 4, expected.end()));
}

TEST_CASE("CosineDecay follows half a cosine down to its minimum, then stays there") {
  CosineDecay<float> cosine(1.0, 4, 0.2);
  const double half_root2 = std::sqrt(0.5);
  const std::vector<double> expected = {
      1.0, 0.2 + 0.8 * (1 + half_root2) / 2, 0.6, 0.2 + 0.8 * (1 - half_root2) / 2, 0.2, 0.2, 0.2};
  for (Index epoch = 0; epoch < 7; ++epoch) {
    CAPTURE(epoch);
    CHECK(cosine.learning_rate(epoch) ==
          doctest::Approx(expected[static_cast<std::size_t>(epoch)]).epsilon(1e-15));
  }
  CHECK(cosine.learning_rate(0) == 1.0);
  CHECK(cosine.learning_rate(4) == 0.2);
  CHECK(cosine.learning_rate(1000) == 0.2);
  CHECK(CosineDecay<float>(0.5, 10).learning_rate(10) == 0.0);  // minimum 0 by default

  Tensor<float> x, y;
  points(16, x, y);
  auto model = tiny_model(10);
  SGD<float> sgd;
  auto options = quiet(7);
  options.initial_epoch = 2;
  options.callbacks = {&cosine};
  const auto rates = learning_rates(model.fit(x, y, sgd, options));
  REQUIRE(rates.size() == 5);
  for (std::size_t i = 0; i < rates.size(); ++i)
    CHECK(rates[i] == cosine.learning_rate(static_cast<Index>(i) + 2));
}

TEST_CASE("ReduceLROnPlateau reduces after patience epochs without improvement") {
  SGD<float> sgd(1.0);
  ReduceLROnPlateau<float> plateau("loss", 0.5, 2, 0.0);
  // Epoch 0 sets the best; epochs 1-2 and 3-4 wait and reduce; 0.5 improves; 0.6 waits.
  CHECK(rates_after(plateau, sgd, {1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.6}) ==
        std::vector<double>{1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25});
  CHECK(plateau.wait() == 1);
  CHECK(plateau.best() == 0.5);
}

TEST_CASE(
    "ReduceLROnPlateau ignores improvements up to min_delta, NaN, and reads max for accuracy") {
  SGD<float> sgd(1.0);
  ReduceLROnPlateau<float> plateau("val_loss", 0.1, 1);  // min_delta 1e-4 by default
  CHECK(rates_after(plateau, sgd, {1.0, 0.99995}) == std::vector<double>{1.0, 1.0 * 0.1});

  SGD<float> other(1.0);
  ReduceLROnPlateau<float> accuracy("val_accuracy", 0.5, 1, 0.0);
  CHECK(accuracy.monitor().maximizes());
  CHECK(rates_after(accuracy, other, {0.5, 0.6, 0.7, 0.7}) ==
        std::vector<double>{1.0, 1.0, 1.0, 0.5});

  SGD<float> third(1.0);
  ReduceLROnPlateau<float> nan("loss", 0.5, 1, 0.0);
  CHECK(rates_after(nan, third, {1.0, kNaN}) == std::vector<double>{1.0, 0.5});
}

TEST_CASE("ReduceLROnPlateau ignores cooldown - 1 epochs after a reduction, as Keras") {
  // Keras decrements the cooldown counter before it tests it, so the epoch that brings it to 0
  // counts again: cooldown 2 ignores one epoch.
  Sequential<float> unused;
  SGD<float> sgd(1.0);
  ReduceLROnPlateau<float> plateau("loss", 0.5, 1, 0.0, 0.0, 2);
  std::vector<double> rates;
  std::vector<Index> cooldowns;
  plateau.on_train_begin(unused, sgd);
  for (Index epoch = 0; epoch < 7; ++epoch) {
    plateau.on_epoch_end(logs_at(epoch, epoch == 2 ? 0.5 : 1.0), unused, sgd);
    rates.push_back(sgd.learning_rate());
    cooldowns.push_back(plateau.cooldown_counter());
  }
  // Epoch 1 reduces and starts the cooldown; epoch 2 is ignored but still sets the best (0.5);
  // epoch 3 ends the cooldown, counts and reduces; so do epoch 5 after epoch 4.
  CHECK(rates == std::vector<double>{1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125});
  CHECK(cooldowns == std::vector<Index>{0, 2, 1, 2, 1, 2, 1});
  CHECK(plateau.best() == 0.5);

  SGD<float> longer(1.0);
  ReduceLROnPlateau<float> three("loss", 0.5, 1, 0.0, 0.0, 3);
  CHECK(rates_after(three, longer, {1.0, 1.0, 1.0, 1.0, 1.0}) ==
        std::vector<double>{1.0, 0.5, 0.5, 0.5, 0.25});
}

TEST_CASE("ReduceLROnPlateau never goes below min_lr and stops once there") {
  SGD<float> sgd(1.0);
  ReduceLROnPlateau<float> plateau("loss", 0.1, 1, 0.0, 0.3);
  CHECK(rates_after(plateau, sgd, {1.0, 1.0, 1.0, 1.0}) ==
        std::vector<double>{1.0, 0.3, 0.3, 0.3});  // max(1.0 * 0.1, 0.3), then nothing
  CHECK(plateau.wait() == 2);  // still counting: lr is not above min_lr, nothing to reduce
}

TEST_CASE("ReduceLROnPlateau acts on fit()'s learning rate from the next epoch") {
  Tensor<float> x, y;
  points(16, x, y);
  auto model = tiny_model(11);
  SGD<float> sgd(1e-9);  // the loss moves by far less than min_delta
  ReduceLROnPlateau<float> plateau("loss", 0.5, 1);
  auto options = quiet(3);
  options.callbacks = {&plateau};
  CHECK(learning_rates(model.fit(x, y, sgd, options)) == std::vector<double>{1e-9, 1e-9, 5e-10});
}

// ---- Errors -------------------------------------------------------------------------------------

TEST_CASE("Callbacks refuse bad arguments, naming themselves and the value") {
  const char* unknown =
      "EpochLogs: expected loss, accuracy, val_loss or val_accuracy, got 'val_acc'";
  CHECK_THROWS_WITH_AS(EarlyStopping<float>("val_acc"), unknown, Error);
  CHECK_THROWS_WITH_AS(ModelCheckpoint<float>("m.mcnn", "val_acc"), unknown, Error);
  CHECK_THROWS_WITH_AS(ReduceLROnPlateau<float>("val_acc"), unknown, Error);

  CHECK_THROWS_WITH_AS(EarlyStopping<float>("loss", -0.5),
                       "EarlyStopping: expected min_delta >= 0, got -0.5", Error);
  CHECK_THROWS_WITH_AS(EarlyStopping<float>("loss", 0.0, -1),
                       "EarlyStopping: expected patience >= 0, got -1", Error);

  CHECK_THROWS_WITH_AS(ModelCheckpoint<float>(""),
                       "ModelCheckpoint: expected a file path, got an empty one", Error);
  CHECK_THROWS_WITH_AS(ModelCheckpoint<float>("m{batch}.mcnn"),
                       "ModelCheckpoint: expected {epoch} or {epoch:0Nd} in the path "
                       "'m{batch}.mcnn', got '{batch}'",
                       Error);
  CHECK_THROWS_WITH_AS(ModelCheckpoint<float>("m{epoch:3d}.mcnn"),
                       "ModelCheckpoint: expected {epoch} or {epoch:0Nd} in the path "
                       "'m{epoch:3d}.mcnn', got '{epoch:3d}'",
                       Error);
  CHECK_THROWS_WITH_AS(ModelCheckpoint<float>("m{epoch.mcnn"),
                       "ModelCheckpoint: expected {epoch} or {epoch:0Nd} in the path "
                       "'m{epoch.mcnn', got '{epoch.mcnn'",
                       Error);

  CHECK_THROWS_WITH_AS(StepDecay<float>(0.0, 0.5, 1), "StepDecay: expected initial > 0, got 0",
                       Error);
  CHECK_THROWS_WITH_AS(StepDecay<float>(0.1, 1.0, 1), "StepDecay: expected factor in (0, 1), got 1",
                       Error);
  CHECK_THROWS_WITH_AS(StepDecay<float>(0.1, 0.0, 1), "StepDecay: expected factor in (0, 1), got 0",
                       Error);
  CHECK_THROWS_WITH_AS(StepDecay<float>(0.1, 0.5, 0), "StepDecay: expected step_epochs >= 1, got 0",
                       Error);

  CHECK_THROWS_WITH_AS(CosineDecay<float>(-1.0, 10), "CosineDecay: expected initial > 0, got -1",
                       Error);
  CHECK_THROWS_WITH_AS(CosineDecay<float>(0.1, 0), "CosineDecay: expected total_epochs >= 1, got 0",
                       Error);
  CHECK_THROWS_WITH_AS(CosineDecay<float>(0.1, 10, 0.2),
                       "CosineDecay: expected minimum in [0, initial] = [0, 0.1], got 0.2", Error);

  CHECK_THROWS_WITH_AS(ReduceLROnPlateau<float>("loss", 1.5),
                       "ReduceLROnPlateau: expected factor in (0, 1), got 1.5", Error);
  CHECK_THROWS_WITH_AS(ReduceLROnPlateau<float>("loss", 0.1, -2),
                       "ReduceLROnPlateau: expected patience >= 0, got -2", Error);
  CHECK_THROWS_WITH_AS(ReduceLROnPlateau<float>("loss", 0.1, 10, -1e-4),
                       "ReduceLROnPlateau: expected min_delta >= 0, got -0.0001", Error);
  CHECK_THROWS_WITH_AS(ReduceLROnPlateau<float>("loss", 0.1, 10, 1e-4, 0.0, -1),
                       "ReduceLROnPlateau: expected cooldown >= 0, got -1", Error);
  CHECK_THROWS_WITH_AS(ReduceLROnPlateau<float>("loss", 0.1, 10, 1e-4, -0.5),
                       "ReduceLROnPlateau: expected min_lr >= 0, got -0.5", Error);
}

TEST_CASE("A validation metric without validation data stops fit() with EpochLogs's error") {
  Tensor<float> x, y;
  points(16, x, y);
  auto model = tiny_model(12);
  SGD<float> sgd;
  const char* message =
      "EpochLogs: metric 'val_loss' needs validation data, but fit() was given none";
  EarlyStopping<float> stop;  // monitors val_loss by default
  ModelCheckpoint<float> best("unused.mcnn", "val_loss", true);
  ReduceLROnPlateau<float> plateau;
  for (Callback<float>* callback : std::vector<Callback<float>*>{&stop, &best, &plateau}) {
    auto options = quiet(2);
    options.callbacks = {callback};
    CHECK_THROWS_WITH_AS(model.fit(x, y, sgd, options), message, Error);
  }
  CHECK_FALSE(std::filesystem::exists("unused.mcnn"));
}
