// Specification of the analysis tools (include/minicnn/analysis/) and of the inference-mode
// input gradient they rely on (Sequential::input_gradient). Every case is built so that its answer
// is known by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "minicnn/analysis/activation_maximization.hpp"
#include "minicnn/analysis/classification_report.hpp"
#include "minicnn/analysis/confusion_matrix.hpp"
#include "minicnn/analysis/feature_maps.hpp"
#include "minicnn/analysis/filters.hpp"
#include "minicnn/analysis/labels.hpp"
#include "minicnn/analysis/layer_output.hpp"
#include "minicnn/analysis/occlusion.hpp"
#include "minicnn/analysis/roc_auc.hpp"
#include "minicnn/analysis/saliency.hpp"
#include "minicnn/analysis/unit_activity.hpp"
#include "minicnn/analysis/worst_examples.hpp"
#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/sequential.hpp"

using namespace minicnn;

namespace {

Tensor<double>& kernel_of(Sequential<double>& model, Index layer) {
  return model.layer(layer).parameters()[0]->value;
}

// Conv2D -> BatchNorm -> ReLU -> MaxPool2D -> Dropout -> Flatten -> Dense -> Softmax on
// (2, 6, 6), with moving statistics away from their initial 0 and 1, after one training step so
// that every training cache (batch statistics, argmax, dropout mask) holds something else.
Sequential<double> probe_model() {
  Sequential<double> model;
  model.add<Conv2D>(3, 3, 1, Padding::same)
      .add<BatchNorm>()
      .add<ReLU>()
      .add<MaxPool2D>(2)
      .add<Dropout>(0.5)
      .add<Flatten>()
      .add<Dense>(4)
      .add<Softmax>();
  model.build({2, 6, 6}, 7);
  Random random(8);
  auto bn = model.layer(1).parameters();
  bn[2]->value.fill_uniform(random, -0.3, 0.3);  // moving_mean
  bn[3]->value.fill_uniform(random, 0.5, 2.0);   // moving_variance
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<double>>());
  Tensor<double> x({3, 2, 6, 6}), y = Tensor<double>::of({3}, {0, 2, 3});
  x.fill_uniform(random, -1.0, 1.0);
  model.compute_gradients(x, y);
  return model;
}

// L(x) = <seed, layer `layer`'s inference output at x>.
double probe_loss(Sequential<double>& model, const Tensor<double>& x, Index layer,
                  const Tensor<double>& seed) {
  return layer_output(model, x, layer).vector().dot(seed.vector());
}

}  // namespace

// ---- Sequential::input_gradient ----------------------------------------------------------------

TEST_CASE("input_gradient is the inference-mode dL/dx, checked by central differences") {
  Sequential<double> model = probe_model();
  const auto bn = model.layer(1).parameters();
  const Tensor<double> moving_mean = bn[2]->value, moving_variance = bn[3]->value;
  for (Index layer : {2, 4, 7}) {  // after ReLU, after Dropout, the probabilities
    CAPTURE(layer);
    Random random(9 + static_cast<std::uint64_t>(layer));
    Tensor<double> x({2, 2, 6, 6}), seed(model.layer(layer).output_shape().with_batch(2)), dx;
    x.fill_uniform(random, -1.0, 1.0);
    seed.fill_uniform(random, -1.0, 1.0);
    const double value = model.input_gradient(x, layer, seed, dx);
    CHECK(value == doctest::Approx(probe_loss(model, x, layer, seed)).epsilon(1e-12));
    REQUIRE(dx.shape() == x.shape());
    double worst = 0.0;
    for (Index i = 0; i < x.size(); ++i) {
      const double h = 1e-6;
      Tensor<double> plus = x, minus = x;
      plus[i] += h;
      minus[i] -= h;
      const double numeric =
          (probe_loss(model, plus, layer, seed) - probe_loss(model, minus, layer, seed)) / (2 * h);
      worst = std::max(
          worst, std::abs(numeric - dx[i]) / std::max({std::abs(numeric), std::abs(dx[i]), 1e-3}));
    }
    CHECK(worst < 1e-6);
  }
  // Inference: the moving statistics are read, never updated.
  CHECK(bn[2]->value.vector() == moving_mean.vector());
  CHECK(bn[3]->value.vector() == moving_variance.vector());
}

