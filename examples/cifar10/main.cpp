// cifar10: trains a named CNN on CIFAR-10 and reports how it did.
//
//   cifar10 --model cifar10_model9 --out runs/cifar10_model9      (the lab's 20 epochs, flip_shift)
//   cifar10 --model cifar10_model7 --augment flip_shift --epochs 5
//
// Epochs, batch size, optimizer and augmentation default to the model's lab recipe
// (minicnn::model_zoo()). Writes model.mcnn, last.mcnn, history.csv, history.json, report.md,
// report.html and its pictures as PNG files into --out (see examples/mnist/main.cpp).
#include <iostream>

#include "common/command_line.hpp"
#include "common/job.hpp"
#include "common/training.hpp"
#include "minicnn/minicnn.hpp"

using namespace minicnn;

int run(const examples::Job& job, int argc, char** argv) {
  examples::CommandLine cli(
      "cifar10",
      examples::with_model_list("Trains a named CNN on CIFAR-10 (scripts/fetch_data.sh cifar10)."));
  examples::add_training_options(cli, "cifar10_model7", "10", "32");
  cli.option("data-dir", data_dir(), "directory holding cifar-10-batches-bin/ (or its files)")
      .option("out", "runs/cifar10", "directory for the model, history and report");
  if (!cli.parse(argc, argv)) return 0;

  const Dataset train = load_cifar10(cli.get("data-dir"), Split::train);
  const Dataset test = load_cifar10(cli.get("data-dir"), Split::test);
  return examples::train_and_report(job, cli, examples::command(argc, argv), "CIFAR-10", train,
                                    test);
}

int main(int argc, char** argv) {
  examples::Job job(argc, argv);  // one of the ranks when started by mpirun
  try {
    return run(job, argc, argv);
  } catch (const std::exception& error) {
    return job.fail("cifar10", error);
  }
}
