// Specification of the transfer experiment's arms (examples/transfer_experiment/transfer.hpp,
// docs/experiments.md): the class-balanced choice of the few labelled images, feature extraction
// leaving the pretrained backbone exactly as it was, fine-tuning changing it after the head's
// epochs, and the refusal of a backbone of another architecture. The program itself runs end to
// end on generated IDX files in scripts/test_transfer_experiment.sh.
#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include "transfer_experiment/transfer.hpp"

using namespace minicnn;

namespace {

// n images of (1, 8, 8) whose class (i mod classes) is drawn as a bright row at 2 * class, with
// some noise: a task a tiny ResNet learns in a few steps.
Dataset tiny_dataset(Index n, Index classes, std::uint64_t seed) {
  Dataset data;
  data.classes = classes;
  data.images.resize({n, 1, 8, 8});
  data.labels.resize({n});
  Random random(seed);
  for (Index i = 0; i < n; ++i) {
    const Index label = i % classes;
    data.labels[i] = static_cast<std::int32_t>(label);
    for (Index p = 0; p < 64; ++p) {
      const bool on = p / 8 == 2 * label;
      data.images[i * 64 + p] =
          static_cast<std::uint8_t>(on ? 200 + random.uniform() * 55 : random.uniform() * 60);
    }
  }
  return data;
}

transfer::Settings quiet_settings(std::ostringstream& log) {
  transfer::Settings s;
  s.epochs = 3;
  s.head_epochs = 1;
  s.batch_size = 8;
  s.verbose = Verbose::silent;
  s.output = &log;
  return s;
}

// A model of the experiment's architecture trained for one epoch, so that its weights and its
// BatchNorm moving statistics are no longer their initial values.
Model<float> pretrained_model(const transfer::Settings& s) {
  const Dataset source = tiny_dataset(48, 4, 1);
  Model<float> model = transfer::resnet(s, source.sample_shape(), source.classes, 5);
  Adam<float> adam(1e-2);
  model.fit(source, Normalization<float>::scale(), adam, transfer::fit_options(s, 1));
  return model;
}

// True when every tensor of the backbone's checkpoint equals its namesake's in the model, bit for
// bit (weights and moving statistics).
bool backbone_unchanged(const Checkpoint<float>& backbone, Model<float>& model) {
  for (const auto& entry : backbone.layers) {
    const auto parameters = model.layer(entry.name).parameters();
    REQUIRE(parameters.size() == entry.tensors.size());
    for (std::size_t k = 0; k < parameters.size(); ++k) {
      const Tensor<float>& stored = entry.tensors[k].second;
      if (!std::equal(stored.begin(), stored.end(), parameters[k]->value.begin())) return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("balanced_choice takes as many images of each class, seeded, in the data set's order") {
  const Dataset data = tiny_dataset(40, 4, 2);
  const auto chosen = transfer::balanced_choice(data, 10, 7);
  REQUIRE(chosen.size() == 10);
  CHECK(std::is_sorted(chosen.begin(), chosen.end()));
  CHECK(std::adjacent_find(chosen.begin(), chosen.end()) == chosen.end());  // no repeats
  std::vector<int> per_class(4, 0);
  for (Index i : chosen)
    ++per_class[static_cast<std::size_t>(data.labels[i])];
  CHECK(per_class == std::vector<int>{3, 3, 2, 2});  // 10 / 4, the first 10 % 4 classes one more
  CHECK(transfer::balanced_choice(data, 10, 7) == chosen);
  CHECK(transfer::balanced_choice(data, 10, 8) != chosen);
  CHECK(transfer::balanced_choice(data, 40, 7).size() == 40);

  CHECK_THROWS_WITH_AS(transfer::balanced_choice(data, 3, 7),
                       "balanced_choice: expected a count in [4, 40] (at least one image of each "
                       "of the 4 classes, at most the data set's), got 3",
                       Error);
  Dataset uneven = data;
  for (Index i = 0; i < uneven.size(); ++i)
    if (uneven.labels[i] == 3 && i > 3) uneven.labels[i] = 0;  // class 3 keeps one image
  CHECK_THROWS_WITH_AS(transfer::balanced_choice(uneven, 12, 7),
                       "balanced_choice: expected at least 3 images of class 3 (its share of 12), "
                       "the data set has 1",
                       Error);
}

TEST_CASE("Feature extraction leaves the backbone bit for bit and trains only the new head") {
  std::ostringstream log;
  const transfer::Settings s = quiet_settings(log);
  Model<float> pretrained = pretrained_model(s);
  const Checkpoint<float> backbone = transfer::backbone_of(pretrained);
  REQUIRE(backbone.layers.size() == static_cast<std::size_t>(pretrained.size() - 2));
  // The moving statistics moved during pretraining, so comparing them below can fail.
  const auto& bn1 = pretrained.layer("bn1").parameters();
  CHECK(std::any_of(bn1[2]->value.begin(), bn1[2]->value.end(), [](float m) { return m != 0; }));

  const Dataset labelled = tiny_dataset(24, 3, 3);  // another task: 3 classes
  transfer::Arm arm = transfer::feature_extraction(backbone, labelled, s);
  CHECK(arm.history.epochs.size() == 3);
  CHECK(backbone_unchanged(backbone, arm.model));  // weights and moving statistics alike
  for (const auto& entry : backbone.layers)
    CHECK_FALSE(arm.model.layer(entry.name).trainable());
  CHECK(arm.model.parameter_count(true) == 64 * 3 + 3);  // the head alone learns

  // The trained head went under the backbone: its fc is not the one a new model starts with.
  Model<float> fresh = transfer::with_backbone(backbone, s, labelled.sample_shape(), 3);
  const Tensor<float>& trained = arm.model.layer("fc").parameters()[0]->value;
  const Tensor<float>& initial = fresh.layer("fc").parameters()[0]->value;
  CHECK_FALSE(std::equal(trained.begin(), trained.end(), initial.begin()));
  // The backbone under the head computes the features the pretrained model computes.
  Tensor<float> x, y;
  to_tensors(labelled, Normalization<float>::scale(), x, y);
  const Tensor<float> ours = arm.model.sub_model("avgpool").predict(x);
  const Tensor<float> theirs = pretrained.sub_model("avgpool").predict(x);
  CHECK(std::equal(ours.begin(), ours.end(), theirs.begin()));
}

TEST_CASE("Fine-tuning trains the head first, then every layer, its epochs counted on") {
  std::ostringstream log;
  transfer::Settings s = quiet_settings(log);
  Model<float> pretrained = pretrained_model(s);
  const Checkpoint<float> backbone = transfer::backbone_of(pretrained);
  const Dataset labelled = tiny_dataset(24, 3, 3);
  transfer::Arm arm = transfer::fine_tuning(backbone, labelled, s);
  REQUIRE(arm.history.epochs.size() == 3);
  for (Index e = 0; e < 3; ++e)
    CHECK(arm.history.epochs[static_cast<std::size_t>(e)].epoch == e);
  CHECK(arm.history.epochs[0].learning_rate == s.learning_rate);
  CHECK(arm.history.epochs[2].learning_rate == s.fine_tune_learning_rate);
  CHECK_FALSE(backbone_unchanged(backbone, arm.model));
  CHECK(arm.model.layer("conv1").trainable());

  s.head_epochs = 3;
  CHECK_THROWS_WITH_AS(transfer::fine_tuning(backbone, labelled, s),
                       "fine_tuning: expected head epochs in [0, 3) (some epochs must train every "
                       "layer), got 3",
                       Error);
}

TEST_CASE("A backbone of another architecture is refused, naming both") {
  std::ostringstream log;
  transfer::Settings s = quiet_settings(log);
  const Checkpoint<float> backbone = transfer::backbone_of(pretrained_model(s));
  s.depth = 14;
  CHECK_THROWS_WITH_AS(transfer::with_backbone(backbone, s, {1, 8, 8}, 3),
                       "transfer: expected a backbone of cifar_resnet(14) on (1, 8, 8) with 50 "
                       "layers, got one with 29 layers on (1, 8, 8) of which 29 found their "
                       "namesake",
                       Error);
}
