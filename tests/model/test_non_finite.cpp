// The non-finite guard: training that meets a NaN or infinite loss or gradient stops with an
// Error naming the epoch, the batch and where the values went non-finite, applies no update, and
// never overwrites the best checkpoint.
#include <doctest/doctest.h>

#include <limits>

#include "minicnn/callbacks/model_checkpoint.hpp"
#include "minicnn/minicnn.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;

namespace {

// Keeps the bytes of a file as they were after each epoch (runs after ModelCheckpoint).
class FileRecorder : public Callback<float> {
 public:
  explicit FileRecorder(std::string path) : path_(std::move(path)) {}
  bool on_epoch_end(const EpochLogs&, Model<float>&, Optimizer<float>&) override {
    bytes = testing::read_raw(path_);
    ++epochs;
    return false;
  }
  testing::Bytes bytes;
  int epochs = 0;

 private:
  std::string path_;
};

}  // namespace

TEST_CASE(
    "a diverging run stops with the epoch, the batch and the layer, and keeps the best file") {
  // Linear regression by SGD with a learning rate far above 2/lambda_max: the weights grow
  // geometrically until the output overflows.
  Random random(3);
  Tensor<float> x({64, 4}), y({64, 1});
  x.fill_uniform(random, -1.0f, 1.0f);
  y.fill_uniform(random, -1.0f, 1.0f);
  Sequential<float> model;
  model.add<Dense>(1);
  model.build({4}, 5);
  model.set_loss(std::make_unique<MeanSquaredError<float>>());
  SGD<float> sgd(8.0);

  testing::TempDir dir;
  ModelCheckpoint<float> best(dir / "best.mcnn", "loss", /*save_best_only=*/true);
  FileRecorder recorder(dir / "best.mcnn");
  FitOptions<float> options;
  options.epochs = 200;
  options.batch_size = 16;
  options.verbose = Verbose::silent;
  options.callbacks = {&best, &recorder};

  // The squared error overflows first, while the outputs are still finite: the guard says so.
  CHECK_THROWS_WITH_AS(model.fit(x, y, sgd, options),
                       "Sequential::fit: epoch 5, batch 2/4: the loss is +inf (every layer output "
                       "is finite: the loss overflowed); the weights were not updated (lower the "
                       "learning rate or check the data)",
                       Error);

  // The best checkpoint was written before the divergence and is byte for byte what it was.
  REQUIRE(recorder.epochs > 0);
  REQUIRE(!recorder.bytes.empty());
  CHECK(testing::read_raw(dir / "best.mcnn") == recorder.bytes);
  CHECK_NOTHROW(load_checkpoint<float>(dir / "best.mcnn"));
  for (const Parameter<float>* p : model.parameters())
    CHECK(p->value.vector().allFinite());
}

TEST_CASE(
    "an infinite gradient under a finite loss stops before the update, naming the parameter") {
  // Inputs near the float maximum times an output error of 100: the loss is finite, the kernel's
  // gradient x^T dy overflows.
  Tensor<float> x({8, 2}, 3.0e38f), y({8, 1}, 100.0f);
  Sequential<float> model;
  model.add<Dense>(1);
  model.build({2}, 1);
  model.parameters()[0]->value.fill(1e-38f);
  model.set_loss(std::make_unique<MeanSquaredError<float>>());
  SGD<float> sgd(0.1);
  const auto before = model.parameters()[0]->value;
  FitOptions<float> options;
  options.batch_size = 8;
  options.verbose = Verbose::silent;
  CHECK_THROWS_WITH_AS(model.fit(x, y, sgd, options),
                       "Sequential::fit: epoch 1, batch 1/1: the gradient of Dense 'dense' kernel "
                       "is not finite; the weights were not updated (lower the learning rate or "
                       "check the data)",
                       Error);
  CHECK(std::equal(before.begin(), before.end(), model.parameters()[0]->value.begin()));
  CHECK(sgd.iterations() == 0);
}

TEST_CASE("a loss that overflows while every output is finite is named as such") {
  // Logits of 3e38 and -3e38 are finite; their difference, inside log-sum-exp, is not.
  Tensor<float> x({1, 2}), y({1}, 1.0f);
  x[0] = 3.0e38f;
  x[1] = -3.0e38f;
  Sequential<float> model;
  model.add<Flatten>();
  model.build({2}, 1);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>(/*from_logits=*/true));
  CHECK_THROWS_WITH_AS(model.compute_gradients(x, y),
                       "Sequential::compute_gradients: the loss is +inf (every layer output is "
                       "finite: the loss overflowed); the weights were not updated (lower the "
                       "learning rate or check the data)",
                       Error);
}

TEST_CASE("a layer whose output overflows is named as the first non-finite values") {
  Tensor<float> x({2, 2}, 3.0e38f), y({2}, 0.0f);
  Sequential<float> model;
  model.add<Dense>(3).add<ReLU>().add<Dense>(2).add<Softmax>();
  model.build({2}, 1);
  model.parameters()[0]->value.fill(10.0f);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  CHECK_THROWS_WITH_AS(model.compute_gradients(x, y),
                       "Sequential::compute_gradients: the loss is NaN (first non-finite values in "
                       "the output of Dense 'dense'); the weights were not updated (lower the "
                       "learning rate or check the data)",
                       Error);
}
