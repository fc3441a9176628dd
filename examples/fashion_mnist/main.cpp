// fashion_mnist: trains a named CNN on Fashion-MNIST and reports how it did.
//
//   fashion_mnist --model mnist_model4 --epochs 10 --out runs/fashion_mnist
//
// Fashion-MNIST has MNIST's format and sizes (28x28 grey, 10 classes), so every MNIST model of
// the zoo applies. Writes into --out what the mnist trainer writes: model.mcnn, last.mcnn,
// history.csv, history.json, report.md, report.html and its pictures as PNG files.
#include <iostream>

#include "common/command_line.hpp"
#include "common/job.hpp"
#include "common/training.hpp"
#include "minicnn/minicnn.hpp"

using namespace minicnn;

int run(const examples::Job& job, int argc, char** argv) {
  examples::CommandLine cli(
      "fashion_mnist",
      examples::with_model_list(
          "Trains a named CNN on Fashion-MNIST (scripts/fetch_data.sh fashion-mnist)."));
  examples::add_training_options(cli, "mnist_cnn", "10", "64");
  cli.option("data-dir", data_dir(), "directory holding fashion-mnist/ (or its files)")
      .option("out", "runs/fashion_mnist", "directory for the model, history and report");
  if (!cli.parse(argc, argv)) return 0;

  const Dataset train = load_fashion_mnist(cli.get("data-dir"), Split::train);
  const Dataset test = load_fashion_mnist(cli.get("data-dir"), Split::test);
  return examples::train_and_report(job, cli, examples::command(argc, argv), "Fashion-MNIST", train,
                                    test);
}

int main(int argc, char** argv) {
  examples::Job job(argc, argv);  // one of the ranks when started by mpirun
  try {
    return run(job, argc, argv);
  } catch (const std::exception& error) {
    return job.fail("fashion_mnist", error);
  }
}
