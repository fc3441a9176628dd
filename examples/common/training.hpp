// What the example trainers share: the training options, the choice of model (from
// minicnn::model_zoo()), augmentation and optimizer by name, and train_and_report(), which
// trains, evaluates, saves and writes the reports.
#pragma once

#include <omp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "common/job.hpp"
#include "minicnn/data/augmentation.hpp"
#include "minicnn/minicnn.hpp"
#include "minicnn/models.hpp"
#include "minicnn/visual/image_grid.hpp"
#include "minicnn/visual/png.hpp"
#include "minicnn/visual/run_report.hpp"

namespace examples {

// The trainer's defaults for the options whose default is the model's lab recipe.
inline std::map<std::string, std::string>& fallbacks() {
  static std::map<std::string, std::string> values;
  return values;
}

// --verbose, read by verbose_option().
inline void add_verbose_option(CommandLine& cli) {
  cli.option("verbose", "auto",
             "progress as Keras's verbose: 0 none, 1 a progress bar, 2 one line per epoch; auto: "
             "a bar on a terminal, lines otherwise (under mpirun, 2 for a log file: Open MPI "
             "gives the ranks a terminal of its own)");
}

// The options every trainer takes. Epochs, batch size and optimizer default to the model's lab
// recipe (minicnn::ZooModel) when it gives one, else to the trainer's defaults given here.
inline void add_training_options(CommandLine& cli, const std::string& default_model,
                                 const std::string& default_epochs,
                                 const std::string& default_batch) {
  cli.option("model", default_model, "a model of minicnn::model_zoo() (docs/experiments.md)")
      .option("epochs", "",
              "epochs to train (none: the model's lab epochs, else " + default_epochs + ")")
      .option("batch-size", "",
              "samples per training batch (none: the lab's, else " + default_batch + ")")
      .option("optimizer", "", "adam, sgd or rmsprop, Keras defaults (none: the lab's, else adam)")
      .option("lr", "", "learning rate (default: the optimizer's Keras default)")
      .option("augment", "lab",
              "augmentation: off, flip_shift, flip_shift_rotate_zoom, or lab (the model's own)")
      .option("threads", "0", "OpenMP threads (0: all cores)")
      .option("seed", "42", "seed of weights, shuffling, dropout and augmentation")
      .option("validation-split", "0.1", "fraction of the training set held out for validation")
      .option("resume", "", "checkpoint to resume from (e.g. runs/mnist/last.mcnn)");
  add_verbose_option(cli);
  fallbacks()["epochs"] = default_epochs;
  fallbacks()["batch-size"] = default_batch;
  fallbacks()["optimizer"] = "adam";
}

// --verbose as FitOptions::verbose.
inline minicnn::Verbose verbose_option(const CommandLine& cli) {
  const std::string& text = cli.get("verbose");
  if (text == "auto") return minicnn::Verbose::automatic;
  if (text == "0") return minicnn::Verbose::silent;
  if (text == "1") return minicnn::Verbose::progress_bar;
  if (text == "2") return minicnn::Verbose::epoch_lines;
  minicnn::fail("--verbose: expected auto, 0, 1 or 2, got '", text, "'");
}

// A trainer's description followed by the models it can train, for --help.
inline std::string with_model_list(const std::string& description) {
  std::ostringstream text;
  text << description << "\n\nModels (--model), as minicnn::model_zoo() registers them:\n";
  for (const auto& entry : minicnn::model_zoo<float>())
    text << "  " << std::left << std::setw(24) << entry.name << entry.description << '\n';
  text << "\nAugmentation (--augment): off, flip_shift (horizontal flip, 10 % shifts),\n"
          "flip_shift_rotate_zoom (the same + rotation 10 degrees + zoom 0.2), or lab: the\n"
          "model's own (docs/experiments.md), which may be none of these.";
  return text.str();
}

// The recipe a run uses: the command line's values, else the model's lab recipe, else the
// trainer's defaults.
struct Recipe {
  minicnn::Index epochs = 0;
  minicnn::Index batch_size = 0;
  std::string optimizer;
  minicnn::AugmentationSettings augmentation;
  std::string augmentation_text;  // a preset's name, else the settings, for the reports
};

// The name of the preset `settings` equals, else its settings as key=value pairs.
inline std::string augmentation_text(const minicnn::AugmentationSettings& settings) {
  for (const std::string& name : minicnn::augmentation_preset_names())
    if (minicnn::augmentation_preset(name).config() == settings.config()) return name;
  return settings.config().str();
}

inline Recipe recipe(const CommandLine& cli) {
  const auto& entry = minicnn::zoo_model<float>(cli.get("model"));
  const auto number = [&](const std::string& option, minicnn::Index lab) {
    if (!cli.get(option).empty()) return static_cast<minicnn::Index>(cli.get_int(option));
    return lab > 0 ? lab : static_cast<minicnn::Index>(std::stoll(fallbacks().at(option)));
  };
  Recipe r;
  r.epochs = number("epochs", entry.epochs);
  r.batch_size = number("batch-size", entry.batch_size);
  r.optimizer = !cli.get("optimizer").empty() ? cli.get("optimizer")
                : !entry.optimizer.empty()    ? entry.optimizer
                                              : fallbacks().at("optimizer");
  r.augmentation = cli.get("augment") == "lab" ? entry.augmentation
                                               : minicnn::augmentation_preset(cli.get("augment"));
  r.augmentation_text = augmentation_text(r.augmentation);
  return r;
}

// The named model for `classes` classes, with a RandomAugmentation layer in front when the
// settings augment (it transforms training batches only: evaluation and predictions see the
// images as they are).
inline minicnn::Sequential<float> make_model(const std::string& name, minicnn::Index classes,
                                             const minicnn::AugmentationSettings& settings) {
  using namespace minicnn;
  Sequential<float> model = zoo_model<float>(name).build(classes);
  if (!settings.active()) return model;
  Sequential<float> augmented;
  augmented.add<RandomAugmentation>(settings);
  for (Index i = 0; i < model.size(); ++i)
    augmented.add(model.layer(i).clone());
  return augmented;
}

// Keras's default learning rate of the optimizer `name`.
inline double default_learning_rate(const std::string& name) {
  if (name == "adam" || name == "rmsprop") return 1e-3;
  if (name == "sgd") return 1e-2;
  minicnn::fail("unknown optimizer '", name, "'; expected adam, sgd or rmsprop");
}

inline std::unique_ptr<minicnn::Optimizer<float>> make_optimizer(const std::string& name,
                                                                 double lr) {
  if (name == "adam") return std::make_unique<minicnn::Adam<float>>(lr);
  if (name == "sgd") return std::make_unique<minicnn::SGD<float>>(lr);
  if (name == "rmsprop") return std::make_unique<minicnn::RMSprop<float>>(lr);
  minicnn::fail("unknown optimizer '", name, "'; expected adam, sgd or rmsprop");
}

inline std::unique_ptr<minicnn::Optimizer<float>> make_optimizer(const std::string& name,
                                                                 const std::string& lr_text,
                                                                 const CommandLine& cli) {
  return make_optimizer(name, lr_text.empty() ? default_learning_rate(name) : cli.get_double("lr"));
}

inline std::string command(int argc, char** argv) {
  return CommandLine::command(argc, argv);
}

// The processor's model name, for reports.
inline std::string cpu_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// The compiler that built the trainer, for reports.
inline std::string compiler_name() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "unknown compiler";
#endif
}

