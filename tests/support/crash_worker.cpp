// crash_worker DIR EPOCHS: the training job that tests/test_crash_safety.cpp kills with SIGKILL.
// It trains a small convolutional model with Dropout and Adam (so that weights, random streams
// and optimizer slots all matter) on a fixed synthetic problem, saves DIR/last.mcnn after every
// epoch, resumes from it when it exists, and writes DIR/final.mcnn when all epochs are done.
#include <filesystem>
#include <iostream>

#include "minicnn/callbacks/model_checkpoint.hpp"
#include "minicnn/minicnn.hpp"

using namespace minicnn;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: crash_worker DIR EPOCHS\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const Index epochs = std::stoll(argv[2]);

  // 96 samples of (1, 6, 6); the class is which third of the image is brightest.
  Random random(7);
  Tensor<float> x({96, 1, 6, 6}), y({96});
  x.fill_uniform(random, 0.0f, 1.0f);
  for (Index n = 0; n < 96; ++n) {
    const auto label = static_cast<Index>(n % 3);
    for (Index r = 0; r < 6; ++r)
      x(n, 0, r, 2 * label) += 1.0f;
    y[n] = static_cast<float>(label);
  }

  Sequential<float> model;
  model.add<Conv2D>(4, 3).add<ReLU>().add<Dropout>(0.25);
  model.add<Flatten>().add<Dense>(3).add<Softmax>();
  model.build({1, 6, 6}, 1);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  Adam<float> adam;

  const std::string last = (dir / "last.mcnn").string();
  FitOptions<float> options;
  options.epochs = epochs;
  options.batch_size = 8;
  options.seed = 3;
  options.verbose = Verbose::silent;
  if (std::filesystem::exists(last)) options.initial_epoch = model.restore(last, &adam);
  ModelCheckpoint<float> checkpoint(last);
  options.callbacks = {&checkpoint};
  model.fit(x, y, adam, options);
  model.save((dir / "final.mcnn").string(), &adam, epochs);
  return 0;
}
