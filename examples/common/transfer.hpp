// What the trainers that start from a pretrained backbone share (cats_vs_dogs --backbone,
// cifar10_transfer): the backbone read from an ONNX file and checked, its preprocessing by name,
// and the two workflows of minicnn/model/transfer.hpp run and reported as the other trainers'
// runs are (report.md, report.html and its pictures; common/training.hpp):
//
//   --mode features   the backbone, cut at its features and frozen, runs once over every image;
//                     a small classifier (Dense(K), Softmax; --hidden adds a hidden layer) trains
//                     on the features; the report's model is the whole pipeline on images.
//   --mode finetune   the backbone with a new head for K classes trains on the images, frozen
//                     below --unfreeze-from, with a lower learning rate (--lr, default 1e-4).
//
// The ONNX reader is the optional component minicnn::onnx: a trainer built without it refuses
// --backbone with the reason.
#pragma once

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "common/command_line.hpp"
#include "common/job.hpp"
#include "common/training.hpp"
#include "minicnn/data/image_resize.hpp"
#include "minicnn/minicnn.hpp"
#include "minicnn/model/transfer.hpp"
#if defined(MINICNN_HAS_ONNX)
#include "minicnn/onnx/import.hpp"
#endif

namespace examples {

// The backbone options; `unfreeze_default` is the lab's choice ("all" for the ResNet50 lab).
inline void add_backbone_options(CommandLine& cli, const std::string& mode_default,
                                 const std::string& unfreeze_default) {
  cli.option("backbone", "", "an ONNX file of a pretrained backbone (docs/transfer.md)")
      .option("mode", mode_default,
              "with --backbone: features (frozen backbone run once, classifier on its features) "
              "or finetune (the backbone with a new head; --lr defaults to a tenth of the "
              "optimizer's default)")
      .option("features", "gap",
              "how the backbone's last feature map becomes a vector: gap (average) or flatten")
      .option("cut", "",
              "the backbone layer to cut at (none: its last global average pool, or what its "
              "last Dense reads; with --features flatten, the map before it)")
      .option("unfreeze-from", unfreeze_default,
              "finetune: the first backbone layer that trains; all: every one; none: only the "
              "new head")
      .option("preprocess", "torch",
              "the backbone's input: torch (torchvision's ImageNet mean/std: PyTorch exports), "
              "caffe or tf (Keras's preprocess_input modes), scale (p / 255)")
      .option("hidden", "0", "units of a hidden Dense layer (ReLU, Dropout 0.5) in the new head");
}

// The backbone of --backbone: an ONNX model of (3, H, W) images.
inline minicnn::Model<float> load_backbone(const std::string& path) {
  using namespace minicnn;
#if defined(MINICNN_HAS_ONNX)
  if (!std::filesystem::is_regular_file(path))
    fail("--backbone: expected an ONNX file, got '", path, "', which ",
         std::filesystem::exists(path) ? "is not a regular file" : "does not exist");
  Model<float> backbone = load_onnx(path);
  const Shape& shape = backbone.input_shape();
  if (shape.rank() != 3 || shape[0] != 3)
    fail("--backbone '", path, "': expected a model of 3-channel images (3, H, W), got one of ",
         "samples of shape ", shape);
  return backbone;
#else
  fail("--backbone '", path,
       "': this program was built without the ONNX component minicnn::onnx, which reads it "
       "(Debian's libonnx-dev and libprotobuf-dev, then configure and build again)");
#endif
}

// --preprocess by name.
inline minicnn::Normalization<float> backbone_input(const std::string& name) {
  if (name == "scale") return minicnn::Normalization<float>::scale();
  return minicnn::Normalization<float>::preprocess_input(name);
}

// Every image of `data` resized to size x size (area averaging or bilinear, data/image_resize.hpp).
inline minicnn::Dataset resized(const minicnn::Dataset& data, minicnn::Index size) {
  using namespace minicnn;
  if (data.images.dim(2) == size && data.images.dim(3) == size) return data;
  Dataset out;
  out.labels = data.labels;
  out.classes = data.classes;
  out.class_names = data.class_names;
  const Index channels = data.images.dim(1), height = data.images.dim(2),
              width = data.images.dim(3);
  out.images.resize({data.size(), channels, size, size});
#pragma omp parallel for schedule(static)
  for (Index n = 0; n < data.size(); ++n) {
    Image image(width, height, static_cast<int>(channels));
    const std::uint8_t* planes = data.images.data() + n * channels * height * width;
    for (Index i = 0; i < height * width; ++i)
      for (Index c = 0; c < channels; ++c)
        image.data()[i * channels + c] = planes[c * height * width + i];
    resize_image(image, size, size, out.images.data() + n * channels * size * size);
  }
  return out;
}

// Trains on `train` from the backbone as --mode says, evaluates on `test`, saves the model that
// classifies images (model.mcnn) and the history, and writes the reports. Rank 0 alone writes.
inline int train_from_backbone(const Job& job, const CommandLine& cli,
                               const std::string& command_text, const std::string& dataset_name,
                               const minicnn::Model<float>& backbone, const minicnn::Dataset& train,
                               const minicnn::Dataset& test) {
  using namespace minicnn;
  const auto wall_start = std::chrono::steady_clock::now();
  if (cli.get_int("threads") > 0) omp_set_num_threads(static_cast<int>(cli.get_int("threads")));
  const int threads = omp_get_max_threads();
  const std::filesystem::path out = cli.get("out");
  if (job.root()) std::filesystem::create_directories(out);
  std::ostream silent(nullptr);
  std::ostream& log = job.root() ? std::cout : silent;
  const auto seconds_since = [](std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };

  const std::string mode = cli.get("mode"), features = cli.get("features");
  if (mode != "features" && mode != "finetune")
    fail("--mode: expected features or finetune, got '", mode, "'");
  if (features != "gap" && features != "flatten")
    fail("--features: expected gap or flatten, got '", features, "'");
  const Normalization<float> input = backbone_input(cli.get("preprocess"));
  const auto seed = static_cast<std::uint64_t>(cli.get_int("seed"));

  TransferOptions options;
  options.input_shape = train.sample_shape();
  options.pooling = features == "gap" ? FeaturePooling::average : FeaturePooling::flatten;
  options.cut = !cli.get("cut").empty() ? cli.get("cut")
                : features == "flatten" ? feature_map_layer(backbone)
                                        : "";
  options.classes = train.classes;
  options.hidden_units = cli.get_int("hidden");
  options.dropout = options.hidden_units > 0 ? 0.5 : 0.0;

  FitOptions<float> fit;
  fit.epochs = cli.get("epochs").empty() ? 10 : cli.get_int("epochs");
  fit.batch_size = cli.get("batch-size").empty() ? 32 : cli.get_int("batch-size");
  fit.seed = seed;
  fit.validation_split = cli.get_double("validation-split");
  fit.verbose = verbose_option(cli);
  fit.collective = job.collective();
  const std::string optimizer_name = cli.get("optimizer").empty() ? "adam" : cli.get("optimizer");
  // Fine-tuning moves pretrained weights: by default 10 times more slowly than Keras's default.
  // (Written out rather than divided, so that the report shows 0.0001, not 1e-3 / 10's digits.)
  const double keras = default_learning_rate(optimizer_name);
  const double lr = !cli.get("lr").empty() ? cli.get_double("lr")
                    : mode == "finetune"   ? (keras == 1e-2 ? 1e-3 : 1e-4)
                                           : keras;
  auto optimizer = make_optimizer(optimizer_name, lr);

  Model<float> model;  // what classifies images: the report's and model.mcnn's
  History history;
  std::string augmentation = "off";
  const auto train_start = std::chrono::steady_clock::now();
  if (mode == "features") {
    TransferOptions extract = options;
    extract.classes = 0;
    const Model<float> extractor = transfer_model(backbone, extract, seed);
    const auto start = std::chrono::steady_clock::now();
    const Features<float> train_features = extract_features(extractor, train, input, 64);
    log << "Features: " << train.size() << " images -> " << extractor.output_shape()
        << " each, cut at '" << (options.cut.empty() ? feature_layer(backbone) : options.cut)
        << "' (" << fixed(seconds_since(start), 1) << " s)\n";
    Model<float> head = head_model<float>(train_features.x.shape().sample(), options, seed);
    head.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
    log << head.summary() << '\n';
    history = head.fit(train_features.x, train_features.y, *optimizer, fit);
    model = transfer_model(backbone, options, seed);
    model.load_weights(head.checkpoint(), Match::by_name);
    model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  } else {
    const std::string augment = cli.get("augment");
    if (augment != "off" && augment != "lab") {
      options.augmentation = augmentation_preset(augment);
      augmentation = augment;
    }
    const std::string from = cli.get("unfreeze-from");
    options.trainable_from = from == "none" || from == "all" ? "" : from;
    model = transfer_model(backbone, options, seed);
    if (from == "all")
      for (Index i = 0; i < model.size(); ++i)
        model.layer(i).set_trainable(true);
    model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
    log << model.summary() << '\n';
    history = model.fit(Samples<float>(train, input), *optimizer, fit);
  }
  const double train_seconds = seconds_since(train_start);
  if (!job.root()) return history.interrupted ? 130 : 0;
  history.write_csv((out / "history.csv").string());
  history.write_json((out / "history.json").string());
  if (history.interrupted) return 130;

  const auto test_start = std::chrono::steady_clock::now();
  const auto evaluation = model.evaluate(Samples<float>(test, input), 64);
  const double test_seconds = seconds_since(test_start);
  model.save((out / "model.mcnn").string());
  const double wall_seconds = seconds_since(wall_start);
  std::cout << "Test loss: " << fixed(evaluation.loss, 4)
            << " - test accuracy: " << fixed(100 * evaluation.accuracy, 2) << " % (" << test.size()
            << " images, " << fixed(test_seconds, 1) << " s)\n"
            << "Training: " << fixed(train_seconds, 1)
            << " s, wall time: " << fixed(wall_seconds, 1) << " s, " << threads << " threads\n";

  TrainingRun run;
  run.dataset_name = dataset_name;
  run.command_text = command_text;
  run.out = out;
  run.model = &model;
  run.input = &input;
  run.optimizer = optimizer.get();
  run.options = &fit;
  run.history = &history;
  run.test = &test;
  run.evaluation = evaluation;
  run.model_name = std::filesystem::path(cli.get("backbone")).filename().string() + ", " + mode +
                   (mode == "features" ? " (" + features + ")" : "");
  run.augmentation = augmentation;
  run.threads = threads;
  run.ranks = job.size();
  run.train_seconds = train_seconds;
  run.evaluation_seconds = test_seconds;
  run.wall_seconds = wall_seconds;
  std::string written = "model.mcnn,history.csv,history.json";
  for (const std::string& name : write_reports(run))
    written += "," + name;
  std::cout << "Wrote " << out.string() << "/{" << written << "}\n";
  return 0;
}

}  // namespace examples
