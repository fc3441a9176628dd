// Data-parallel fit() under mpirun (distributed/data_parallel.hpp, docs/distributed.md). ctest runs
// this program with 2 ranks and with 3 (oversubscribed); every rank runs every case, and each rank
// also trains the one-process reference itself, so the comparison needs no file.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "minicnn/callbacks/model_checkpoint.hpp"
#include "minicnn/distributed/mpi_collective.hpp"
#include "minicnn/minicnn.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;

namespace {

// n samples of (1, 6, 6); the class is which third of the image holds a bright column. `first`
// offsets the noise, so that training and validation data differ.
void make_data(Index n, std::uint64_t seed, Tensor<float>& x, Tensor<float>& y) {
  Random random(seed);
  x = Tensor<float>({n, 1, 6, 6});
  y = Tensor<float>({n});
  x.fill_uniform(random, 0.0f, 1.0f);
  for (Index i = 0; i < n; ++i) {
    const auto label = static_cast<Index>(i % 3);
    for (Index r = 0; r < 6; ++r)
      x(i, 0, r, 2 * label) += 1.0f;
    y[i] = static_cast<float>(label);
  }
}

enum class Kind { plain, batch_norm, dropout };

Sequential<float> make_model(Kind kind) {
  Sequential<float> model;
  model.add<Conv2D>(4, 3);
  if (kind == Kind::batch_norm) model.add<BatchNorm>();
  model.add<ReLU>();
  if (kind == Kind::dropout) model.add<Dropout>(0.25);
  model.add<Flatten>().add<Dense>(3).add<Softmax>();
  model.build({1, 6, 6}, 11);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  return model;
}

// 61 training samples in batches of 10: the last batch holds 1 sample, so with 2 or 3 ranks
// some ranks get none, and the batches of 10 split unevenly over 3 ranks (4, 3, 3).
struct Problem {
  Tensor<float> x, y, val_x, val_y;
  Problem() {
    make_data(61, 1, x, y);
    make_data(19, 2, val_x, val_y);
  }
  FitOptions<float> options(Collective* collective) const {
    FitOptions<float> o;
    o.epochs = 3;
    o.batch_size = 10;
    o.seed = 5;
    o.verbose = Verbose::silent;
    o.validation_data = Samples<float>(val_x, val_y);
    o.collective = collective;
    return o;
  }
};

// Every value of every parameter (weights and state), in order.
std::vector<float> weights(Sequential<float>& model) {
  std::vector<float> all;
  for (const Parameter<float>* p : model.parameters())
    all.insert(all.end(), p->value.begin(), p->value.end());
  return all;
}

// True when every rank holds exactly rank 0's values, bit for bit.
bool same_on_every_rank(MpiCollective& world, std::vector<float> values) {
  std::vector<float> root = values;
  world.broadcast(root.data(), root.size() * sizeof(float));
  double differing = std::memcmp(root.data(), values.data(), root.size() * sizeof(float)) != 0;
  world.sum(&differing, 1);
  return differing == 0.0;
}

}  // namespace

TEST_CASE("K ranks on batch B give the weights of one process on batch B, to float rounding") {
  MpiCollective world;
  const Problem problem;
  Sequential<float> alone = make_model(Kind::plain), together = make_model(Kind::plain);
  SGD<float> sgd_alone(0.05, 0.9), sgd_together(0.05, 0.9);
  const History reference = alone.fit(problem.x, problem.y, sgd_alone, problem.options(nullptr));
  const History history = together.fit(problem.x, problem.y, sgd_together, problem.options(&world));

  // The bound: 3 epochs of 7 steps; each step's gradient is the same sum grouped differently
  // (per rank, then over the ranks), about 1e-7 relative, and momentum carries it on. Measured:
  // largest difference 2.4e-7 with 2 and with 3 ranks; 1e-5 leaves a margin of 40 and still fails
  // on a real mistake (weighting each rank's gradient by 1 instead of n_r / B moved a weight by
  // 0.64).
  const std::vector<float> expected = weights(alone), actual = weights(together);
  REQUIRE(expected.size() == actual.size());
  double largest = 0.0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    largest = std::max(largest, std::abs(static_cast<double>(expected[i]) - actual[i]));
  MESSAGE("largest weight difference from one process: ", largest, " with ", world.size(),
          " ranks");
  CHECK(largest <= 1e-5);
  CHECK(sgd_together.iterations() == sgd_alone.iterations());

  // The figures are the whole batch's and the whole validation set's, not one rank's.
  REQUIRE(history.epochs.size() == reference.epochs.size());
  for (std::size_t e = 0; e < history.epochs.size(); ++e) {
    CHECK(history.epochs[e].loss == doctest::Approx(reference.epochs[e].loss).epsilon(1e-5));
    CHECK(history.epochs[e].accuracy == doctest::Approx(reference.epochs[e].accuracy));
    CHECK(history.epochs[e].val_loss ==
          doctest::Approx(reference.epochs[e].val_loss).epsilon(1e-5));
    CHECK(history.epochs[e].val_accuracy == doctest::Approx(reference.epochs[e].val_accuracy));
  }
  CHECK(same_on_every_rank(world, actual));
}

