// mnist: trains a named CNN on MNIST and reports how it did.
//
//   mnist --model mnist_cnn --epochs 5 --out runs/mnist
//   mpirun -np 2 mnist --threads 1 ...   the same training on 2 processes (docs/distributed.md)
//
// Prints the model summary, trains with a progress bar (one line per epoch when the output is
// not a terminal), evaluates on the 10,000 test images, and writes into --out:
//   model.mcnn     the trained model (architecture + weights), Sequential<float>::load() reads it
//   last.mcnn      the last completed epoch with optimizer state, to resume with --resume
//   history.csv / history.json   loss and accuracy per epoch
//   report.md      summary, per-epoch table, test figures, timings and the exact command
//   report.html    the same with curves, confusion matrices, per-class figures, the 10 worst
//                  test images and first-layer filters, every picture inline (also written as
//                  loss.png, accuracy.png, confusion_matrix.png, confusion_errors.png,
//                  worst_examples.png, filters.png)
#include <omp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/command_line.hpp"
#include "common/job.hpp"
#include "common/training.hpp"
#include "minicnn/minicnn.hpp"

using namespace minicnn;

int run(const examples::Job& job, int argc, char** argv) {
  examples::CommandLine cli(
      "mnist",
      examples::with_model_list("Trains a named CNN on MNIST (scripts/fetch_data.sh mnist)."));
  examples::add_training_options(cli, "mnist_cnn", "5", "64");
  cli.option("data-dir", data_dir(), "directory holding mnist/ (or the MNIST files)")
      .option("out", "runs/mnist", "directory for the model, history and report");
  if (!cli.parse(argc, argv)) return 0;

  const Dataset train = load_mnist(cli.get("data-dir"), Split::train);
  const Dataset test = load_mnist(cli.get("data-dir"), Split::test);
  return examples::train_and_report(job, cli, examples::command(argc, argv), "MNIST", train, test);
}

int main(int argc, char** argv) {
  examples::Job job(argc, argv);  // one of the ranks when started by mpirun
  try {
    return run(job, argc, argv);
  } catch (const std::exception& error) {
    return job.fail("mnist", error);
  }
}