TEST_CASE("input_gradient leaves dL/dparameter in the grads and repeats exactly") {
  Sequential<double> model = probe_model();
  Random random(10);
  Tensor<double> x({1, 2, 6, 6}), seed({1, 4}), first, again;
  x.fill_uniform(random, -1.0, 1.0);
  seed.fill_uniform(random, -1.0, 1.0);
  model.input_gradient(x, 7, seed, first);
  const Tensor<double> bias_grad = model.layer(6).parameters()[1]->grad;
  model.input_gradient(x, 7, seed, again);  // zeroed first, so not doubled
  CHECK(again.vector() == first.vector());
  CHECK(model.layer(6).parameters()[1]->grad.vector() == bias_grad.vector());
  // Dense's bias gradient of L = <seed, softmax(z)> is J^T seed = p * (seed - <seed, p>).
  const Tensor<double> p = model.predict(x);
  const double mean = p.vector().dot(seed.vector());
  for (Index k = 0; k < 4; ++k)
    CHECK(bias_grad[k] == doctest::Approx(p[k] * (seed[k] - mean)).epsilon(1e-10));
}

TEST_CASE("input_gradient refuses misuse, naming the call") {
  Sequential<double> unbuilt;
  unbuilt.add<Dense>(2);
  Tensor<double> x({1, 3}), seed({1, 2}), dx;
  CHECK_THROWS_WITH_AS(unbuilt.input_gradient(x, 0, seed, dx),
                       "Sequential::input_gradient: the model is not built; call build() first",
                       Error);
  Sequential<double> model;
  model.add<Dense>(2).add<ReLU>();
  model.build({3}, 1);
  CHECK_THROWS_WITH_AS(model.input_gradient(x, 2, seed, dx),
                       "Sequential::input_gradient: layer index 2 is outside [0, 2)", Error);
  CHECK_THROWS_WITH_AS(model.input_gradient(x, -1, seed, dx),
                       "Sequential::input_gradient: layer index -1 is outside [0, 2)", Error);
  Tensor<double> wrong({1, 4});
  CHECK_THROWS_WITH_AS(model.input_gradient(wrong, 0, seed, dx),
                       "Sequential::input_gradient: expected input of shape (N, 3), got (1, 4)",
                       Error);
  Tensor<double> bad_seed({2, 2});
  CHECK_THROWS_WITH_AS(model.input_gradient(x, 1, bad_seed, dx),
                       "Sequential::input_gradient: expected a seed of shape (1, 2) (the output "
                       "of ReLU 're_lu'), got (2, 2)",
                       Error);
}

// ---- Labels, confusion matrix, per-class figures -----------------------------------------------

TEST_CASE("Class labels come from indices or from rows; predictions from each row's maximum") {
  CHECK(class_labels(Tensor<float>::of({3}, {2, 0, 1})) == std::vector<Index>{2, 0, 1});
  CHECK(class_labels(Tensor<float>::of({2, 3}, {0, 0, 1, 1, 0, 0})) == std::vector<Index>{2, 0});
  CHECK(predicted_classes(Tensor<float>::of({2, 3}, {0.2f, 0.5f, 0.3f, 0.4f, 0.4f, 0.2f})) ==
        std::vector<Index>{1, 0});  // a tie goes to the first
  CHECK_THROWS_WITH_AS(class_labels(Tensor<float>::of({2}, {1.5f, 0})),
                       "class_labels: expected class indices (whole numbers >= 0), got 1.5 at "
                       "sample 0",
                       Error);
  CHECK_THROWS_WITH_AS(class_labels(Tensor<float>({2, 2, 2})),
                       "class_labels: expected labels of shape (N) or (N, K), got (2, 2, 2)",
                       Error);
  CHECK_THROWS_WITH_AS(predicted_classes(Tensor<float>({4})),
                       "predicted_classes: expected scores of shape (N, K), got (4)", Error);
}

