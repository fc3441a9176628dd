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
#include <iostream>

#include "common/command_line.hpp"
#include "common/job.hpp"
#include "common/training.hpp"
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
      .option("size", "64", "the side in pixels every photo is resized to (the lab: 32 and 64)")
      .option("test-split", "0.2", "fraction of the photos held out as the test set (seeded)")
      .option("out", "runs/cats_vs_dogs", "directory for the model, history and report");
  if (!cli.parse(argc, argv)) return 0;

  ImageFolderOptions options;
  options.height = options.width = static_cast<Index>(cli.get_int("size"));
  options.validation_split = cli.get_double("test-split");
  options.seed = static_cast<std::uint64_t>(cli.get_int("seed"));
  options.bad_images = BadImages::skip;
  const ImageFolder photos = load_image_folder(cli.get("data-dir"), options);
  if (job.root()) std::cout << photos.report.summary() << "(the held-out part is the test set)\n";
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
