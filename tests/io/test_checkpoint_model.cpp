// Specification of rebuilding a model from a checkpoint (Sequential::from_checkpoint and load):
// the architecture a file describes is checked against the tensors it stores before anything is
// built, so a crafted config cannot make loading allocate more than the file holds. The layers'
// plans (Layer::plan, layer.hpp) make that check possible: they describe exactly what build()
// allocates, without allocating it.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <new>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/io/checkpoint_file.hpp"
#include "minicnn/layer_registry.hpp"
#include "minicnn/models.hpp"
#include "minicnn/sequential.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;

namespace {

// A small model with every kind of parameter: kernels, biases, BatchNorm's non-trainable state.
Sequential<float> small_model() {
  Sequential<float> model;
  model.add<Conv2D>(4, 3).add<BatchNorm>().add<ReLU>().add<MaxPool2D>(2);
  model.add<Flatten>().add<Dropout>(0.25).add<Dense>(3).add<Softmax>();
  model.build({1, 8, 8}, 7);
  return model;
}

// Runs `run` in a forked child whose address space may grow by at most 64 MiB, and returns how
// it ended: what `run` returned, the minicnn::Error's message, "std::bad_alloc", or how the child
// died. A loader that allocated what a crafted file describes fails here at once with
// std::bad_alloc, instead of taking the test machine's memory. The child runs no OpenMP code on
// the refusal path (fork() keeps only the calling thread).
std::string outcome_in_small_address_space(const std::function<std::string()>& run) {
  int channel[2];
  REQUIRE(::pipe(channel) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(channel[0]);
    long pages = 0;
    if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
      std::fclose(statm);
    }
    const rlim_t limit = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) +
                         (rlim_t{64} << 20);
    const rlimit cap{limit, limit};
    std::string outcome;
    if (pages == 0 || ::setrlimit(RLIMIT_AS, &cap) != 0) {
      outcome = "cannot cap the address space";
    } else {
      ::alarm(30);  // a hang is a failure too
      try {
        outcome = run();
      } catch (const Error& error) {
        outcome = error.what();
      } catch (const std::bad_alloc&) {
        outcome = "std::bad_alloc";
      } catch (...) {
        outcome = "another exception";
      }
    }
    const char* data = outcome.data();
    std::size_t left = outcome.size();
    while (left > 0) {
      const ssize_t written = ::write(channel[1], data, left);
      if (written <= 0) break;
      data += written;
      left -= static_cast<std::size_t>(written);
    }
    ::_exit(0);
  }
  ::close(channel[1]);
  std::string outcome;
  char buffer[4096];
  for (ssize_t got; (got = ::read(channel[0], buffer, sizeof buffer)) > 0;)
    outcome.append(buffer, static_cast<std::size_t>(got));
  ::close(channel[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return outcome;
}

// from_checkpoint on `c` in a capped child (as above), and the wall time it took.
std::string load_outcome(const Checkpoint<float>& c, double* seconds = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  const std::string outcome = outcome_in_small_address_space([&] {
    Sequential<float>::from_checkpoint(c);
    return "loaded";
  });
  if (seconds != nullptr)
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

// The entry of the layer called `name`.
Checkpoint<float>::LayerEntry& entry(Checkpoint<float>& c, const std::string& name) {
  for (auto& layer : c.layers)
    if (layer.name == name) return layer;
  FAIL("no layer named " << name);
  throw;
}

// A layer whose plan describes a parameter that parameters() does not return: a broken layer.
class Inconsistent : public Layer<float> {
 public:
  std::string kind() const override { return "Inconsistent"; }
  Config config() const override { return Config(); }
  std::unique_ptr<Layer<float>> clone() const override {
    return std::make_unique<Inconsistent>(*this);
  }
  void forward(const Tensor<float>&, Tensor<float>&, Mode) override {}
  void backward(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, Tensor<float>&,
                Mode) override {}

 private:
  LayerPlan plan_layer(const Shape& input_shape) const override {
    return {input_shape, {{"kernel", {2, 2}}}};
  }
};

constexpr Index kFloatMaxElements = std::numeric_limits<Index>::max() / 4;

}  // namespace

TEST_CASE("plan() describes what build() allocates, for every layer kind") {
  // Each layer on an input it takes; odd sizes, 'same' padding with stride, both input ranks of
  // BatchNorm.
  struct Case {
    std::unique_ptr<Layer<float>> layer;
    Shape input;
  };
  std::vector<Case> cases;
  cases.push_back({std::make_unique<AvgPool2D<float>>(3, 2, Padding::same), {2, 7, 5}});
  cases.push_back({std::make_unique<BatchNorm<float>>(), {3, 5, 4}});
  cases.push_back({std::make_unique<BatchNorm<float>>(), {6}});
  cases.push_back({std::make_unique<Conv2D<float>>(5, Size2(3, 2), 2, Padding::same), {3, 9, 7}});
  cases.push_back({std::make_unique<Conv2D<float>>(2, 3, 1, Padding::valid, false), {1, 5, 5}});
  cases.push_back({std::make_unique<Dense<float>>(7), {11}});
  cases.push_back({std::make_unique<Dense<float>>(3, false), {4}});
  cases.push_back(
      {std::make_unique<DepthwiseConv2D<float>>(Size2(3, 2), 2, Padding::same, 2), {3, 9, 7}});
  cases.push_back(
      {std::make_unique<DepthwiseConv2D<float>>(3, 1, Pads(1, 0, 2, 1), 1, false, 2), {2, 6, 5}});
  cases.push_back({std::make_unique<Dropout<float>>(0.5), {3, 4, 4}});
  cases.push_back({std::make_unique<Flatten<float>>(), {3, 4, 5}});
  cases.push_back({std::make_unique<GlobalAveragePooling2D<float>>(), {4, 3, 3}});
  cases.push_back({std::make_unique<LeakyReLU<float>>(), {5}});
  cases.push_back({std::make_unique<MaxPool2D<float>>(2), {2, 5, 5}});
  cases.push_back({std::make_unique<RandomAugmentation<float>>(AugmentationSettings{}), {1, 4, 4}});
  cases.push_back({std::make_unique<ReLU<float>>(), {2, 3}});
  cases.push_back({std::make_unique<ReLU<float>>(6.0), {2, 3}});
  cases.push_back(
      {std::make_unique<SeparableConv2D<float>>(5, Size2(3, 2), 2, Padding::same, 2), {3, 9, 7}});
  cases.push_back(
      {std::make_unique<SeparableConv2D<float>>(2, 3, 1, Padding::valid, 1, false), {4, 5, 5}});
  cases.push_back({std::make_unique<Sigmoid<float>>(), {4}});
  cases.push_back({std::make_unique<Softmax<float>>(), {10}});
  cases.push_back({std::make_unique<Tanh<float>>(), {1, 2, 3}});
  cases.push_back({std::make_unique<ZeroPadding2D<float>>(Pads(1, 0, 2, 3)), {2, 3, 4}});
  std::set<std::string> kinds;
  for (Case& c : cases) {
    CAPTURE(c.layer->kind());
    kinds.insert(c.layer->kind());
    const LayerPlan plan = c.layer->plan(c.input);
    CHECK_FALSE(c.layer->built());  // planning builds nothing
    Random random(1);
    CHECK(c.layer->build(c.input, random) == plan.output_shape);
    const auto parameters = std::as_const(*c.layer).parameters();
    REQUIRE(parameters.size() == plan.parameters.size());
    for (std::size_t k = 0; k < parameters.size(); ++k) {
      CHECK(parameters[k]->name == plan.parameters[k].name);
      CHECK(parameters[k]->value.shape() == plan.parameters[k].shape);
      CHECK(parameters[k]->trainable == plan.parameters[k].trainable);
    }
  }
  // The merges plan and build on several inputs.
  struct MergeCase {
    std::unique_ptr<MergeLayer<float>> layer;
    std::vector<Shape> inputs;
  };
  std::vector<MergeCase> merges;
  merges.push_back({std::make_unique<Add<float>>(), {{3, 4, 4}, {3, 4, 4}, {3, 4, 4}}});
  merges.push_back({std::make_unique<Concatenate<float>>(), {{2, 3, 3}, {4, 3, 3}}});
  for (MergeCase& c : merges) {
    CAPTURE(c.layer->kind());
    kinds.insert(c.layer->kind());
    const LayerPlan plan = c.layer->plan(c.inputs);
    CHECK_FALSE(c.layer->built());
    CHECK(c.layer->build(c.inputs) == plan.output_shape);
    CHECK(plan.parameters.empty());
  }
  CHECK(kinds.size() == layer_factories<float>().size());  // every registered kind is covered
}

TEST_CASE("plan() refuses shapes whose element count does not fit, without overflowing") {
  // (2^31, 2^31, 2^31) has 2^93 elements: the product wraps around in 64 bits.
  const Index big = Index(1) << 31;
  Flatten<float> flatten;
  flatten.set_name("flatten");
  CHECK_THROWS_WITH_AS(flatten.plan({big, big, big}),
                       ("Flatten 'flatten': expected at most " + std::to_string(kFloatMaxElements) +
                        " elements in a tensor, got input of shape (2147483648, 2147483648, "
                        "2147483648)")
                           .c_str(),
                       Error);
  // A kernel of 2^30 x 2^40 elements.
  Dense<float> dense(Index(1) << 40);
  CHECK_THROWS_WITH_AS(dense.plan({Index(1) << 30}),
                       ("Dense: expected at most " + std::to_string(kFloatMaxElements) +
                        " elements in a tensor, got kernel of shape (1073741824, "
                        "1099511627776)")
                           .c_str(),
                       Error);
  // 2^62 filters on a 2x2 'same' input: an output of 2^64 elements per sample.
  Conv2D<float> conv(Index(1) << 62, 1, 1, Padding::same);
  CHECK_THROWS_WITH_AS(conv.plan({1, 2, 2}),
                       ("Conv2D: expected at most " + std::to_string(kFloatMaxElements) +
                        " elements in a tensor, got output of shape (4611686018427387904, 2, 2)")
                           .c_str(),
                       Error);
  // The window arithmetic of 'same' padding stays exact at the largest extents.
  const Index max = std::numeric_limits<Index>::max();
  MaxPool2D<float> pool(Size2(max, 3), Size2(max, max), Padding::same);
  CHECK(pool.plan({1, 5, 5}).output_shape == Shape{1, 1, 1});
  const WindowAxis axis = window_axis(5, max, max, Padding::same);
  CHECK(axis.output == 1);
  CHECK(axis.pad_before == (max - 5) / 2);
  CHECK(axis.pad_after == max - 5 - (max - 5) / 2);
}

TEST_CASE("build() refuses a layer whose plan and parameters() disagree") {
  Inconsistent layer;
  Random random(1);
  CHECK_THROWS_WITH_AS(layer.build({3}, random),
                       "Inconsistent: plan() describes 1 parameters but parameters() returns 0",
                       Error);
}

TEST_CASE("A config describing other shapes than the stored tensors is refused before building") {
  const Checkpoint<float> saved = small_model().checkpoint();

  SUBCASE("Dense units = 10^12") {
    Checkpoint<float> c = saved;
    entry(c, "dense").config.set("units", Index(1000000000000));
    double seconds = 0;
    CHECK(load_outcome(c, &seconds) ==
          "Sequential::from_checkpoint: Dense 'dense' tensor 0 expected 'kernel' of shape (36, 3) "
          "as stored in the checkpoint, its config describes 'kernel' of shape (36, "
          "1000000000000) on input (36)");
    CHECK(seconds < 2.0);
  }
  SUBCASE("Conv2D filters = 10^9") {
    Checkpoint<float> c = saved;
    entry(c, "conv2d").config.set("filters", Index(1000000000));
    CHECK(load_outcome(c) ==
          "Sequential::from_checkpoint: Conv2D 'conv2d' tensor 0 expected 'kernel' of shape (4, "
          "1, 3, 3) as stored in the checkpoint, its config describes 'kernel' of shape "
          "(1000000000, 1, 3, 3) on input (1, 8, 8)");
  }
  SUBCASE("an input shape of 10^6 x 10^6") {
    // Only Dense's kernel depends on the input size: (C*H*W of the pooled maps, 3).
    Checkpoint<float> c = saved;
    c.input_shape = {1, 1000000, 1000000};
    CHECK(load_outcome(c) ==
          "Sequential::from_checkpoint: Dense 'dense' tensor 0 expected 'kernel' of shape (36, 3) "
          "as stored in the checkpoint, its config describes 'kernel' of shape (999996000004, 3) "
          "on input (999996000004)");
  }
  SUBCASE("a parameter count or name that differs") {
    Checkpoint<float> c = saved;
    entry(c, "dense").config.set("use_bias", false);
    CHECK(load_outcome(c) ==
          "Sequential::from_checkpoint: Dense 'dense' expected 2 tensors as stored in the "
          "checkpoint, its config describes 1 on input (36)");
    c = saved;
    entry(c, "batch_normalization").tensors[1].first = "offset";
    CHECK(load_outcome(c) ==
          "Sequential::from_checkpoint: BatchNormalization 'batch_normalization' tensor 1 "
          "expected 'offset' of shape (4) as stored in the checkpoint, its config describes "
          "'beta' of shape (4) on input (4, 6, 6)");
  }
  SUBCASE("a shape whose element count overflows") {
    Checkpoint<float> c = saved;
    c.input_shape = {Index(1) << 31, Index(1) << 31, Index(1) << 31};
    CHECK(load_outcome(c) == "Conv2D 'conv2d': expected at most " +
                                 std::to_string(kFloatMaxElements) +
                                 " elements in a tensor, got input of shape (2147483648, "
                                 "2147483648, 2147483648)");
  }
  SUBCASE("the unchanged checkpoint loads under the same cap") {
    CHECK(load_outcome(saved) == "loaded");
  }
}

TEST_CASE("A crafted file with an absurd config is refused by Sequential::load") {
  // The same crafted checkpoint through the file format: written, checksummed, parsed, rebuilt.
  const testing::TempDir dir;
  Checkpoint<float> c = small_model().checkpoint();
  entry(c, "dense").config.set("units", Index(1) << 40);
  const std::string path = dir / "crafted.mcnn";
  save_checkpoint(path, c);
  CHECK(outcome_in_small_address_space([&] {
          Sequential<float>::load(path);
          return "loaded";
        }) ==
        "Sequential::from_checkpoint: Dense 'dense' tensor 0 expected 'kernel' of shape (36, 3) "
        "as stored in the checkpoint, its config describes 'kernel' of shape (36, "
        "1099511627776) on input (36)");
}

TEST_CASE("Randomly mutated configs and input shapes load or are refused, never over-allocate") {
  // Fuzz-style regression: 400 checkpoints of the small model, each with one integer-valued config
  // entry, window size or input extent replaced by a value drawn from edge cases (0, 1, odd
  // sizes, 2^31, 10^12, 2^62, the largest Index...). Each goes through the file format and
  // Sequential::load in the capped child, which must end in a clean load or a minicnn::Error:
  // never std::bad_alloc, another exception or a crash.
  const Checkpoint<float> saved = small_model().checkpoint();
  const std::vector<Index> values = {0,
                                     1,
                                     2,
                                     3,
                                     5,
                                     8,
                                     36,
                                     Index(1) << 31,
                                     Index(1000000000000),
                                     Index(1) << 62,
                                     std::numeric_limits<Index>::max()};
  const auto kValues = static_cast<Index>(values.size());
  const auto kLayers = static_cast<Index>(saved.layers.size());
  const testing::TempDir dir;
  const std::string summary = outcome_in_small_address_space([&] {
    Random random(2026);
    const auto value = [&] { return values[static_cast<std::size_t>(random.below(kValues))]; };
    Index loaded = 0, refused = 0;
    for (int round = 0; round < 400; ++round) {
      Checkpoint<float> c = saved;
      const auto layer = static_cast<std::size_t>(random.below(kLayers + 1));
      if (layer == c.layers.size()) {
        Shape shape;
        for (int axis = 0; axis < 3; ++axis)
          shape.push_back(random.uniform() < 0.5 ? saved.input_shape[axis] : value());
        c.input_shape = shape;
      } else {
        Config& config = c.layers[layer].config;
        for (const auto& [key, text] : saved.layers[layer].config.entries()) {
          if (random.uniform() < 0.5) continue;
          if (text.find('x') != std::string::npos)  // a window size, HxW
            config.set(key, std::to_string(value()) + "x" + std::to_string(value()));
          else if (text.find_first_not_of("0123456789") == std::string::npos)
            config.set(key, value());
        }
      }
      // One round in 8 goes through a file and Sequential::load (files are fsynced: slow), the
      // others through the same bytes in memory.
      try {
        if (round % 8 == 0) {
          const std::string path = dir / ("mutated" + std::to_string(round) + ".mcnn");
          save_checkpoint(path, c);
          Sequential<float>::load(path);
        } else {
          Sequential<float>::from_checkpoint(
              parse_checkpoint<float>("mutated.mcnn", checkpoint_bytes(c)));
        }
        ++loaded;
      } catch (const Error&) {
        ++refused;
      }
    }
    return std::to_string(loaded) + " loaded, " + std::to_string(refused) + " refused";
  });
  INFO(summary);
  // Every round ended cleanly, and both outcomes occurred.
  REQUIRE(summary.find(" loaded, ") != std::string::npos);
  CHECK(summary.rfind("0 loaded", 0) != 0);
  CHECK(summary.find(", 0 refused") == std::string::npos);
}

TEST_CASE("Every zoo model saves and loads with the same weights") {
  for (const ZooModel<float>& entry : model_zoo<float>()) {
    CAPTURE(entry.name);
    Sequential<float> model = entry.build(10);
    model.build(entry.input, 3);
    const Checkpoint<float> c = model.checkpoint();
    const Sequential<float> loaded = Sequential<float>::from_checkpoint(
        parse_checkpoint<float>("zoo.mcnn", checkpoint_bytes(c)));
    CHECK(loaded.summary() == model.summary());
    REQUIRE(loaded.size() == model.size());
    for (Index i = 0; i < model.size(); ++i) {
      const auto expected = model.layer(i).parameters();
      const auto got = loaded.layer(i).parameters();
      REQUIRE(got.size() == expected.size());
      for (std::size_t k = 0; k < got.size(); ++k)
        CHECK(std::equal(got[k]->value.begin(), got[k]->value.end(), expected[k]->value.begin(),
                         expected[k]->value.end()));
    }
  }
}