TEST_CASE("The confusion matrix counts, normalises rows and masks the diagonal") {
  // actual:    0 0 0 0 1 1 2 2 2 2
  // predicted: 0 0 1 2 1 1 2 2 0 2
  const std::vector<Index> actual{0, 0, 0, 0, 1, 1, 2, 2, 2, 2};
  const std::vector<Index> predicted{0, 0, 1, 2, 1, 1, 2, 2, 0, 2};
  const ConfusionMatrix cm(3, actual, predicted);
  Eigen::MatrixXd expected(3, 3);
  expected << 2, 1, 1, 0, 2, 0, 1, 0, 3;
  CHECK(cm.counts() == expected);
  CHECK(cm.total() == 10);
  CHECK(cm.support(0) == 4);
  CHECK(cm.accuracy() == doctest::Approx(0.7));
  const Eigen::MatrixXd rows = cm.row_normalized();
  CHECK(rows(0, 0) == 0.5);
  CHECK(rows(0, 1) == 0.25);
  CHECK(rows(1, 1) == 1.0);
  CHECK(rows(2, 0) == 0.25);
  CHECK(rows(2, 2) == 0.75);
  const Eigen::MatrixXd errors = cm.errors_only();
  for (Index k = 0; k < 3; ++k)
    CHECK(std::isnan(errors(k, k)));
  CHECK(errors(0, 2) == 0.25);
  CHECK(errors(1, 0) == 0.0);

  ConfusionMatrix empty(2);
  CHECK(empty.accuracy() == 0.0);
  CHECK(empty.row_normalized().isZero());
  CHECK_THROWS_WITH_AS(ConfusionMatrix(0), "ConfusionMatrix: expected at least 1 class, got 0",
                       Error);
  CHECK_THROWS_WITH_AS(ConfusionMatrix(3, {0, 1}, {0}),
                       "ConfusionMatrix: expected as many predictions as labels, got 1 "
                       "predictions for 2 labels",
                       Error);
  CHECK_THROWS_WITH_AS(empty.add(0, 2),
                       "ConfusionMatrix: expected classes in [0, 2), got actual 0 and predicted 2",
                       Error);
}

TEST_CASE("The classification report gives per-class accuracy, mean loss and prediction shares") {
  // Four samples of classes 0, 0, 1, 2; predictions 0, 1, 1, 1.
  const auto p = Tensor<double>::of({4, 3}, {0.8, 0.1, 0.1,  //
                                             0.3, 0.6, 0.1,  //
                                             0.2, 0.7, 0.1,  //
                                             0.1, 0.5, 0.4});
  const std::vector<Index> labels{0, 0, 1, 2};
  const auto figures = classification_report(p, labels);
  REQUIRE(figures.size() == 3);
  CHECK(figures[0].samples == 2);
  CHECK(figures[0].correct == 1);
  CHECK(figures[0].accuracy == 0.5);
  CHECK(figures[0].mean_loss == doctest::Approx(-(std::log(0.8) + std::log(0.3)) / 2));
  CHECK(figures[1].accuracy == 1.0);
  CHECK(figures[1].mean_loss == doctest::Approx(-std::log(0.7)));
  CHECK(figures[2].accuracy == 0.0);
  CHECK(figures[0].predicted_share == 0.25);
  CHECK(figures[1].predicted_share == 0.75);
  CHECK(figures[2].predicted_share == 0.0);
  CHECK(figures[0].actual_share == 0.5);

  // A class without samples has no accuracy or loss; a zero probability costs -log(1e-7).
  const auto q = Tensor<double>::of({1, 3}, {1.0, 0.0, 0.0});
  const auto sparse = classification_report(q, {1});
  CHECK(std::isnan(sparse[0].accuracy));
  CHECK(sparse[1].mean_loss == doctest::Approx(-std::log(1e-7)));

  const std::string table = format_classification_report(figures, {"cat", "dog", "bird"});
  CHECK(table ==
        "class         samples  accuracy  mean loss  predicted  actual\n"
        "cat                 2    0.5000     0.7136     0.2500  0.5000\n"
        "dog                 1    1.0000     0.3567     0.7500  0.2500\n"
        "bird                1    0.0000     0.9163     0.0000  0.2500\n");
  const std::string bias = prediction_bias_table(figures, sparse);
  CHECK(bias ==
        "class         train bias  test bias\n"
        "0                -0.2500    +1.0000\n"
        "1                +0.5000    -1.0000\n"
        "2                -0.2500    +0.0000\n");
  CHECK_THROWS_WITH_AS(prediction_bias_table(figures, {}),
                       "prediction_bias_table: expected the same classes in both sets, got 3 "
                       "and 0",
                       Error);
  CHECK_THROWS_WITH_AS(classification_report(p, {0, 1}),
                       "classification_report: expected one label per row of the probabilities, "
                       "got 2 labels for 4 rows",
                       Error);
  CHECK_THROWS_WITH_AS(classification_report(p, {0, 1, 3, 0}),
                       "classification_report: expected labels in [0, 3), got 3 at sample 2",
                       Error);
  CHECK_THROWS_WITH_AS(classification_report(Tensor<double>({4}), labels),
                       "classification_report: expected probabilities of shape (N, K), got (4)",
                       Error);
}

