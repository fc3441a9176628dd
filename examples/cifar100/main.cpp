// cifar100: trains a named model on CIFAR-100 with its 20 coarse or its 100 fine labels.
//
//   cifar100 --labels coarse --model cifar100_coarse_first    (the lab's: 50 epochs, batch 16)
//   cifar100 --labels fine --model cifar100_fine_mlp          (RMSprop, batch 128, 5 epochs)
//
// The model's classifier gets as many outputs as the chosen labels have classes. Writes
// model.mcnn, last.mcnn, history.csv, history.json, report.md, report.html and its pictures as
// PNG files into --out (see examples/mnist/main.cpp).
#include <iostream>

#include "common/command_line.hpp"
#include "common/job.hpp"
#include "common/training.hpp"
#include "minicnn/minicnn.hpp"

using namespace minicnn;

CifarLabels parse_labels(const std::string& text) {
  if (text == "coarse") return CifarLabels::coarse;
  if (text == "fine") return CifarLabels::fine;
  fail("cifar100: --labels expects coarse or fine, got '", text, "'");
}

int run(const examples::Job& job, int argc, char** argv) {
  examples::CommandLine cli(
      "cifar100", examples::with_model_list(
                      "Trains a named model on CIFAR-100 (scripts/fetch_data.sh cifar100)."));
  examples::add_training_options(cli, "cifar100_coarse_first", "10", "32");
  cli.option("labels", "coarse", "coarse (20 superclasses) or fine (100 classes)")
      .option("data-dir", data_dir(), "directory holding cifar-100-binary/ (or its files)")
      .option("out", "runs/cifar100", "directory for the model, history and report");
  if (!cli.parse(argc, argv)) return 0;

  const CifarLabels labels = parse_labels(cli.get("labels"));
  const Dataset train = load_cifar100(cli.get("data-dir"), Split::train, labels);
  const Dataset test = load_cifar100(cli.get("data-dir"), Split::test, labels);
  return examples::train_and_report(job, cli, examples::command(argc, argv),
                                    "CIFAR-100 (" + cli.get("labels") + " labels)", train, test);
}

int main(int argc, char** argv) {
  examples::Job job(argc, argv);  // one of the ranks when started by mpirun
  try {
    return run(job, argc, argv);
  } catch (const std::exception& error) {
    return job.fail("cifar100", error);
  }
}
