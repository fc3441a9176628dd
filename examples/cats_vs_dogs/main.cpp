// cats_vs_dogs: trains a CNN from scratch on a folder of photos with one sub-folder per class
// (the cats-vs-dogs lab: Kaggle's "Dogs vs. Cats" photos sorted into cat/ and dog/) and reports
// how it did.
//
//   cats_vs_dogs --data-dir data/cats_vs_dogs --size 64 --out runs/cats_vs_dogs_64
//   cats_vs_dogs --size 32 --augment flip_shift_rotate_zoom --epochs 5
//
// The folder is read by load_image_folder (data/image_folder.hpp, docs/data.md): every photo
// resized to --size x --size, --test-split of the files held out as the test set (seeded: the
// lab's own test photos carry no labels), unreadable files skipped and listed. Then it trains
// like the other trainers (examples/common/training.hpp): --validation-split of the rest for
// validation, the model, optimizer and augmentation by name, and the same outputs in --out
// (model.mcnn, last.mcnn, history.csv, history.json, report.md, report.html and its pictures).
//
// With --backbone FILE.onnx it starts from a pretrained network instead (common/transfer.hpp,
// docs/transfer.md), as the lab's part 2 d does with Xception: --mode features (the frozen
// backbone's features computed once, --features gap or flatten, a small classifier trained on
// them) or --mode finetune (--unfreeze-from LAYER, --lr). The photos are resized to the
// backbone's input size unless --size says otherwise, and made into its inputs by --preprocess.
//
//   cats_vs_dogs --backbone xception.onnx --preprocess tf --mode features --features gap
//   cats_vs_dogs --backbone resnet50.onnx --mode finetune --unfreeze-from layer4 --lr 1e-4
#include <iostream>

#include "common/command_line.hpp"
#include "common/job.hpp"
#include "common/training.hpp"
#include "common/transfer.hpp"
#include "minicnn/data/image_folder.hpp"
#include "minicnn/minicnn.hpp"

using namespace minicnn;

int run(const examples::Job& job, int argc, char** argv) {
  examples::CommandLine cli(
      "cats_vs_dogs",
      examples::with_model_list(
          "Trains a CNN from scratch on a folder of JPEG or PNG photos, one sub-folder per "
          "class\n(cat/, dog/, ...; docs/data.md, \"Image folders\"). The models below are built "
          "for the\nchosen size and 3 channels."));
  examples::add_training_options(cli, "cifar10_model7", "20", "32");
  cli.option("data-dir", data_dir() + "/cats_vs_dogs", "the folder of class folders")
      .option("size", "",
              "the side in pixels every photo is resized to (the lab: 32 and 64; none: 64, or "
              "the backbone's input size)")
      .option("test-split", "0.2", "fraction of the photos held out as the test set (seeded)")
      .option("max-memory-gib", "2",
              "bound on the decoded photos held in memory (N x 3 x size x size bytes); the "
              "loader refuses a folder above it before decoding anything")
      .option("out", "runs/cats_vs_dogs", "directory for the model, history and report");
  examples::add_backbone_options(cli, "features", "none");
  if (!cli.parse(argc, argv)) return 0;

  // The backbone first: a wrong file is refused before any photo is decoded.
  const bool transfer = !cli.get("backbone").empty();
  const Model<float> backbone =
      transfer ? examples::load_backbone(cli.get("backbone")) : Model<float>();
  ImageFolderOptions options;
  if (!cli.get("size").empty())
    options.height = options.width = static_cast<Index>(cli.get_int("size"));
  else if (transfer) {
    options.height = backbone.input_shape()[1];
    options.width = backbone.input_shape()[2];
  } else {
    options.height = options.width = 64;
  }
  options.validation_split = cli.get_double("test-split");
  const double max_gib = cli.get_double("max-memory-gib");
  if (!(max_gib > 0)) fail("cats_vs_dogs: expected --max-memory-gib > 0, got ", max_gib);
  options.max_bytes = static_cast<std::uint64_t>(max_gib * double(std::uint64_t{1} << 30));
  options.seed = static_cast<std::uint64_t>(cli.get_int("seed"));
  options.bad_images = BadImages::skip;
  const ImageFolder photos = load_image_folder(cli.get("data-dir"), options);
  if (job.root()) std::cout << photos.report.summary() << "(the held-out part is the test set)\n";
  if (transfer)
    return examples::train_from_backbone(job, cli, examples::command(argc, argv), "Cats vs dogs",
                                         backbone, photos.training, photos.validation);
  return examples::train_and_report(job, cli, examples::command(argc, argv), "Cats vs dogs",
                                    photos.training, photos.validation);
}

int main(int argc, char** argv) {
  examples::Job job(argc, argv);  // one of the ranks when started by mpirun
  try {
    return run(job, argc, argv);
  } catch (const std::exception& error) {
    return job.fail("cats_vs_dogs", error);
  }
}