TEST_CASE("The worst examples are the misclassified ones, least probable true class first") {
  const auto p = Tensor<double>::of({5, 2}, {0.9, 0.1,    // 0: right
                                             0.6, 0.4,    // 1: wrong, p_true 0.4
                                             0.2, 0.8,    // 2: wrong, p_true 0.2
                                             0.3, 0.7,    // 3: right
                                             0.6, 0.4});  // 4: wrong, p_true 0.4 (tie with 1)
  const std::vector<Index> labels{0, 1, 0, 1, 1};
  Tensor<double> x({5, 1, 2, 2});
  for (Index i = 0; i < x.size(); ++i)
    x[i] = static_cast<double>(i);
  const auto worst = worst_examples(x, p, labels, 10);
  REQUIRE(worst.size() == 3);
  CHECK(worst[0].index == 2);
  CHECK(worst[0].actual == 0);
  CHECK(worst[0].predicted == 1);
  CHECK(worst[0].probability == 0.2);
  CHECK(worst[0].predicted_probability == 0.8);
  CHECK(worst[0].picture.shape() == Shape{1, 2, 2});
  CHECK(worst[0].picture[0] == 8.0);
  CHECK(worst[0].picture[3] == 11.0);
  CHECK(worst[1].index == 1);  // ties keep the set's order
  CHECK(worst[2].index == 4);
  CHECK(worst_examples(x, p, labels, 1).size() == 1);
  CHECK_THROWS_WITH_AS(worst_examples(x, p, labels, -1),
                       "worst_examples: expected count >= 0, got -1", Error);
  CHECK_THROWS_WITH_AS(worst_examples(Tensor<double>({4, 1}), p, labels, 1),
                       "worst_examples: expected one sample of x per row of the probabilities, "
                       "got x of shape (4, 1) for 5 rows",
                       Error);
}

// ---- ROC AUC -----------------------------------------------------------------------------------