TEST_CASE("Runs with the same ranks and seed are bit-identical, and the ranks agree") {
  MpiCollective world;
  const Problem problem;
  std::vector<float> runs[2];
  for (auto& run : runs) {
    Sequential<float> model = make_model(Kind::plain);
    Adam<float> adam;
    model.fit(problem.x, problem.y, adam, problem.options(&world));
    run = weights(model);
  }
  CHECK(std::memcmp(runs[0].data(), runs[1].data(), runs[0].size() * sizeof(float)) == 0);
  CHECK(same_on_every_rank(world, runs[0]));
}

TEST_CASE("BatchNorm: per-rank batch statistics, rank 0's moving statistics on every rank") {
  // Each rank normalises its shard with the shard's own mean and variance (PyTorch DDP's default),
  // so the weights differ from one process on batch B; what must hold is that the ranks agree:
  // same weights, and the moving statistics rank 0 accumulated.
  MpiCollective world;
  const Problem problem;
  Sequential<float> model = make_model(Kind::batch_norm);
  Adam<float> adam;
  model.fit(problem.x, problem.y, adam, problem.options(&world));
  CHECK(same_on_every_rank(world, weights(model)));
  const Parameter<float>* moving_mean = nullptr;
  for (const Parameter<float>* p : model.parameters())
    if (p->name == "moving_mean") moving_mean = p;
  REQUIRE(moving_mean != nullptr);
  CHECK(moving_mean->value.vector().cwiseAbs().maxCoeff() > 0.0f);  // it was updated
}

TEST_CASE("Dropout: the ranks draw different masks and still hold the same weights") {
  MpiCollective world;
  const Problem problem;
  Sequential<float> model = make_model(Kind::dropout);
  Adam<float> adam;
  model.fit(problem.x, problem.y, adam, problem.options(&world));
  CHECK(same_on_every_rank(world, weights(model)));
  // Rank r's stream is the r-th fork of rank 0's: the states differ between ranks.
  Random::State state = model.layer(2).random_stream()->state();
  std::uint64_t first_word = state.words[0];
  world.broadcast(&first_word, sizeof first_word);
  CHECK((world.rank() == 0) == (first_word == state.words[0]));
}

TEST_CASE("Checkpoints are written by rank 0 alone, and load") {
  MpiCollective world;
  const Problem problem;
  testing::TempDir dir;  // one per rank: a file in a rank's directory was written by that rank
  Sequential<float> model = make_model(Kind::plain);
  Adam<float> adam;
  ModelCheckpoint<float> checkpoint(dir / "last.mcnn");
  FitOptions<float> options = problem.options(&world);
  options.callbacks = {&checkpoint};
  model.fit(problem.x, problem.y, adam, options);
  CHECK(std::filesystem::exists(dir / "last.mcnn") == (world.rank() == 0));
  if (world.rank() == 0) {
    Sequential<float> loaded = Sequential<float>::load(dir / "last.mcnn");
    const std::vector<float> expected = weights(model), actual = weights(loaded);
    CHECK(std::memcmp(expected.data(), actual.data(), expected.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("Resuming from rank 0's checkpoint gives the weights of the uninterrupted run") {
  MpiCollective world;
  const Problem problem;
  // Rank 0's file, its path sent to every rank (one machine: they share the file system).
  testing::TempDir dir;
  std::string path = dir / "last.mcnn";
  std::vector<char> name(path.begin(), path.end());
  name.resize(512, '\0');
  world.broadcast(name.data(), name.size());
  path = name.data();

  Sequential<float> whole = make_model(Kind::plain);
  Adam<float> adam_whole;
  whole.fit(problem.x, problem.y, adam_whole, problem.options(&world));  // epochs 1..3

  Sequential<float> first = make_model(Kind::plain);
  Adam<float> adam_first;
  ModelCheckpoint<float> checkpoint(path);
  FitOptions<float> options = problem.options(&world);
  options.epochs = 2;
  options.callbacks = {&checkpoint};
  // fit() returns on no rank before rank 0 has saved: the ranks meet after the callbacks.
  first.fit(problem.x, problem.y, adam_first, options);

  Sequential<float> resumed = make_model(Kind::plain);
  Adam<float> adam_resumed;
  options = problem.options(&world);
  options.initial_epoch = resumed.restore(path, &adam_resumed);
  CHECK(options.initial_epoch == 2);
  resumed.fit(problem.x, problem.y, adam_resumed, options);  // epoch 3
  const std::vector<float> expected = weights(whole), actual = weights(resumed);
  CHECK(std::memcmp(expected.data(), actual.data(), expected.size() * sizeof(float)) == 0);
}

TEST_CASE("A rank whose model differs from rank 0's: every rank gets an Error, none hangs") {
  MpiCollective world;
  const Problem problem;
  Sequential<float> model;
  model.add<Flatten>().add<Dense>(world.rank() == 1 ? 4 : 3).add<Softmax>();
  model.build({1, 6, 6}, 1);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  Adam<float> adam;
  const std::string message =
      world.rank() == 1 ? "Sequential::fit: rank 1 has 148 parameter values, rank 0 has 111"
                        : "Sequential::fit: 1 of " + std::to_string(world.size()) +
                              " ranks hold a model or optimizer state of other sizes than rank 0's";
  CHECK_THROWS_WITH_AS(model.fit(problem.x, problem.y, adam, problem.options(&world)),
                       doctest::Contains(message.c_str()), Error);
}
