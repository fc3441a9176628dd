// transfer_experiment: transfer learning shown on the data sets this machine has (issue 15).
// Pretrains a small ResNet on a whole source data set, then learns a target data set from a few
// labelled images three ways, (a) from scratch, (b) feature extraction with the frozen backbone,
// (c) fine-tuning (transfer.hpp), and evaluates each on the target's whole test set.
//
//   transfer_experiment --threads 1 --out runs/transfer                  MNIST -> Fashion-MNIST
//   transfer_experiment --source fashion-mnist --target mnist --out runs/transfer_reverse
//   transfer_experiment --labelled 100 --pretrained runs/transfer/pretrained_mnist_resnet8.mcnn
//
// Writes into --out: the pretrained model (reused by later runs: pretraining is skipped when the
// --pretrained file exists), backbone.mcnn (its layers up to the pooled features), one folder per
// run (pretrain/, scratch/, features/, fine_tune/) with what the other trainers write
// (model.mcnn, history.csv, history.json, report.md, report.html and its pictures), and
// results.md: the three accuracies with their times, the command and the machine.
#include <omp.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "common/training.hpp"
#include "minicnn/minicnn.hpp"
#include "transfer_experiment/transfer.hpp"

using namespace minicnn;

namespace {

// The data sets by the names scripts/fetch_data.sh takes (its loader's message names the fetch
// command when the files are missing).
Dataset load_dataset(const std::string& name, const std::string& dir, Split split) {
  if (name == "mnist") return load_mnist(dir, split);
  if (name == "fashion-mnist") return load_fashion_mnist(dir, split);
  fail("transfer_experiment: unknown data set '", name, "'; expected mnist or fashion-mnist");
}

std::string title_of(const std::string& name) {
  return name == "mnist" ? "MNIST" : "Fashion-MNIST";
}

// A finished run, as the results table and the reports need it.
struct Outcome {
  std::string label;  // the row's name in results.md
  Model<float>::Evaluation evaluation;
  double train_seconds = 0.0, wall_seconds = 0.0;  // negative: not timed (read from a file)
};

// Evaluates on `test`, saves the model and history into out/name and writes the reports there.
Outcome finish(const std::string& label, const std::string& name, const std::string& dataset_name,
               const std::string& model_name, const Model<float>& model,
               const Optimizer<float>& optimizer, const FitOptions<float>& options,
               const History& history, const Dataset& test, double train_seconds,
               std::chrono::steady_clock::time_point start, const examples::CommandLine& cli,
               const std::string& command_text) {
  const std::filesystem::path out = std::filesystem::path(cli.get("out")) / name;
  std::filesystem::create_directories(out);
  const auto test_start = std::chrono::steady_clock::now();
  const auto evaluation = model.evaluate(Samples<float>(test, Normalization<float>::scale()), 256);
  const double test_seconds = transfer::seconds_since(test_start);
  model.save((out / "model.mcnn").string());
  history.write_csv((out / "history.csv").string());
  history.write_json((out / "history.json").string());
  const double wall_seconds = transfer::seconds_since(start);
  std::cout << label << ": test accuracy " << examples::fixed(100 * evaluation.accuracy, 2)
            << " %, loss " << examples::fixed(evaluation.loss, 4) << " (" << test.size()
            << " images); training " << examples::fixed(train_seconds, 1) << " s, wall "
            << examples::fixed(wall_seconds, 1) << " s\n";

  examples::TrainingRun run;
  run.dataset_name = dataset_name;
  run.command_text = command_text;
  run.out = out;
  run.model = &model;
  run.optimizer = &optimizer;
  run.options = &options;
  run.history = &history;
  run.test = &test;
  run.evaluation = evaluation;
  run.model_name = model_name;
  run.augmentation = "off";
  run.threads = omp_get_max_threads();
  run.train_seconds = train_seconds;
  run.evaluation_seconds = test_seconds;
  run.wall_seconds = wall_seconds;
  examples::write_reports(run);
  return {label, evaluation, train_seconds, wall_seconds};
}

int run(int argc, char** argv) {
  examples::CommandLine cli(
      "transfer_experiment",
      "Pretrains cifar_resnet(--depth) on a whole source data set, then learns the target data\n"
      "set from --labelled images (class-balanced, seeded) three ways: (a) from scratch, (b) a\n"
      "Dense head on the frozen backbone's pooled features, computed once, (c) fine-tuning: the\n"
      "head with the backbone frozen for --head-epochs, then every layer at --fine-tune-lr.\n"
      "Each arm trains --epochs passes over the labelled images and is evaluated on the target's\n"
      "whole test set (docs/experiments.md). Data: scripts/fetch_data.sh mnist fashion-mnist.");
  cli.option("data-dir", data_dir(), "directory holding mnist/ and fashion-mnist/")
      .option("source", "mnist", "the pretraining data set: mnist or fashion-mnist")
      .option("target", "fashion-mnist", "the data set with few labels: fashion-mnist or mnist")
      .option("labelled", "1000", "labelled target training images (as many of each class)")
      .option("epochs", "20", "passes over the labelled images, in every arm")
      .option("head-epochs", "5", "(c): the first epochs, which train the head only")
      .option("pretrain-epochs", "2", "epochs over the whole source training set")
      .option("batch-size", "32", "samples per training batch")
      .option("lr", "0.001", "Adam's learning rate: pretraining, (a), (b), (c)'s head epochs")
      .option("fine-tune-lr", "0.0001", "Adam's learning rate once (c) trains every layer")
      .option("depth", "8", "cifar_resnet's depth (6n + 2)")
      .option("seed", "42", "seed of the labelled choice, weights and shuffling")
      .option("threads", "0", "OpenMP threads (0: all cores)")
      .option("pretrained", "",
              "the pretrained model: read when it exists, else trained and written there "
              "(none: OUT/pretrained_SOURCE_resnetDEPTH.mcnn)")
      .option("out", "runs/transfer", "directory for the models, reports and results.md");
  if (!cli.parse(argc, argv)) return 0;
  const auto wall_start = std::chrono::steady_clock::now();
  if (cli.get_int("threads") > 0) omp_set_num_threads(static_cast<int>(cli.get_int("threads")));
  const std::string source_name = cli.get("source"), target_name = cli.get("target");
  if (source_name == target_name)
    fail("transfer_experiment: expected a --target other than the --source, got ", source_name,
         " for both");

  transfer::Settings s;
  s.depth = static_cast<Index>(cli.get_int("depth"));
  s.epochs = static_cast<Index>(cli.get_int("epochs"));
  s.head_epochs = static_cast<Index>(cli.get_int("head-epochs"));
  s.batch_size = static_cast<Index>(cli.get_int("batch-size"));
  s.learning_rate = cli.get_double("lr");
  s.fine_tune_learning_rate = cli.get_double("fine-tune-lr");
  s.seed = static_cast<std::uint64_t>(cli.get_int("seed"));
  if (s.head_epochs < 0 || s.head_epochs >= s.epochs)
    fail("transfer_experiment: expected --head-epochs in [0, --epochs) = [0, ", s.epochs, "), got ",
         s.head_epochs);

  const Dataset source = load_dataset(source_name, cli.get("data-dir"), Split::train);
  const Dataset source_test = load_dataset(source_name, cli.get("data-dir"), Split::test);
  const Dataset target_all = load_dataset(target_name, cli.get("data-dir"), Split::train);
  const Dataset target_test = load_dataset(target_name, cli.get("data-dir"), Split::test);
  const Index labelled_count = static_cast<Index>(cli.get_int("labelled"));
  const Dataset labelled =
      subset(target_all, transfer::balanced_choice(target_all, labelled_count, s.seed));
  std::cout << "Source: " << title_of(source_name) << ", " << source.size()
            << " training images; target: " << title_of(target_name) << ", " << labelled.size()
            << " of its " << target_all.size() << " training images (seed " << s.seed << "), "
            << target_test.size() << " test images\n";

  const std::filesystem::path out = cli.get("out");
  std::filesystem::create_directories(out);
  const std::string command_text = examples::command(argc, argv);
  const std::string architecture = "cifar_resnet(" + std::to_string(s.depth) + ")";
  const std::string pretrained_path =
      !cli.get("pretrained").empty()
          ? cli.get("pretrained")
          : (out / ("pretrained_" + source_name + "_resnet" + std::to_string(s.depth) + ".mcnn"))
                .string();

  // Pretraining, or the model an earlier run pretrained.
  std::vector<Outcome> outcomes;
  std::string pretraining;
  Model<float> pretrained;
  if (std::filesystem::exists(pretrained_path)) {
    pretrained = Model<float>::load(pretrained_path);
    pretrained.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
    const auto evaluation =
        pretrained.evaluate(Samples<float>(source_test, Normalization<float>::scale()), 256);
    pretraining = "read from " + pretrained_path + " (pretraining skipped)";
    outcomes.push_back(
        {"pretrained on " + title_of(source_name) + " (read from file), on its " + "test set",
         evaluation, -1.0, -1.0});
    std::cout << "Pretrained model " << pretraining << ": " << title_of(source_name)
              << " test accuracy " << examples::fixed(100 * evaluation.accuracy, 2) << " %\n";
  } else {
    const auto start = std::chrono::steady_clock::now();
    pretrained = transfer::resnet(s, source.sample_shape(), source.classes, s.seed);
    std::cout << pretrained.summary() << "Pretraining on " << title_of(source_name) << ", "
              << cli.get_int("pretrain-epochs") << " epochs\n";
    Adam<float> adam(s.learning_rate);
    const FitOptions<float> options =
        transfer::fit_options(s, static_cast<Index>(cli.get_int("pretrain-epochs")));
    const History history = pretrained.fit(source, Normalization<float>::scale(), adam, options);
    const double train_seconds = transfer::seconds_since(start);
    if (history.interrupted) return 130;  // nothing written: the next run pretrains again
    pretrained.save(pretrained_path);
    pretraining = "trained by this run, " + std::to_string(options.epochs) +
                  " epochs, written to " + pretrained_path;
    outcomes.push_back(finish("pretrained on " + title_of(source_name) + ", on its test set",
                              "pretrain", title_of(source_name) + " (pretraining, every image)",
                              architecture, pretrained, adam, options, history, source_test,
                              train_seconds, start, cli, command_text));
  }
  const Checkpoint<float> backbone = transfer::backbone_of(pretrained);
  save_checkpoint((out / "backbone.mcnn").string(), backbone);

  // The three arms, each from the same labelled images and seed.
  const std::string target_title =
      title_of(target_name) + ", " + std::to_string(labelled.size()) + " labelled images";
  const auto arm_start = std::chrono::steady_clock::now();
  std::cout << "\n(a) From scratch\n";
  const transfer::Arm scratch = transfer::from_scratch(labelled, s);
  if (scratch.history.interrupted) return 130;
  outcomes.push_back(finish("(a) from scratch", "scratch", target_title,
                            architecture + ", from scratch", scratch.model, *scratch.optimizer,
                            scratch.options, scratch.history, target_test, scratch.train_seconds,
                            arm_start, cli, command_text));

  const auto features_start = std::chrono::steady_clock::now();
  std::cout << "\n(b) Feature extraction: the frozen backbone's pooled features, a new head\n";
  const transfer::Arm features = transfer::feature_extraction(backbone, labelled, s);
  if (features.history.interrupted) return 130;
  std::cout << "Features of the " << labelled.size()
            << " labelled images: " << examples::fixed(features.feature_seconds, 1) << " s\n";
  outcomes.push_back(finish("(b) feature extraction", "features", target_title,
                            architecture + " backbone from " + title_of(source_name) +
                                " (frozen), new head on its features",
                            features.model, *features.optimizer, features.options, features.history,
                            target_test, features.train_seconds, features_start, cli,
                            command_text));

  const auto tune_start = std::chrono::steady_clock::now();
  std::cout << "\n(c) Fine-tuning: " << s.head_epochs << " epochs of the head, then "
            << s.epochs - s.head_epochs << " of every layer\n";
  const transfer::Arm tuned = transfer::fine_tuning(backbone, labelled, s);
  if (tuned.history.interrupted) return 130;
  outcomes.push_back(finish("(c) fine-tuning", "fine_tune", target_title,
                            architecture + " from " + title_of(source_name) + ", fine-tuned",
                            tuned.model, *tuned.optimizer, tuned.options, tuned.history,
                            target_test, tuned.train_seconds, tune_start, cli, command_text));

  // results.md: what docs/experiments.md records.
  std::ostringstream results;
  results << "# Transfer from " << title_of(source_name) << " to " << title_of(target_name) << ", "
          << labelled.size() << " labelled images\n\n"
          << "Command: `" << command_text << "`\n\n"
          << "Machine: " << examples::cpu_name() << ", " << omp_get_max_threads()
          << " OpenMP threads; compiler: " << examples::compiler_name() << "\n\n"
          << "Model: " << architecture << " on " << labelled.sample_shape()
          << "; pretrained model: " << pretraining << ". Every arm: " << s.epochs
          << " epochs over the " << labelled.size() << " labelled images (class-balanced, seed "
          << s.seed << "), batch " << s.batch_size << ", Adam " << s.learning_rate
          << "; (c): " << s.head_epochs << " epochs of the head, then " << s.epochs - s.head_epochs
          << " of every layer at " << s.fine_tune_learning_rate << ". No validation split.\n\n"
          << "| run | test accuracy | test loss | training seconds | wall seconds |\n"
          << "| --- | --- | --- | --- | --- |\n";
  const auto seconds = [](double value) {
    return value < 0 ? std::string("-") : examples::fixed(value, 1);
  };
  for (const Outcome& o : outcomes)
    results << "| " << o.label << " | " << examples::fixed(100 * o.evaluation.accuracy, 2)
            << " % | " << examples::fixed(o.evaluation.loss, 4) << " | " << seconds(o.train_seconds)
            << " | " << seconds(o.wall_seconds) << " |\n";
  results << "\n(b)'s training seconds include the features' computation ("
          << examples::fixed(features.feature_seconds, 1) << " s). Wall seconds: from the arm's "
          << "start to its evaluated and saved model. Whole run: "
          << examples::fixed(transfer::seconds_since(wall_start), 1) << " s.\n";
  write_file_atomically((out / "results.md").string(), results.str(), "results.md");
  std::cout << '\n' << results.str() << "Wrote " << (out / "results.md").string() << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "transfer_experiment: " << error.what() << '\n';
    return 1;
  }
}