TEST_CASE("ROC AUC is the Mann-Whitney statistic, ties counting one half") {
  // Positives 0.9, 0.8, 0.4; negatives 0.7, 0.3. Pairs won: 0.9 > both, 0.8 > both, 0.4 > 0.3:
  // 5 of 6.
  CHECK(roc_auc({0.9, 0.7, 0.8, 0.3, 0.4}, {true, false, true, false, true}) ==
        doctest::Approx(5.0 / 6.0));
  // Perfect, reversed, all tied.
  CHECK(roc_auc({0.1, 0.2, 0.8, 0.9}, {false, false, true, true}) == 1.0);
  CHECK(roc_auc({0.1, 0.2, 0.8, 0.9}, {true, true, false, false}) == 0.0);
  CHECK(roc_auc({0.5, 0.5, 0.5}, {true, false, false}) == 0.5);
  // Ties across classes: positives 0.8, 0.5, 0.5; negatives 0.5, 0.2.
  //   0.8 beats both (2); each 0.5 ties 0.5 (1/2) and beats 0.2 (1): 2 + 1.5 + 1.5 = 5 of 6.
  CHECK(roc_auc({0.8, 0.5, 0.5, 0.5, 0.2}, {true, true, true, false, false}) ==
        doctest::Approx(5.0 / 6.0));
  // Positives 0.6, 0.6; negatives 0.6, 0.6, 0.1: each positive ties two and beats one: 4/6.
  CHECK(roc_auc({0.6, 0.6, 0.6, 0.6, 0.1}, {true, false, true, false, false}) ==
        doctest::Approx(4.0 / 6.0));

  CHECK_THROWS_WITH_AS(roc_auc({0.1, 0.2}, {true, true}),
                       "roc_auc: expected positive and negative samples, got 2 positive and 0 "
                       "negative",
                       Error);
  CHECK_THROWS_WITH_AS(roc_auc({0.1}, {true, false}),
                       "roc_auc: expected one flag per score, got 2 flags for 1 scores", Error);
  CHECK_THROWS_WITH_AS(roc_auc({0.1, std::nan("")}, {true, false}),
                       "roc_auc: expected finite scores, got nan at sample 1", Error);
}

TEST_CASE("One-vs-rest ROC AUC per class and its macro average") {
  // Class 0 scores (column 0): samples of class 0 at 0.7, 0.5; others at 0.2, 0.5, 0.1.
  //   0.7 beats 3; 0.5 beats 2 and ties 1: (3 + 2.5) / 6.
  // Class 1 (column 1): class-1 samples 0.6, 0.3 vs 0.2, 0.4, 0.1: 0.6 beats 3, 0.3 beats 2: 5/6.
  // Class 2 (column 2): class-2 sample 0.8 vs 0.1, 0.1, 0.2, 0.2: 1.
  const auto p = Tensor<double>::of({5, 3}, {0.7, 0.2, 0.1,  //
                                             0.5, 0.4, 0.1,  //
                                             0.2, 0.6, 0.2,  //
                                             0.5, 0.3, 0.2,  //
                                             0.1, 0.1, 0.8});
  const std::vector<Index> labels{0, 0, 1, 1, 2};
  const RocAuc auc = roc_auc_one_vs_rest(p, labels);
  REQUIRE(auc.per_class.size() == 3);
  CHECK(auc.per_class[0] == doctest::Approx(5.5 / 6.0));
  CHECK(auc.per_class[1] == doctest::Approx(5.0 / 6.0));
  CHECK(auc.per_class[2] == 1.0);
  CHECK(auc.macro == doctest::Approx((5.5 / 6.0 + 5.0 / 6.0 + 1.0) / 3.0));

  // A class absent from the set has no AUC and is left out of the macro average.
  const RocAuc partial = roc_auc_one_vs_rest(p, {0, 0, 1, 1, 1});
  CHECK(std::isnan(partial.per_class[2]));
  CHECK(partial.macro == doctest::Approx((partial.per_class[0] + partial.per_class[1]) / 2));
  CHECK_THROWS_WITH_AS(roc_auc_one_vs_rest(p, {1, 1, 1, 1, 1}),
                       "roc_auc_one_vs_rest: expected samples of at least two classes, got 5 "
                       "samples of one class or none",
                       Error);
}

// ---- Units, filters, feature maps ---------------------------------------------------------------

