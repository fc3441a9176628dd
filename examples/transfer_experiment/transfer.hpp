// The transfer experiment (issue 15, docs/experiments.md "Transfer learning on the data sets
// here"): a backbone pretrained on one data set (the source, e.g. MNIST's 60,000 digits), then
// another data set with few labels (the target, e.g. 1,000 Fashion-MNIST images) learnt three
// ways, each ending with a model from images to class probabilities:
//
//   (a) scratch:     the same architecture, randomly initialised, trained on the few labels;
//   (b) features:    the pretrained backbone frozen, its pooled features computed once for the
//                    labelled images, a new Dense head trained on them (Keras's "fast feature
//                    extraction"); the head then goes under the backbone, so the arm is evaluated
//                    on images like the others;
//   (c) fine-tuning: the pretrained backbone under a new head; the head trained first with the
//                    backbone frozen, then every layer at a lower learning rate (the recipe of
//                    Keras's transfer-learning guide).
//
// Every arm trains for the same number of passes over the labelled images (Settings::epochs)
// with Adam, no validation split (the labelled images are few; the target's test set measures
// each arm once, after training, so no choice is made on it). Everything is built from the
// library's ordinary operations: the zoo's cifar_resnet, sub_model("avgpool") for the features,
// a checkpoint without the head moved by load_weights(Match::by_name), set_trainable, fit.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/minicnn.hpp"

namespace transfer {

using minicnn::Index;

// What the arms share. The defaults are the recorded run's (docs/experiments.md).
struct Settings {
  Index depth = 8;                        // cifar_resnet's depth, 6n + 2
  Index epochs = 20;                      // passes over the labelled images, in every arm
  Index head_epochs = 5;                  // (c): the first of those train the head only
  Index batch_size = 32;                  // Keras's default
  double learning_rate = 1e-3;            // Adam (Keras's default): (a), (b), (c)'s head phase
  double fine_tune_learning_rate = 1e-4;  // (c) once every layer trains: a tenth
  std::uint64_t seed = 42;                // the labelled choice, new weights, shuffling
  minicnn::Verbose verbose = minicnn::Verbose::automatic;
  std::ostream* output = &std::cout;  // fit()'s progress
};

// One arm's outcome: the model from images to probabilities, ready to evaluate.
struct Arm {
  Arm(std::string arm_name, minicnn::Model<float> arm_model)
      : name(std::move(arm_name)), model(std::move(arm_model)) {}