inline std::string fixed(double value, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << value;
  return out.str();
}

// What a finished run hands to the report writers.
struct TrainingRun {
  std::string dataset_name, command_text;
  std::filesystem::path out;
  const minicnn::Model<float>* model = nullptr;          // a Sequential or a graph model
  const minicnn::Normalization<float>* input = nullptr;  // how images become inputs; null: scale
  const minicnn::Optimizer<float>* optimizer = nullptr;
  const minicnn::FitOptions<float>* options = nullptr;
  const minicnn::History* history = nullptr;
  const minicnn::Dataset* test = nullptr;  // the test set, in its stored order
  minicnn::Model<float>::Evaluation evaluation;
  std::string model_name, augmentation;
  int threads = 0;
  int ranks = 1;  // processes training together (mpirun -np)
  double train_seconds = 0, evaluation_seconds = 0, wall_seconds = 0;
};

// "4 OpenMP threads", and " x 2 MPI ranks" for a distributed run.
inline std::string parallelism(const TrainingRun& run) {
  std::string text = std::to_string(run.threads) + " OpenMP threads";
  if (run.ranks > 1) text += " x " + std::to_string(run.ranks) + " MPI ranks";
  return text;
}

// The optimizer, batch size, validation split, seed and augmentation, in one line.
inline std::string setup_text(const TrainingRun& run) {
  std::ostringstream text;
  text << run.optimizer->kind() << " (" << run.optimizer->config().str() << "), batch size "
       << run.options->batch_size << ", validation split " << run.options->validation_split
       << ", seed " << run.options->seed << ", augmentation: " << run.augmentation;
  return text.str();
}