TEST_CASE("Unit activity: mean, deviation, share active and the units that never fire") {
  // Units: 0 always 0 (dead), 1 alternates 0 and 2, 2 constant 3.
  const auto h = Tensor<double>::of({4, 3}, {0, 0, 3, 0, 2, 3, 0, 0, 3, 0, 2, 3});
  const UnitActivity a = unit_activity(h);
  CHECK(a.mean == std::vector<double>{0.0, 1.0, 3.0});
  CHECK(a.stddev == std::vector<double>{0.0, 1.0, 0.0});
  CHECK(a.active == std::vector<double>{0.0, 0.5, 1.0});
  CHECK(a.never_active == 1);
  CHECK(unit_activity(h, 2.5).never_active == 2);
  // Maps (N, C, H, W): one summary per channel over N, H and W.
  const auto maps = Tensor<double>::of({2, 2, 1, 2}, {1, 3, 0, 0, 5, 7, 0, 0});
  const UnitActivity per_channel = unit_activity(maps);
  CHECK(per_channel.mean == std::vector<double>{4.0, 0.0});
  CHECK(per_channel.never_active == 1);
  CHECK_THROWS_WITH_AS(unit_activity(Tensor<double>({3})),
                       "unit_activity: expected activations of shape (N, units) or (N, C, H, W), "
                       "got (3)",
                       Error);
  CHECK_THROWS_WITH_AS(unit_activity(Tensor<double>({0, 3})),
                       "unit_activity: expected at least one sample, got (0, 3)", Error);
}

TEST_CASE("Filter pictures show each kernel scaled to its range") {
  Conv2D<double> grey(2, 2);
  Random random(1);
  grey.build({1, 4, 4}, random);
  grey.parameters()[0]->value = Tensor<double>::of({2, 1, 2, 2}, {-1, 0, 0, 1, 5, 5, 5, 7});
  GridOptions options;
  options.padding = 1;
  const Image image = filter_grid(grey, options);
  CHECK(image.width() == 2 * (2 + 1) + 1);
  CHECK(image.height() == 2 + 2);
  CHECK(image.pixel(1, 1) == Rgb{0, 0, 0});        // filter 0's -1
  CHECK(image.pixel(2, 2) == Rgb{255, 255, 255});  // filter 0's 1
  CHECK(image.pixel(4, 1) == Rgb{0, 0, 0});        // filter 1's 5 (its own minimum)
  CHECK(image.pixel(5, 2) == Rgb{255, 255, 255});  // filter 1's 7

  // Three input channels: one RGB picture per filter.
  Conv2D<double> colour(1, 1);
  colour.build({3, 2, 2}, random);
  colour.parameters()[0]->value = Tensor<double>::of({1, 3, 1, 1}, {1, 0, 0.5});
  options.padding = 0;
  CHECK(filter_grid(colour, options).pixel(0, 0) == Rgb{255, 0, 128});

  Dense<double> dense(2);
  dense.build({3}, random);
  CHECK_THROWS_WITH_AS(filter_grid(dense),
                       "filter_grid: expected a layer with a kernel (F, C, KH, KW), got Dense",
                       Error);
}

TEST_CASE("Feature maps are a layer's output for one input, channel by channel") {
  Sequential<double> model;
  model.add<Conv2D>(2, 1).add<ReLU>().add<Flatten>();
  model.build({1, 2, 3}, 1);
  kernel_of(model, 0) = Tensor<double>::of({2, 1, 1, 1}, {1, -1});  // identity and negation
  const auto x = Tensor<double>::of({1, 1, 2, 3}, {1, -2, 3, -4, 5, -6});
  const Tensor<double> maps = feature_maps(model, x, 1);
  CHECK(maps.shape() == Shape{2, 2, 3});
  CHECK(maps(0, 0, 0) == 1.0);
  CHECK(maps(0, 0, 1) == 0.0);
  CHECK(maps(1, 0, 1) == 2.0);
  CHECK(maps(1, 1, 2) == 6.0);
  GridOptions options;
  options.padding = 0;
  CHECK(feature_map_grid(model, x, 0, options).width() == 6);
  CHECK_THROWS_WITH_AS(
      feature_maps(model, x, 2),
      "feature_maps: expected Flatten 'flatten' to output maps (C, H, W), got (12)", Error);
  CHECK_THROWS_WITH_AS(feature_maps(model, Tensor<double>({2, 1, 2, 3}), 0),
                       "feature_maps: expected one sample, of shape (1, ...), got (2, 1, 2, 3)",
                       Error);
  CHECK_THROWS_WITH_AS(layer_output(model, x, 3), "layer_output: layer index 3 is outside [0, 3)",
                       Error);
  CHECK_THROWS_WITH_AS(layer_output(model, Tensor<double>({1, 2, 2, 3}), 0),
                       "layer_output: expected input of shape (N, 1, 2, 3), got (1, 2, 2, 3)",
                       Error);
}

