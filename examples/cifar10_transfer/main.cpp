// cifar10_transfer: fine-tunes a pretrained backbone on CIFAR-10 (the ResNet50 part, section 4,
// of the Keras/PyTorch lab): its classifier replaced by a 10-class head, trained with and without
// augmentation, reported as the other trainers' runs are.
//
//   cifar10_transfer --backbone resnet50.onnx --out runs/resnet50_cifar10             (MyResNet)
//   cifar10_transfer --backbone resnet50.onnx --augment flip_shift --out runs/resnet50_da
//                                                                                   (MyResNetDA)
//
// The lab gives ResNet50 CIFAR-10's own 32x32 images (Keras's input_shape=(32, 32, 3)) and trains
// every layer; --size upsizes the images first (bilinear), --unfreeze-from freezes the layers
// below one, --mode features trains a classifier on the frozen backbone's features instead.
// Writes model.mcnn, history.csv, history.json, report.md, report.html and its pictures into
// --out (common/transfer.hpp).
#include <iostream>

#include "common/command_line.hpp"
#include "common/job.hpp"
#include "common/training.hpp"
#include "common/transfer.hpp"
#include "minicnn/minicnn.hpp"

using namespace minicnn;

int run(const examples::Job& job, int argc, char** argv) {
  examples::CommandLine cli(
      "cifar10_transfer",
      "Fine-tunes a pretrained backbone (an ONNX file: torchvision's ResNet50, docs/transfer.md)\n"
      "on CIFAR-10 (scripts/fetch_data.sh cifar10) with a new 10-class head.");
  cli.option("data-dir", data_dir(), "directory holding cifar-10-batches-bin/ (or its files)")
      .option("size", "32", "the side in pixels the 32x32 images are resized to (the lab: 32)")
      .option("epochs", "10", "epochs to train")
      .option("batch-size", "32", "samples per training batch")
      .option("optimizer", "adam", "adam, sgd or rmsprop, Keras defaults")
      .option("lr", "", "learning rate (default: finetune a tenth of the optimizer's default)")
      .option("augment", "off",
              "augmentation: off, flip_shift (the lab's MyResNetDA: model9's flip and 10 % "
              "shifts) or flip_shift_rotate_zoom")
      .option("threads", "0", "OpenMP threads (0: all cores)")
      .option("seed", "42", "seed of the head's weights, shuffling, dropout and augmentation")
      .option("validation-split", "0.1", "fraction of the training set held out for validation")
      .option("out", "runs/cifar10_transfer", "directory for the model, history and report");
  examples::add_verbose_option(cli);
  examples::add_backbone_options(cli, "finetune", "all");
  if (!cli.parse(argc, argv)) return 0;
  if (cli.get("backbone").empty())
    fail(
        "cifar10_transfer: expected --backbone FILE.onnx, the pretrained network to start from "
        "(docs/transfer.md says how to make resnet50.onnx)");

  const Model<float> backbone = examples::load_backbone(cli.get("backbone"));
  const Index size = cli.get_int("size");
  if (size < 1) fail("--size: expected a side of at least 1 pixel, got ", size);
  const Dataset train = examples::resized(load_cifar10(cli.get("data-dir"), Split::train), size);
  const Dataset test = examples::resized(load_cifar10(cli.get("data-dir"), Split::test), size);
  return examples::train_from_backbone(job, cli, examples::command(argc, argv), "CIFAR-10",
                                       backbone, train, test);
}

int main(int argc, char** argv) {
  examples::Job job(argc, argv);  // one of the ranks when started by mpirun
  try {
    return run(job, argc, argv);
  } catch (const std::exception& error) {
    return job.fail("cifar10_transfer", error);
  }
}