// report.md: the command, the machine, the result, the model and every epoch.
inline void write_markdown_report(const TrainingRun& run) {
  using namespace minicnn;
  std::ostringstream report;
  report << "# " << run.dataset_name << ": " << run.model_name << "\n\n"
         << "Command: `" << run.command_text << "`\n\n"
         << "Machine: " << cpu_name() << ", " << parallelism(run)
         << "; compiler: " << compiler_name() << "\n\n"
         << "## Result\n\n"
         << "| test accuracy | test loss | epochs | training seconds | wall seconds |\n"
         << "| --- | --- | --- | --- | --- |\n"
         << "| " << fixed(100 * run.evaluation.accuracy, 2) << " % | "
         << fixed(run.evaluation.loss, 4) << " | " << run.options->epochs << " | "
         << fixed(run.train_seconds, 1) << " | " << fixed(run.wall_seconds, 1) << " |\n\n"
         << "## Model\n\n```\n"
         << run.model->summary() << "```\n\n"
         << "Optimizer: " << setup_text(run) << "\n\n"
         << "## Epochs\n\n| epoch | loss | accuracy | val_loss | val_accuracy | seconds |\n"
         << "| --- | --- | --- | --- | --- | --- |\n";
  for (const EpochLogs& e : run.history->epochs)
    report << "| " << e.epoch + 1 << " | " << fixed(e.loss, 4) << " | "
           << fixed(100 * e.accuracy, 2) << " % | "
           << (e.has_validation ? fixed(e.val_loss, 4) : "-") << " | "
           << (e.has_validation ? fixed(100 * e.val_accuracy, 2) + " %" : "-") << " | "
           << fixed(e.seconds, 1) << " |\n";
  write_file_atomically((run.out / "report.md").string(), report.str(), "report.md");
}

// report.html and its pictures (visual/run_report.hpp): the same facts as report.md plus the
// curves and what the model does on the test set, from one predict() over it.
inline minicnn::RunReportFiles write_html_report(const TrainingRun& run) {
  using namespace minicnn;
  RunSummary summary;
  summary.title = run.dataset_name + ": " + run.model_name;
  summary.setup = {{"command", run.command_text},
                   {"machine", cpu_name() + ", " + parallelism(run)},
                   {"compiler", compiler_name()},
                   {"optimizer", setup_text(run)}};
  summary.test_loss = run.evaluation.loss;
  summary.test_accuracy = run.evaluation.accuracy;
  summary.epochs = run.options->epochs;
  summary.training_seconds = run.train_seconds;
  summary.wall_seconds = run.wall_seconds;
  summary.timings = {{"training", run.train_seconds},
                     {"evaluation", run.evaluation_seconds},
                     {"wall (start to saved model)", run.wall_seconds}};
  return write_run_report(run.out.string(), summary, *run.model, *run.history, *run.test,
                          run.input != nullptr ? *run.input : Normalization<float>::scale());
}

// Every report of a finished run: report.md, then report.html and its PNG files. Returns the
// names of the files written.
inline std::vector<std::string> write_reports(const TrainingRun& run) {
  write_markdown_report(run);
  std::vector<std::string> names = {"report.md"};
  const minicnn::RunReportFiles html = write_html_report(run);
  names.insert(names.end(), html.names.begin(), html.names.end());
  std::cout << "Report: " << fixed(html.seconds, 1)
            << " s (test-set predictions, analyses, pictures)\n";
  return names;
}

// out/augmentation.png: the first 8 training images (one per row), each followed by 7 augmented
// variants, to see what the preset does before trusting it with a long run.
inline void write_augmentation_preview(const CommandLine& cli, const minicnn::Dataset& train,
                                       const Recipe& plan) {
  using namespace minicnn;
  const Tensor<std::uint8_t> samples =
      augmentation_samples(train, std::min<Index>(8, train.size()), 7, plan.augmentation,
                           static_cast<std::uint64_t>(cli.get_int("seed")));
  GridOptions grid;
  grid.columns = 8;
  grid.zoom = 2;
  grid.scaling = Scaling::as_is;
  const std::filesystem::path path = std::filesystem::path(cli.get("out")) / "augmentation.png";
  write_png(path.string(), image_grid(samples, grid));
  std::cout << "Augmentation " << plan.augmentation_text << ": " << path.string() << '\n';
}