// ---- Occlusion, saliency, activation maximisation -----------------------------------------------

namespace {

// Flatten -> Dense(2) -> Softmax on (1, 8, 8): the logit of class 0 is 0.2 * the sum of the
// bottom-right 3x3 block (rows 5..7, columns 5..7), class 1's is 0. Only that block matters.
Sequential<double> corner_model() {
  Sequential<double> model;
  model.add<Flatten>().add<Dense>(2).add<Softmax>();
  model.build({1, 8, 8}, 3);
  Tensor<double>& kernel = kernel_of(model, 1);  // (64, 2)
  kernel.set_zero();
  for (Index h = 5; h < 8; ++h)
    for (Index w = 5; w < 8; ++w)
      kernel((h * 8 + w), 0) = 0.2;
  return model;
}

}  // namespace

TEST_CASE("The occlusion map peaks where the decisive region is") {
  Sequential<double> model = corner_model();
  const Tensor<double> x({1, 1, 8, 8}, 1.0);
  OcclusionOptions options;
  options.patch = 2;
  options.stride = 2;
  const OcclusionMap map = occlusion_map(model, x, 0, options);
  CHECK(map.baseline == doctest::Approx(1.0 / (1.0 + std::exp(-1.8))));
  CHECK(map.windows.shape() == Shape{4, 4});
  CHECK(map.drop.shape() == Shape{8, 8});
  Index best = 0;
  for (Index i = 1; i < map.drop.size(); ++i)
    if (map.drop[i] > map.drop[best]) best = i;
  CHECK(best / 8 >= 5);
  CHECK(best % 8 >= 5);
  // Outside the block nothing changes; the window over (6..7, 6..7) hides 4 of its 9 pixels.
  CHECK(map.drop(0, 0) == 0.0);
  CHECK(map.drop(3, 3) == 0.0);
  CHECK(map.windows(3, 3) ==
        doctest::Approx(map.baseline - 1.0 / (1.0 + std::exp(-1.0))).epsilon(1e-12));
  // A stride that misses the edge adds a last window touching it.
  options.patch = 3;
  options.stride = 4;
  CHECK(occlusion_map(model, x, 0, options).windows.shape() == Shape{3, 3});

  CHECK_THROWS_WITH_AS(occlusion_map(model, x, 2, options),
                       "occlusion_map: expected a class in [0, 2) of a model with output (N, K), "
                       "got class 2 and output (1, 2)",
                       Error);
  options.patch = 9;
  CHECK_THROWS_WITH_AS(occlusion_map(model, x, 0, options),
                       "occlusion_map: expected 1 <= patch <= 8 and stride >= 1, got patch 9 and "
                       "stride 4",
                       Error);
  CHECK_THROWS_WITH_AS(occlusion_map(model, Tensor<double>({2, 1, 8, 8}), 0),
                       "occlusion_map: expected one image of shape (1, C, H, W), got (2, 1, 8, 8)",
                       Error);
}