  std::string name;  // "scratch", "features", "fine_tune"
  minicnn::Model<float> model;
  minicnn::History history;  // every epoch; (c)'s two phases one after the other
  std::unique_ptr<minicnn::Optimizer<float>> optimizer;  // as it ended, for the report
  minicnn::FitOptions<float> options;                    // the last fit()'s, for the report
  double train_seconds = 0.0;                            // (b): the features' computation included
  double feature_seconds = 0.0;  // (b): the backbone over the labelled images, once
};

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The indices of `count` samples of `data`, as equal a share of every class as `count` allows
// (count / classes each, and one more for the first count % classes classes), drawn without
// replacement: each class's samples are shuffled by one Random(seed) stream, class after class,
// and the first ones taken. Returned in the data set's order. A few labels are only a fair test
// of transfer when every class has its share: a plain random draw of 100 images may hold 5 of
// one class and 15 of another.
inline std::vector<Index> balanced_choice(const minicnn::Dataset& data, Index count,
                                          std::uint64_t seed) {
  if (data.classes <= 0 || count < data.classes || count > data.size())
    minicnn::fail("balanced_choice: expected a count in [", data.classes, ", ", data.size(),
                  "] (at least one image of each of the ", data.classes,
                  " classes, at most the data set's), got ", count);
  std::vector<std::vector<Index>> by_class(static_cast<std::size_t>(data.classes));
  for (Index i = 0; i < data.size(); ++i)
    by_class[static_cast<std::size_t>(data.labels[i])].push_back(i);
  minicnn::Random random(seed);
  std::vector<Index> chosen;
  for (Index k = 0; k < data.classes; ++k) {
    auto& samples = by_class[static_cast<std::size_t>(k)];
    const Index share = count / data.classes + (k < count % data.classes ? 1 : 0);
    if (static_cast<Index>(samples.size()) < share)
      minicnn::fail("balanced_choice: expected at least ", share, " images of class ", k,
                    " (its share of ", count, "), the data set has ", samples.size());
    random.shuffle(samples);
    chosen.insert(chosen.end(), samples.begin(), samples.begin() + share);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

// The architecture of every arm and of the pretraining: cifar_resnet(depth) on the data's sample
// shape, whose layers "avgpool" (the pooled features), "fc" (the head) and "softmax" end it.
inline minicnn::Model<float> resnet(const Settings& s, const minicnn::Shape& sample, Index classes,
                                    std::uint64_t seed) {
  minicnn::Model<float> model = minicnn::cifar_resnet<float>(s.depth, classes, true, sample, seed);
  model.set_loss(std::make_unique<minicnn::SparseCategoricalCrossentropy<float>>());
  return model;
}

inline minicnn::FitOptions<float> fit_options(const Settings& s, Index epochs) {
  minicnn::FitOptions<float> options;
  options.epochs = epochs;
  options.batch_size = s.batch_size;
  options.seed = s.seed;
  options.verbose = s.verbose;
  options.output = s.output;
  return options;
}

// The backbone of a model of resnet()'s architecture: every layer up to the pooled features, as a
// checkpoint without the head (the sub-model's), which load_weights by name puts under a new one.
inline minicnn::Checkpoint<float> backbone_of(const minicnn::Model<float>& pretrained) {
  return pretrained.sub_model("avgpool", "backbone").checkpoint();
}

// resnet()'s architecture for the target with the backbone's weights and moving statistics, and a
// new head ("fc") initialised from s.seed. Every layer of the backbone must find its namesake and
// every layer but the head must be filled: anything else means the backbone is of another
// architecture (another depth or input), which load_weights by name alone would not notice.
inline minicnn::Model<float> with_backbone(const minicnn::Checkpoint<float>& backbone,
                                           const Settings& s, const minicnn::Shape& sample,
                                           Index classes) {
  minicnn::Model<float> model = resnet(s, sample, classes, s.seed);
  const auto loaded =
      model.load_weights(backbone, minicnn::Match::by_name, minicnn::OnMismatch::fail);
  const std::size_t expected = static_cast<std::size_t>(model.size() - 2);  // not fc, softmax
  if (loaded.size() != backbone.layers.size() || loaded.size() != expected)
    minicnn::fail("transfer: expected a backbone of cifar_resnet(", s.depth, ") on ", sample,
                  " with ", expected, " layers, got one with ", backbone.layers.size(),
                  " layers on ", backbone.input_shape, " of which ", loaded.size(),
                  " found their namesake");
  return model;
}

// Freezes (or unfreezes) every layer but the head.
inline void set_backbone_trainable(minicnn::Model<float>& model, bool trainable) {
  for (Index i = 0; i < model.size(); ++i)
    if (model.layer(i).name() != "fc" && model.layer(i).name() != "softmax")
      model.layer(i).set_trainable(trainable);
}

// (a) The architecture from random weights (seed s.seed) on the labelled images.
inline Arm from_scratch(const minicnn::Dataset& labelled, const Settings& s) {
  using namespace minicnn;
  Arm arm("scratch", resnet(s, labelled.sample_shape(), labelled.classes, s.seed));
  arm.optimizer = std::make_unique<Adam<float>>(s.learning_rate);
  arm.options = fit_options(s, s.epochs);
  const auto start = std::chrono::steady_clock::now();
  arm.history = arm.model.fit(labelled, Normalization<float>::scale(), *arm.optimizer, arm.options);
  arm.train_seconds = seconds_since(start);
  return arm;
}

// (b) The backbone frozen; its pooled features (N, F) of the labelled images computed once in
// inference mode (sub_model("avgpool").predict); a head input (F) -> Dense "fc" -> Softmax
// "softmax" trained on them; then the trained head moved under the frozen backbone by name. The
// backbone is never trained: only predict() runs it, so its weights and moving statistics stay
// the checkpoint's bit for bit (tests/test_transfer_experiment.cpp).
inline Arm feature_extraction(const minicnn::Checkpoint<float>& backbone,
                              const minicnn::Dataset& labelled, const Settings& s) {
  using namespace minicnn;
  Arm arm("features", with_backbone(backbone, s, labelled.sample_shape(), labelled.classes));
  set_backbone_trainable(arm.model, false);
  const auto start = std::chrono::steady_clock::now();
  Tensor<float> x, y;
  to_tensors(labelled, Normalization<float>::scale(), x, y);
  const Tensor<float> features = arm.model.sub_model("avgpool").predict(x, 256);
  arm.feature_seconds = seconds_since(start);

  Model<float> head;
  const Node input = head.input(features.shape().sample(), "features");
  auto fc = std::make_unique<Dense<float>>(labelled.classes);
  fc->set_name("fc");
  auto softmax = std::make_unique<Softmax<float>>();
  softmax->set_name("softmax");
  head.build(head.add(std::move(softmax), head.add(std::move(fc), input)), s.seed);
  head.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  arm.optimizer = std::make_unique<Adam<float>>(s.learning_rate);
  arm.options = fit_options(s, s.epochs);
  arm.history = head.fit(features, y, *arm.optimizer, arm.options);
  arm.train_seconds = seconds_since(start);
  arm.model.load_weights(head.checkpoint(), Match::by_name, OnMismatch::fail);
  return arm;
}

// (c) The backbone under a new head: s.head_epochs epochs of the head alone (backbone frozen,
// its BatchNorm layers in inference mode) at s.learning_rate, so that a random head's large
// gradients do not reach the pretrained weights, then every layer for the remaining epochs at
// s.fine_tune_learning_rate. One Adam throughout: the head keeps its moments, the backbone's
// parameters join with zero state (optimizers/slot_table.hpp).
inline Arm fine_tuning(const minicnn::Checkpoint<float>& backbone, const minicnn::Dataset& labelled,
                       const Settings& s) {
  using namespace minicnn;
  if (s.head_epochs < 0 || s.head_epochs >= s.epochs)
    fail("fine_tuning: expected head epochs in [0, ", s.epochs, ") (some epochs must train every ",
         "layer), got ", s.head_epochs);
  Arm arm("fine_tune", with_backbone(backbone, s, labelled.sample_shape(), labelled.classes));
  arm.optimizer = std::make_unique<Adam<float>>(s.learning_rate);
  arm.options = fit_options(s, s.epochs);
  arm.options.initial_epoch = s.head_epochs;  // the epochs go on counting, and shuffling
  const auto scale = Normalization<float>::scale();
  const auto start = std::chrono::steady_clock::now();
  if (s.head_epochs > 0) {
    set_backbone_trainable(arm.model, false);
    arm.history = arm.model.fit(labelled, scale, *arm.optimizer, fit_options(s, s.head_epochs));
    set_backbone_trainable(arm.model, true);
    if (arm.history.interrupted) return arm;  // Ctrl-C: the caller reports the epochs done
  }
  arm.optimizer->set_learning_rate(s.fine_tune_learning_rate);
  const History all = arm.model.fit(labelled, scale, *arm.optimizer, arm.options);
  arm.history.epochs.insert(arm.history.epochs.end(), all.epochs.begin(), all.epochs.end());
  arm.history.interrupted = all.interrupted;
  arm.train_seconds = seconds_since(start);
  return arm;
}

}  // namespace transfer