// Trains the named model on `train` (holding out the validation split), evaluates on `test`,
// saves the model, the last checkpoint and the history under --out, and writes the reports
// (report.md, report.html and its PNG files).
// Epochs, batch size, optimizer and augmentation follow recipe().
//
// In a job of K ranks (job.hpp), every rank trains (the batch size is the global one: each rank
// takes its share of every batch) and rank 0 alone prints, evaluates and writes the files; every
// rank reads --resume, so on several machines the file must be where each can read it.
inline int train_and_report(const Job& job, const CommandLine& cli, const std::string& command_text,
                            const std::string& dataset_name, const minicnn::Dataset& train,
                            const minicnn::Dataset& test) {
  using namespace minicnn;
  const auto wall_start = std::chrono::steady_clock::now();
  if (cli.get_int("threads") > 0) omp_set_num_threads(static_cast<int>(cli.get_int("threads")));
  const int threads = omp_get_max_threads();
  const std::filesystem::path out = cli.get("out");
  if (job.root()) std::filesystem::create_directories(out);
  std::ostream silent(nullptr);  // discards what the other ranks would print
  std::ostream& log = job.root() ? std::cout : silent;

  const Recipe plan = recipe(cli);
  Sequential<float> model = make_model(cli.get("model"), train.classes, plan.augmentation);
  model.build(train.sample_shape(), static_cast<std::uint64_t>(cli.get_int("seed")));
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  auto optimizer = make_optimizer(plan.optimizer, cli.get("lr"), cli);
  log << model.summary() << '\n';

  FitOptions<float> options;
  options.epochs = plan.epochs;
  options.batch_size = plan.batch_size;
  options.seed = static_cast<std::uint64_t>(cli.get_int("seed"));
  options.validation_split = cli.get_double("validation-split");
  options.verbose = verbose_option(cli);
  if (!cli.get("resume").empty()) {
    options.initial_epoch = model.restore(cli.get("resume"), optimizer.get());
    log << "Resuming after epoch " << options.initial_epoch << " from " << cli.get("resume")
        << '\n';
  }
  if (plan.augmentation.active() && job.root()) write_augmentation_preview(cli, train, plan);
  ModelCheckpoint<float> last((out / "last.mcnn").string());  // written by rank 0 only
  options.callbacks = {&last};
  options.collective = job.collective();

  const auto scale = Normalization<float>::scale();
  const auto train_start = std::chrono::steady_clock::now();
  const History history = model.fit(Samples<float>(train, scale), *optimizer, options);
  const double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
  if (!job.root()) return history.interrupted ? 130 : 0;  // rank 0 evaluates and reports
  history.write_csv((out / "history.csv").string());
  history.write_json((out / "history.json").string());
  if (history.interrupted) {
    std::cout << "Interrupted: " << (out / "last.mcnn").string()
              << " holds the last completed epoch; resume with --resume.\n";
    return 130;
  }

  const auto test_start = std::chrono::steady_clock::now();
  const auto evaluation = model.evaluate(Samples<float>(test, scale), 256);
  const double test_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - test_start).count();
  model.save((out / "model.mcnn").string());
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  std::cout << "Test loss: " << fixed(evaluation.loss, 4)
            << " - test accuracy: " << fixed(100 * evaluation.accuracy, 2) << " % (" << test.size()
            << " images, " << fixed(test_seconds, 1) << " s)\n"
            << "Training: " << fixed(train_seconds, 1)
            << " s, wall time: " << fixed(wall_seconds, 1) << " s, " << threads << " threads\n";

  TrainingRun run;
  run.dataset_name = dataset_name;
  run.command_text =
      (job.size() > 1 ? "mpirun -np " + std::to_string(job.size()) + " " : "") + command_text;
  run.out = out;
  run.model = &model;
  run.optimizer = optimizer.get();
  run.options = &options;
  run.history = &history;
  run.test = &test;
  run.evaluation = evaluation;
  run.model_name = cli.get("model");
  run.augmentation = plan.augmentation_text;
  run.threads = threads;
  run.ranks = job.size();
  run.train_seconds = train_seconds;
  run.evaluation_seconds = test_seconds;
  run.wall_seconds = wall_seconds;
  std::string written = "model.mcnn,last.mcnn,history.csv,history.json";
  if (plan.augmentation.active()) written += ",augmentation.png";
  for (const std::string& name : write_reports(run))
    written += "," + name;
  std::cout << "Wrote " << out.string() << "/{" << written << "}\n";
  return 0;
}

}  // namespace examples
