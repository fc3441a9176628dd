// Specification of Sequential::fit(): it learns, it is reproducible, it resumes exactly, it
// reports progress and history, and it stops cleanly on NaN and on Ctrl-C.
#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <new>
#include <regex>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/optimizers/adam.hpp"
#include "minicnn/optimizers/sgd.hpp"
#include "minicnn/sequential.hpp"
#include "support/allocation_counter.hpp"

using namespace minicnn;

namespace {

// Three Gaussian blobs in the plane, centred at angles 0, 120 and 240 degrees, radius 3, unit
// spread: linearly separable but for a few outliers. x (n, 2), y (n) class indices.
void blobs(Index n, std::uint64_t seed, Tensor<float>& x, Tensor<float>& y) {
  Random random(seed);
  x.resize({n, 2});
  y.resize({n});
  for (Index i = 0; i < n; ++i) {
    const Index label = i % 3;
    const double angle = 2.0943951023931953 * static_cast<double>(label);
    x(i, 0) = static_cast<float>(3 * std::cos(angle) + 0.5 * random.normal());
    x(i, 1) = static_cast<float>(3 * std::sin(angle) + 0.5 * random.normal());
    y[i] = static_cast<float>(label);
  }
}

// Dense 16 - ReLU - Dropout .25 - Dense 3 - Softmax on 2 features.
Sequential<float> classifier(std::uint64_t seed, bool dropout = true) {
  Sequential<float> model;
  model.add<Dense>(16).add<ReLU>();
  if (dropout) model.add<Dropout>(0.25);
  model.add<Dense>(3).add<Softmax>();
  model.build({2}, seed);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  return model;
}

FitOptions<float> quiet(Index epochs, Index batch_size = 16) {
  FitOptions<float> options;
  options.epochs = epochs;
  options.batch_size = batch_size;
  options.seed = 5;
  options.verbose = Verbose::silent;
  return options;
}

std::vector<float> weights(Sequential<float>& model) {
  std::vector<float> all;
  for (Parameter<float>* p : model.parameters())
    all.insert(all.end(), p->value.begin(), p->value.end());
  return all;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Records which hooks fit() calls, and optionally acts in them.
struct Recorder : Callback<float> {
  std::vector<std::string> calls;
  std::function<void(Index, Model<float>&, Optimizer<float>&)> at_epoch_begin;
  std::function<bool(const EpochLogs&, Model<float>&, Optimizer<float>&)> at_epoch_end;

  void on_train_begin(Model<float>&, Optimizer<float>&) override { calls.push_back("train_begin"); }
  void on_epoch_begin(Index epoch, Model<float>& m, Optimizer<float>& o) override {
    calls.push_back("epoch_begin " + std::to_string(epoch));
    if (at_epoch_begin) at_epoch_begin(epoch, m, o);
  }
  bool on_epoch_end(const EpochLogs& logs, Model<float>& m, Optimizer<float>& o) override {
    calls.push_back("epoch_end " + std::to_string(logs.epoch));
    return at_epoch_end ? at_epoch_end(logs, m, o) : false;
  }
  void on_train_end(Model<float>&, Optimizer<float>&) override { calls.push_back("train_end"); }
};

}  // namespace

TEST_CASE("fit() learns a separable problem") {
  Tensor<float> x, y, x_test, y_test;
  blobs(600, 1, x, y);
  blobs(300, 2, x_test, y_test);
  auto model = classifier(3);
  Adam<float> adam(0.01);
  const History history = model.fit(x, y, adam, quiet(10));
  REQUIRE(history.epochs.size() == 10);
  CHECK(history.epochs.back().loss < history.epochs.front().loss);
  CHECK(history.epochs.back().accuracy > 0.95);
  const auto test = model.evaluate(x_test, y_test);
  CHECK(test.accuracy > 0.95);
  CHECK(test.loss < 0.2);
}

TEST_CASE("The same seed gives bit-identical weights, another shuffle seed does not") {
  Tensor<float> x, y;
  blobs(200, 4, x, y);
  auto train = [&](std::uint64_t shuffle_seed) {
    auto model = classifier(6);
    Adam<float> adam(0.01);
    auto options = quiet(3);
    options.seed = shuffle_seed;
    model.fit(x, y, adam, options);
    return weights(model);
  };
  const auto first = train(7);
  CHECK(train(7) == first);
  CHECK(train(8) != first);

  // A convolutional model, whose layers split batches over OpenMP threads.
  Tensor<float> images({40, 1, 8, 8}), labels({40});
  Random random(29);
  images.fill_uniform(random, 0.0f, 1.0f);
  for (Index n = 0; n < 40; ++n)
    labels[n] = static_cast<float>(n % 3);
  auto train_conv = [&] {
    Sequential<float> model;
    model.add<Conv2D>(4, 3).add<ReLU>().add<MaxPool2D>(2).add<Flatten>();
    model.add<Dropout>(0.3).add<Dense>(3).add<Softmax>();
    model.build({1, 8, 8}, 30);
    model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
    Adam<float> adam(0.01);
    model.fit(images, labels, adam, quiet(2, 8));
    return weights(model);
  };
  CHECK(train_conv() == train_conv());
}

TEST_CASE("A steady-state training step allocates nothing in the model") {
  Tensor<float> x, y;
  blobs(32, 9, x, y);
  auto model = classifier(10, /*dropout=*/false);
  SGD<float> sgd(0.1, 0.9);
  model.train_on_batch(x, y, sgd);  // sizes buffers, creates momentum slots
  model.train_on_batch(x, y, sgd);
  const long before = testing::allocations.load();
  model.train_on_batch(x, y, sgd);
  CHECK(testing::allocations.load() - before == 0);
}

TEST_CASE("fit() allocates per epoch, never per batch, from tensors and from a Dataset") {
  // The same fit on 2 and on 20 batches of 8 must allocate the same number of times.
  Dataset data;
  data.images.resize({160, 1, 1, 2});
  data.labels.resize({160});
  Random random(30);
  for (Index n = 0; n < 160; ++n) {
    data.labels[n] = static_cast<std::int32_t>(n % 3);
    for (Index i = 0; i < 2; ++i)
      data.images[2 * n + i] = static_cast<std::uint8_t>(random.below(256));
  }
  const auto normalization = Normalization<float>::scale();
  auto count = [&](Index samples, bool from_dataset) {
    Tensor<float> x({samples, 1, 1, 2}), y({samples});
    const auto part = take(data, samples);
    for (Index i = 0; i < 2 * samples; ++i)
      x[i] = static_cast<float>(part.images[i]) / 255.0f;
    for (Index n = 0; n < samples; ++n)
      y[n] = static_cast<float>(part.labels[n]);
    Sequential<float> model;
    model.add<Flatten>().add<Dense>(4).add<ReLU>().add<Dense>(3).add<Softmax>();
    model.build({1, 1, 2}, 31);
    model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
    SGD<float> sgd(0.1, 0.9);
    auto options = quiet(1, 8);
    options.validation_split = 0.25;
    const long before = testing::allocations.load();
    if (from_dataset)
      model.fit(part, normalization, sgd, options);
    else
      model.fit(x, y, sgd, options);
    return testing::allocations.load() - before;
  };
  CHECK(count(16, false) == count(160, false));
  CHECK(count(16, true) == count(160, true));
}

TEST_CASE("Resuming from a checkpoint equals the uninterrupted run, bit for bit") {
  // Dropout (a random stream) and Adam (moments, iteration count) make every piece of state
  // matter: a resume that forgot one of them would drift.
  Tensor<float> x, y;
  blobs(150, 11, x, y);
  auto straight = classifier(12);
  Adam<float> adam(0.01);
  const std::string path = "test_fit_resume.ckpt";
  Recorder saver;
  saver.at_epoch_end = [&](const EpochLogs& logs, Model<float>& model, Optimizer<float>& o) {
    if (logs.epoch == 0) model.save(path, &o, logs.epoch + 1);
    return false;
  };
  auto options = quiet(2);
  options.callbacks = {&saver};
  const auto full = straight.fit(x, y, adam, options);

  auto resumed = classifier(99);  // other initial weights: all of them must be overwritten
  Adam<float> fresh(0.5);         // other learning rate: restored from the checkpoint
  const Index done = resumed.restore(path, &fresh);
  std::remove(path.c_str());
  CHECK(done == 1);
  CHECK(fresh.iterations() == adam.iterations() / 2);
  auto rest = quiet(2);
  rest.initial_epoch = done;
  const auto tail = resumed.fit(x, y, fresh, rest);
  REQUIRE(tail.epochs.size() == 1);
  CHECK(tail.epochs[0].epoch == 1);
  CHECK(tail.epochs[0].loss == full.epochs[1].loss);
  CHECK(weights(resumed) == weights(straight));
  CHECK(fresh.iterations() == adam.iterations());
}

TEST_CASE("restore() refuses optimizer state it cannot use") {
  auto model = classifier(1);
  SGD<float> sgd;
  CHECK_THROWS_WITH_AS(model.restore(model.checkpoint(), &sgd),
                       "Sequential::restore: an optimizer was given but the checkpoint holds no "
                       "optimizer state",
                       Error);
  Adam<float> adam;
  CHECK_THROWS_WITH_AS(model.restore(model.checkpoint(&adam), &sgd),
                       "Sequential::restore: the optimizer is SGD, the checkpoint's Adam", Error);
}

TEST_CASE("Callbacks are called around epochs and on_epoch_end may stop training") {
  Tensor<float> x, y;
  blobs(60, 13, x, y);
  auto model = classifier(14);
  SGD<float> sgd(0.1);
  Recorder recorder;
  recorder.at_epoch_begin = [](Index epoch, Model<float>&, Optimizer<float>& o) {
    o.set_learning_rate(0.1 / static_cast<double>(epoch + 1));  // a schedule
  };
  recorder.at_epoch_end = [](const EpochLogs& logs, Model<float>&, Optimizer<float>&) {
    return logs.epoch == 1;
  };
  auto options = quiet(5);
  options.callbacks = {&recorder};
  const auto history = model.fit(x, y, sgd, options);
  CHECK(recorder.calls == std::vector<std::string>{"train_begin", "epoch_begin 0", "epoch_end 0",
                                                   "epoch_begin 1", "epoch_end 1", "train_end"});
  REQUIRE(history.epochs.size() == 2);
  CHECK(history.epochs[0].learning_rate == 0.1);
  CHECK(history.epochs[1].learning_rate == 0.05);
  CHECK_FALSE(history.interrupted);
}

TEST_CASE("validation_split holds out the last samples, unshuffled, as Keras") {
  Tensor<float> x, y;
  blobs(100, 15, x, y);
  auto model = classifier(16);
  Adam<float> adam(0.01);
  auto options = quiet(2);
  options.validation_split = 0.25;
  const auto history = model.fit(x, y, adam, options);
  REQUIRE(history.has_validation());

  Tensor<float> x_last({25, 2}), y_last({25});
  std::copy(x.begin() + 150, x.end(), x_last.begin());
  std::copy(y.begin() + 75, y.end(), y_last.begin());
  const auto last = model.evaluate(x_last, y_last);
  CHECK(history.epochs[1].val_loss == doctest::Approx(last.loss).epsilon(1e-6));
  CHECK(history.epochs[1].val_accuracy == last.accuracy);

  // Explicit validation data gives the same figures.
  auto same = classifier(16);
  Adam<float> adam2(0.01);
  Tensor<float> x_first({75, 2}), y_first({75});
  std::copy(x.begin(), x.begin() + 150, x_first.begin());
  std::copy(y.begin(), y.begin() + 75, y_first.begin());
  auto explicit_options = quiet(2);
  explicit_options.validation_data = Samples<float>(x_last, y_last);
  const auto explicit_history = same.fit(x_first, y_first, adam2, explicit_options);
  CHECK(explicit_history.epochs[1].val_loss == history.epochs[1].val_loss);
}

TEST_CASE("fit() on a Dataset equals fit() on the same samples as tensors") {
  Dataset data;
  data.images.resize({40, 1, 2, 2});
  data.labels.resize({40});
  data.classes = 2;
  Random random(17);
  for (Index n = 0; n < 40; ++n) {
    data.labels[n] = static_cast<std::int32_t>(n % 2);
    for (Index i = 0; i < 4; ++i)
      data.images(n, 0, i / 2, i % 2) =
          static_cast<std::uint8_t>((n % 2 == 0 ? 40 : 200) + static_cast<int>(random.below(40)));
  }
  const auto normalization = Normalization<float>::scale();
  Tensor<float> x, y;
  to_tensors(data, normalization, x, y);

  auto make = [] {
    Sequential<float> model;
    model.add<Flatten>().add<Dense>(2).add<Softmax>();
    model.build({1, 2, 2}, 18);
    model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
    return model;
  };
  auto options = quiet(10, 8);
  options.validation_split = 0.2;
  auto from_dataset = make(), from_tensors = make();
  SGD<float> a(0.5), b(0.5);
  const auto h1 = from_dataset.fit(data, normalization, a, options);
  const auto h2 = from_tensors.fit(x, y, b, options);
  CHECK(weights(from_dataset) == weights(from_tensors));
  CHECK(h1.epochs[9].val_loss == h2.epochs[9].val_loss);
  CHECK(h1.epochs[9].val_accuracy == 1.0);
}

TEST_CASE("Samples refuse what they cannot read") {
  Dataset flat;
  flat.images.resize({4, 2});
  flat.labels.resize({4});
  CHECK_THROWS_WITH_AS(Samples<float>(flat, Normalization<float>::scale()),
                       "Samples: expected a Dataset of (N, C, H, W) images and (N) labels, got "
                       "images (4, 2) and labels (4)",
                       Error);
  Tensor<float> x({4, 2}), y({4}), batch_x, batch_y;
  const Samples<float> samples(x, y);
  CHECK_THROWS_WITH_AS(samples.slice(2, 3), "Samples::slice: range [2, 5) is outside [0, 4)",
                       Error);
  const Index outside[] = {0, 3, 4};
  CHECK_THROWS_WITH_AS(samples.slice(1, 3).gather(outside, 3, batch_x, batch_y),
                       "Samples::gather: position 3 is outside [0, 3)", Error);
  const Index inside[] = {1, 0};
  x(2, 0) = 7;  // sample 2 is position 1 of the slice that starts at 1
  samples.slice(1, 3).gather(inside, 2, batch_x, batch_y);
  CHECK(batch_x.shape() == Shape{2, 2});
  CHECK(batch_x(0, 0) == 7);
  CHECK(batch_x(1, 0) == 0);
}

TEST_CASE("fit() refuses bad options") {
  Tensor<float> x, y;
  blobs(10, 19, x, y);
  auto model = classifier(20);
  SGD<float> sgd;
  auto options = quiet(1);
  options.batch_size = 0;
  CHECK_THROWS_WITH_AS(model.fit(x, y, sgd, options),
                       "Sequential::fit: expected batch_size > 0, got 0", Error);
  options = quiet(1);
  options.initial_epoch = 2;
  CHECK_THROWS_WITH_AS(
      model.fit(x, y, sgd, options),
      "Sequential::fit: expected 0 <= initial_epoch <= epochs, got initial_epoch 2 and epochs 1",
      Error);
  options = quiet(1);
  options.validation_split = 1.0;
  CHECK_THROWS_WITH_AS(model.fit(x, y, sgd, options),
                       "Sequential::fit: expected validation_split in [0, 1), got 1", Error);
  options.validation_split = 0.5;
  options.validation_data = Samples<float>(x, y);
  CHECK_THROWS_WITH_AS(model.fit(x, y, sgd, options),
                       "Sequential::fit: got both validation_data and validation_split; pick one",
                       Error);
  options = quiet(1);
  options.output = nullptr;
  CHECK_THROWS_WITH_AS(model.fit(x, y, sgd, options),
                       "Sequential::fit: expected an output stream, got nullptr", Error);
  options = quiet(1);
  options.callbacks = {nullptr};
  CHECK_THROWS_WITH_AS(model.fit(x, y, sgd, options),
                       "Sequential::fit: expected callbacks, got a nullptr", Error);
  options = quiet(1);
  options.validation_split = 0.05;  // 10 * 0.95 = 9.5: 9 samples train
  CHECK_NOTHROW(model.fit(x, y, sgd, options));
  Tensor<float> wide({10, 3});
  CHECK_THROWS_WITH_AS(model.fit(wide, y, sgd, quiet(1)),
                       "Sequential::fit: expected samples of shape (2) (the input shape given to "
                       "build()), got (3)",
                       Error);
  CHECK_THROWS_WITH_AS(model.fit(x, Tensor<float>({9}), sgd, quiet(1)),
                       "Samples: expected x (N, ...) and y (N) or (N, K) with the same N, got x "
                       "(10, 2) and y (9)",
                       Error);
  CHECK_THROWS_WITH_AS(model.fit(x, y, sgd,
                                 [] {
                                   auto o = quiet(1);
                                   o.validation_split =
                                       0.95;  // 10 * 0.05 = 0.5: nothing left to train on
                                   return o;
                                 }()),
                       "Sequential::fit: expected training samples, got none", Error);
}

TEST_CASE("A NaN loss stops fit() naming the epoch, the batch and the source, before any update") {
  Tensor<float> x, y;
  blobs(48, 21, x, y);
  x(20, 1) = std::numeric_limits<float>::quiet_NaN();  // in the second batch of 16
  auto model = classifier(22, /*dropout=*/false);
  SGD<float> sgd(0.1);
  auto options = quiet(1);
  options.shuffle = false;
  CHECK_THROWS_WITH_AS(model.fit(x, y, sgd, options),
                       "Sequential::fit: epoch 1, batch 2/3: the loss is NaN (the input batch "
                       "holds non-finite values); the weights were not updated (lower the "
                       "learning rate or check the data)",
                       Error);
  CHECK(sgd.iterations() == 1);
  for (float w : weights(model))
    CHECK(std::isfinite(w));
  CHECK_THROWS_WITH_AS(model.compute_gradients(x, y),
                       "Sequential::compute_gradients: the loss is NaN (the input batch holds "
                       "non-finite values); the weights were not updated (lower the learning rate "
                       "or check the data)",
                       Error);
}

namespace {
volatile std::sig_atomic_t user_handler_calls = 0;
void user_handler(int) {
  user_handler_calls = user_handler_calls + 1;
}
}  // namespace

TEST_CASE("Ctrl-C stops fit() after the current batch and completed epochs stay as they were") {
  Tensor<float> x, y;
  blobs(64, 23, x, y);
  auto model = classifier(24);
  Adam<float> adam(0.01);
  const auto previous = std::signal(SIGINT, user_handler);
  Recorder recorder;
  const std::string path = "test_fit_sigint.ckpt";
  recorder.at_epoch_begin = [](Index epoch, Model<float>&, Optimizer<float>&) {
    if (epoch == 1) std::raise(SIGINT);  // as if the user pressed Ctrl-C
  };
  recorder.at_epoch_end = [&](const EpochLogs& logs, Model<float>& m, Optimizer<float>& o) {
    m.save(path, &o, logs.epoch + 1);
    return false;
  };
  std::ostringstream out;
  auto options = quiet(3);
  options.verbose = Verbose::epoch_lines;
  options.output = &out;
  options.callbacks = {&recorder};
  const auto history = model.fit(x, y, adam, options);

  CHECK(history.interrupted);
  CHECK(history.epochs.size() == 1);
  CHECK(adam.iterations() == 4 + 1);  // epoch 0's four batches, then the batch in progress
  // The callbacks never saw the unfinished epoch: the file holds the end of epoch 0.
  Adam<float> restored;
  CHECK(classifier(0).restore(path, &restored) == 1);
  CHECK(restored.iterations() == 4);
  std::remove(path.c_str());
  CHECK(recorder.calls ==
        std::vector<std::string>{"train_begin", "epoch_begin 0", "epoch_end 0", "epoch_begin 1"});
  CHECK(out.str().find("Interrupted (SIGINT) after batch 1/4 of epoch 2/3; this epoch is not "
                       "recorded\n") != std::string::npos);
  CHECK(user_handler_calls == 0);  // fit() had its own handler...
  std::raise(SIGINT);
  CHECK(user_handler_calls == 1);  // ...and put the user's back
  std::signal(SIGINT, previous);
}

TEST_CASE("Progress off a terminal is one line per epoch") {
  Tensor<float> x, y;
  blobs(50, 25, x, y);
  auto model = classifier(26);
  SGD<float> sgd(0.1);
  std::ostringstream out;
  auto options = quiet(3);
  options.verbose = Verbose::automatic;  // a stringstream is no terminal
  options.output = &out;
  options.validation_split = 0.2;
  model.fit(x, y, sgd, options);
  const std::regex line(
      R"(Epoch [123]/3 - \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - )"
      R"(val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4})");
  std::istringstream lines(out.str());
  std::string text;
  int count = 0;
  while (std::getline(lines, text)) {
    CAPTURE(text);
    CHECK(std::regex_match(text, line));
    CHECK(text.rfind("Epoch " + std::to_string(++count) + "/3", 0) == 0);
  }
  CHECK(count == 3);
  CHECK(out.str().find('\r') == std::string::npos);
}

TEST_CASE("Progress on a terminal is a Keras bar redrawn in place") {
  Tensor<float> x, y;
  blobs(64, 27, x, y);
  auto model = classifier(28);
  SGD<float> sgd(0.1);
  std::ostringstream out;
  auto options = quiet(2);
  options.verbose = Verbose::progress_bar;
  options.output = &out;
  model.fit(x, y, sgd, options);
  const std::string text = out.str();
  CAPTURE(text);
  CHECK(text.rfind("Epoch 1/2\n\r1/4 [=======>......................] - ETA: ", 0) == 0);
  const std::regex final_line(
      R"(\r4/4 \[==============================\] - \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - )"
      R"(accuracy: \d\.\d{4} *\nEpoch 2/2\n)");
  CHECK(std::regex_search(text, final_line));
  CHECK(text.back() == '\n');
}

TEST_CASE("History writes Keras's metrics as CSV and JSON") {
  History history;
  EpochLogs first;
  first.epoch = 0;
  first.loss = 0.5;
  first.accuracy = 0.75;
  first.has_validation = true;
  first.val_loss = 0.25;
  first.val_accuracy = 0.875;
  first.seconds = 1.5;
  first.learning_rate = 0.001;
  EpochLogs second = first;
  second.epoch = 1;
  second.loss = 0.1;
  second.val_loss = std::numeric_limits<double>::infinity();
  history.epochs = {first, second};
  CHECK(history.metric("val_accuracy") == std::vector<double>{0.875, 0.875});
  CHECK(history.csv() ==
        "epoch,loss,accuracy,val_loss,val_accuracy,seconds,learning_rate\n"
        "0,0.5,0.75,0.25,0.875,1.5,0.001\n"
        "1,0.1,0.75,inf,0.875,1.5,0.001\n");
  CHECK(history.json() ==
        "{\n"
        "  \"epoch\": [0, 1],\n"
        "  \"loss\": [0.5, 0.1],\n"
        "  \"accuracy\": [0.75, 0.75],\n"
        "  \"val_loss\": [0.25, null],\n"
        "  \"val_accuracy\": [0.875, 0.875],\n"
        "  \"seconds\": [1.5, 1.5],\n"
        "  \"learning_rate\": [0.001, 0.001],\n"
        "  \"interrupted\": false\n"
        "}\n");

  const std::string csv = "test_fit_history.csv", json = "test_fit_history.json";
  history.write_csv(csv);
  history.write_json(json);
  CHECK(read(csv) == history.csv());
  CHECK(read(json) == history.json());
  std::remove(csv.c_str());
  std::remove(json.c_str());
  // Errors name the caller (the failure paths themselves: tests/core/test_atomic_file.cpp).
  CHECK_THROWS_WITH_AS(history.write_csv("no/such/directory/h.csv"),
                       "History::write_csv: cannot create a temporary file next to "
                       "'no/such/directory/h.csv': No such file or directory",
                       Error);
  REQUIRE(mkdir("test_fit_directory", 0700) == 0);
  CHECK_THROWS_WITH_AS(history.write_json("test_fit_directory"),
                       "History::write_json: cannot replace 'test_fit_directory': Is a directory",
                       Error);
  rmdir("test_fit_directory");

  History plain;
  first.has_validation = false;
  plain.epochs = {first};
  CHECK(plain.csv() == "epoch,loss,accuracy,seconds,learning_rate\n0,0.5,0.75,1.5,0.001\n");
}