TEST_CASE("The saliency map of a linear score is the size of its weights") {
  Sequential<double> model = corner_model();
  Tensor<double> x({1, 1, 8, 8}, 0.5);
  const Tensor<double> map = saliency_map(model, x, 0);
  // d p0 / dx = p0 (1 - p0) * 0.2 on the block, 0 elsewhere.
  const double p0 = 1.0 / (1.0 + std::exp(-0.9));
  CHECK(map(6, 6) == doctest::Approx(p0 * (1 - p0) * 0.2).epsilon(1e-12));
  CHECK(map(0, 0) == 0.0);
  CHECK_THROWS_WITH_AS(saliency_map(model, x, 5),
                       "saliency_map: expected a class in [0, 2) of a model with output (K), got "
                       "class 5 and output (2)",
                       Error);
}

TEST_CASE("Activation maximisation of one linear filter converges to the filter itself") {
  // One 3x3 filter on a 3x3 input: a(x) = <w, x> + b. With the penalty (decay / 2) ||x||^2 the
  // maximiser is x = w / decay.
  Sequential<double> model;
  model.add<Conv2D>(1, 3);
  model.build({1, 3, 3}, 5);
  const auto w = Tensor<double>::of({1, 1, 3, 3}, {0.5, -1, 0.25, 0, 1, -0.5, 0.75, 0.1, -0.2});
  kernel_of(model, 0) = w;
  ActivationMaximizationOptions o;
  o.layer = 0;
  o.unit = 0;
  o.steps = 200;
  o.step_size = 0.2;
  o.l2_decay = 2.0;
  o.low = -10;
  o.high = 10;
  ActivationMaximization result;
  const Tensor<double> x = maximize_activation(model, o, &result);
  REQUIRE(x.shape() == Shape{1, 1, 3, 3});
  for (Index i = 0; i < 9; ++i)
    CHECK(x[i] == doctest::Approx(w[i] / 2.0).epsilon(1e-9));
  CHECK(result.activation == doctest::Approx(w.vector().squaredNorm() / 2.0).epsilon(1e-9));

  // In the box [0, 1] without decay the maximiser is 1 where w > 0 and 0 where w < 0.
  o.l2_decay = 0.0;
  o.low = 0.0;
  o.high = 1.0;
  o.steps = 100;
  const Tensor<double> box = maximize_activation(model, o);
  for (Index i = 0; i < 9; ++i) {
    if (w[i] > 0) CHECK(box[i] == 1.0);
    if (w[i] < 0) CHECK(box[i] == 0.0);
  }
}

TEST_CASE("Activation maximisation picks the unit's channel and refuses bad options") {
  // Two filters on (1, 4, 4), 'same': filter 1 is the negation of filter 0, so its maximiser in
  // [0, 1] is filter 0's minimiser.
  Sequential<double> model;
  model.add<Conv2D>(2, 1).add<ReLU>().add<Flatten>().add<Dense>(3);
  model.build({1, 4, 4}, 6);
  kernel_of(model, 0) = Tensor<double>::of({2, 1, 1, 1}, {1, -1});
  ActivationMaximizationOptions o;
  o.unit = 1;
  o.steps = 30;
  o.step_size = 2.0;
  o.start_spread = 0.5;
  ActivationMaximization result;
  const Tensor<double> x = maximize_activation(model, o, &result);
  for (double v : x)
    CHECK(v == 0.0);
  CHECK(result.activation == 0.0);
  o.unit = 0;
  for (double v : maximize_activation(model, o))
    CHECK(v == 1.0);

  o.unit = 2;
  CHECK_THROWS_WITH_AS(maximize_activation(model, o),
                       "maximize_activation: unit 2 is outside [0, 2) of Conv2D 'conv2d'", Error);
  o.unit = 0;
  o.layer = 4;
  CHECK_THROWS_WITH_AS(maximize_activation(model, o),
                       "maximize_activation: layer index 4 is outside [0, 4)", Error);
  o.layer = 0;
  o.high = 0.0;
  CHECK_THROWS_WITH_AS(maximize_activation(model, o),
                       "maximize_activation: expected low < high, steps >= 0, step_size > 0 and "
                       "l2_decay >= 0, got [0, 0], 30, 2 and 0",
                       Error);
}
