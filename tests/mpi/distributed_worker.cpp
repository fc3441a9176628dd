// distributed_worker DIR EPOCHS [FAULT RANK EPOCH]: the data-parallel training job that
// scripts/test_distributed_faults.sh starts with mpirun and breaks. Every rank trains a small
// convolutional model with Dropout and Adam (weights, random streams and optimizer slots all
// matter) on a fixed synthetic problem; rank 0 saves DIR/last.mcnn after every epoch; every rank
// resumes from it when it exists (with any number of ranks); rank 0 writes DIR/final.mcnn at the
// end and prints the epochs it trained.
//
// FAULT: "kill" (rank RANK sends itself SIGKILL at the start of epoch EPOCH, 0-based: a process
// that dies without a word) or "throw" (rank RANK throws an Error there: the catch below ends the
// job with MPI_Abort, as the trainers do).
#include <signal.h>

#include <filesystem>
#include <iostream>

#include "minicnn/callbacks/model_checkpoint.hpp"
#include "minicnn/distributed/mpi_collective.hpp"
#include "minicnn/distributed/mpi_session.hpp"
#include "minicnn/minicnn.hpp"

using namespace minicnn;

namespace {

class Fault : public Callback<float> {
 public:
  Fault(std::string kind, int rank, Index epoch, int my_rank)
      : kind_(std::move(kind)), rank_(rank), epoch_(epoch), my_rank_(my_rank) {}
  void on_epoch_begin(Index epoch, Model<float>&, Optimizer<float>&) override {
    if (epoch != epoch_ || my_rank_ != rank_) return;
    if (kind_ == "kill") raise(SIGKILL);
    fail("distributed_worker: injected failure on rank ", rank_, " at epoch ", epoch + 1);
  }

 private:
  std::string kind_;
  int rank_;
  Index epoch_;
  int my_rank_;
};

int run(int argc, char** argv, const MpiSession& mpi) {
  if (argc != 3 && argc != 6) fail("usage: distributed_worker DIR EPOCHS [kill|throw RANK EPOCH]");
  const std::filesystem::path dir = argv[1];
  const Index epochs = std::stoll(argv[2]);

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

  MpiCollective world;
  const std::string last = (dir / "last.mcnn").string();
  FitOptions<float> options;
  options.epochs = epochs;
  options.batch_size = 8;
  options.seed = 3;
  options.verbose = Verbose::silent;
  options.collective = &world;
  if (std::filesystem::exists(last)) options.initial_epoch = model.restore(last, &adam);
  ModelCheckpoint<float> checkpoint(last);
  options.callbacks = {&checkpoint};
  std::unique_ptr<Fault> fault;
  if (argc == 6) {
    fault = std::make_unique<Fault>(argv[3], std::stoi(argv[4]), std::stoll(argv[5]), mpi.rank());
    options.callbacks.push_back(fault.get());
  }
  const Index first = options.initial_epoch;
  model.fit(x, y, adam, options);
  if (mpi.rank() == 0) {
    model.save((dir / "final.mcnn").string(), &adam, epochs);
    std::cout << "trained epochs " << first + 1 << ".." << epochs << " on " << mpi.size()
              << " ranks\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  try {
    return run(argc, argv, mpi);
  } catch (const std::exception& error) {
    mpi.abort(error.what());
  }
}
