// The report of a finished training run: one self-contained report.html (visual/report_html.hpp;
// its training curves inline SVG, its other pictures inline PNG) and the pictures people open
// directly, as PNG files beside it. It shows the run (command, machine, setup), the result, the
// model, the training curves, what the model does on the test set (confusion matrix, per-class
// figures, ROC AUC, the worst-classified images), the first layer's filters when it is a
// convolution, every epoch and the timings.
//
//   RunSummary summary;
//   summary.title = "MNIST: mnist_cnn";
//   summary.setup = {{"command", "mnist --epochs 5"}, {"machine", "..."}};
//   summary.test_loss = evaluation.loss;  summary.test_accuracy = evaluation.accuracy;
//   summary.timings = {{"training", 62.1}, {"evaluation", 0.9}};
//   RunReportFiles files = write_run_report("runs/mnist", summary, model, history, test,
//                                           Normalization<float>::scale());
//
// Every test-set figure comes from one predict() over the test set (analyse_test_set): the
// probabilities (N, K) are computed once and every analysis reads them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/analysis/classification_report.hpp"
#include "minicnn/analysis/confusion_matrix.hpp"
#include "minicnn/analysis/filters.hpp"
#include "minicnn/analysis/labels.hpp"
#include "minicnn/analysis/roc_auc.hpp"
#include "minicnn/analysis/worst_examples.hpp"
#include "minicnn/data/batches.hpp"
#include "minicnn/data/dataset.hpp"
#include "minicnn/data/normalization.hpp"
#include "minicnn/history.hpp"
#include "minicnn/model/model.hpp"
#include "minicnn/visual/heatmap.hpp"
#include "minicnn/visual/image_grid.hpp"
#include "minicnn/visual/plots.hpp"
#include "minicnn/visual/png.hpp"
#include "minicnn/visual/report_html.hpp"

namespace minicnn {

// What the report states about a run beyond the model, the history and the test set.
struct RunSummary {
  std::string title;                                       // e.g. "MNIST: mnist_cnn"
  std::vector<std::pair<std::string, std::string>> setup;  // name, value: command, machine, ...
  double test_loss = 0.0;
  double test_accuracy = 0.0;  // fraction in [0, 1]
  Index epochs = 0;            // epochs asked for (a resumed run's history holds fewer)
  double training_seconds = 0.0, wall_seconds = 0.0;
  // phase, seconds, e.g. {"training", 62.1}, {"evaluation", 0.9}; the report adds its own.
  std::vector<std::pair<std::string, double>> timings;
};

// The trained model on the test set: one predict() and what is derived from its output.
template <typename T>
struct TestSetAnalysis {
  Tensor<T> probabilities;             // (N, K), the model's outputs
  std::vector<Index> labels;           // (N) true classes
  ConfusionMatrix confusion{1};        // (K, K)
  std::vector<ClassFigures> classes;   // (K)
  std::optional<RocAuc> auc;           // none when the set holds fewer than two classes
  std::vector<WorstExample<T>> worst;  // misclassified, lowest probability of the true class first
};

// The test set through the model once (inference mode, `batch_size` samples at a time), with the
// inputs made by `normalization` as in training. The model must output one probability per class
// of the data set (a classifier ending in Softmax).
template <typename T>
TestSetAnalysis<T> analyse_test_set(const Model<T>& model, const Dataset& test,
                                    const Normalization<T>& normalization, Index worst_count = 10,
                                    Index batch_size = 256) {
  if (model.output_shape() != Shape({test.classes}))
    fail("analyse_test_set: expected a model with one output per class of the data set, ",
         Shape({test.classes}), ", got ", model.output_shape());
  if (test.size() == 0) fail("analyse_test_set: expected a test set with samples, got none");
  TestSetAnalysis<T> a;
  Tensor<T> x, y;
  to_tensors(test, normalization, x, y);
  a.probabilities = model.predict(x, batch_size);
  a.labels = class_labels(y);
  a.confusion = ConfusionMatrix(test.classes, a.labels, predicted_classes(a.probabilities));
  a.classes = classification_report(a.probabilities, a.labels);
  const Index first_class = a.labels.front();
  if (std::any_of(a.labels.begin(), a.labels.end(), [&](Index k) { return k != first_class; }))
    a.auc = roc_auc_one_vs_rest(a.probabilities, a.labels);
  a.worst = worst_examples(x, a.probabilities, a.labels, worst_count);
  return a;
}

// The pictures of a run, drawn once: shown in report.html and written as PNG files. The curves
// are drawn from one layout twice: as PNG pictures for the files and as SVG for the page.
struct RunFigures {
  Image loss, accuracy;               // training curves: train and validation per epoch
  Svg loss_chart, accuracy_chart;     // the same curves drawn for the page
  Image confusion, confusion_errors;  // counts coloured by row share; the same, diagonal masked
  std::vector<Image> worst;           // each worst-classified image, as stored, zoomed
  Image worst_strip;                  // the same pictures side by side, labelled, for a PNG
  std::optional<Image> filters;       // the first trainable layer's kernels, when a Conv2D
  std::string filters_caption;
};

namespace detail {

inline std::string fixed(double value, int digits) {
  if (!std::isfinite(value)) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

inline std::string percent(double fraction) {
  return fixed(100.0 * fraction, 2) + " %";
}

// A probability with 4 decimals, or 2 significant digits below 0.001 (the true class of a worst
// example often gets 1e-5 or less).
inline std::string probability(double p) {
  if (!(p < 1e-3)) return fixed(p, 4);
  char text[32];
  std::snprintf(text, sizeof text, "%.1e", p);
  return text;
}

inline std::vector<std::string> class_names_of(const Dataset& data) {
  if (static_cast<Index>(data.class_names.size()) == data.classes) return data.class_names;
  std::vector<std::string> names;
  for (Index k = 0; k < data.classes; ++k)
    names.push_back(std::to_string(k));
  return names;
}

// The train and validation curves of one metric ("loss" or "accuracy"); without validation data
// the train curve alone.
inline std::vector<Series> history_curves(const History& history, const std::string& metric) {
  std::vector<Series> series = {{"train", history.metric(metric)}};
  if (history.has_validation()) series.push_back({"validation", history.metric("val_" + metric)});
  return series;
}

// A history chart's options: two side by side fit the page's width.
inline ChartOptions history_chart_options(const std::string& metric, const std::string& title) {
  ChartOptions options;
  options.title = title;
  options.y_label = metric;
  options.width = 540;
  options.height = 360;
  return options;
}

// Sample n of `data` (C, H, W) as it is stored (bytes), zoomed.
inline Image stored_image(const Dataset& data, Index n, Index zoom) {
  const Shape sample = data.sample_shape();
  Tensor<std::uint8_t> picture(sample);
  std::copy_n(data.images.data() + n * sample.size(), sample.size(), picture.data());
  GridOptions options;
  options.scaling = Scaling::as_is;
  options.zoom = zoom;
  return to_image(picture, options);
}

// Pictures side by side on white, each with its lines of text below: a PNG that reads without
// the page.
inline Image labelled_strip(const std::vector<Image>& pictures,
                            const std::vector<std::vector<std::string>>& lines) {
  const Index gap = 8, line_height = text_height() + 3;
  std::vector<Index> widths;
  Index width = gap, picture_height = 0, text_lines = 0;
  for (std::size_t i = 0; i < pictures.size(); ++i) {
    Index w = pictures[i].width();
    for (const std::string& line : lines[i])
      w = std::max(w, text_width(line));
    widths.push_back(w);
    width += w + gap;
    picture_height = std::max(picture_height, pictures[i].height());
    text_lines = std::max<Index>(text_lines, static_cast<Index>(lines[i].size()));
  }
  Image strip(width, gap + picture_height + 4 + text_lines * line_height + gap, 3);
  Index x = gap;
  for (std::size_t i = 0; i < pictures.size(); ++i) {
    strip.paste(pictures[i], x + (widths[i] - pictures[i].width()) / 2, gap);
    for (std::size_t l = 0; l < lines[i].size(); ++l)
      draw_text(strip, x, gap + picture_height + 4 + static_cast<Index>(l) * line_height,
                lines[i][l], {0, 0, 0});
    x += widths[i] + gap;
  }
  return strip;
}

}  // namespace detail

// The run's pictures from its history, the test set and its analysis.
template <typename T>
RunFigures run_figures(const Model<T>& model, const History& history, const Dataset& test,
                       const TestSetAnalysis<T>& analysis) {
  RunFigures f;
  const std::vector<Series> loss = detail::history_curves(history, "loss");
  const std::vector<Series> accuracy = detail::history_curves(history, "accuracy");
  const ChartOptions loss_options = detail::history_chart_options("loss", "Loss");
  const ChartOptions accuracy_options = detail::history_chart_options("accuracy", "Accuracy");
  f.loss = line_chart(loss, loss_options);
  f.loss_chart = line_chart_svg(loss, loss_options);
  f.accuracy = line_chart(accuracy, accuracy_options);
  f.accuracy_chart = line_chart_svg(accuracy, accuracy_options);

  // Cells of 40 pixels up to 20 classes, smaller beyond (CIFAR-100's 100 fine classes: 12).
  const std::vector<std::string> names = detail::class_names_of(test);
  HeatmapOptions heat;
  heat.cell = std::clamp<Index>(800 / test.classes, 12, 40);
  f.confusion = confusion_heatmap(analysis.confusion, names, false, heat);
  f.confusion_errors = confusion_heatmap(analysis.confusion, names, true, heat);

  // Worst examples at about 120 pixels (MNIST's 28: x4, CIFAR's 32: x4).
  const Index zoom = std::max<Index>(1, 128 / test.images.dim(2));
  std::vector<std::vector<std::string>> lines;
  for (const WorstExample<T>& e : analysis.worst) {
    f.worst.push_back(detail::stored_image(test, e.index, zoom));
    lines.push_back({"#" + std::to_string(e.index),
                     "true " + names[static_cast<std::size_t>(e.actual)],
                     "as " + names[static_cast<std::size_t>(e.predicted)],
                     "p(true) " + detail::probability(e.probability)});
  }
  if (!f.worst.empty()) f.worst_strip = detail::labelled_strip(f.worst, lines);

  for (Index i = 0; i < model.size(); ++i) {
    const Layer<T>& layer = model.layer(i);
    if (layer.parameter_count(true) == 0) continue;
    if (layer.kind() != "Conv2D") break;
    const Tensor<T>& kernel = convolution_kernel(layer);
    GridOptions grid;
    grid.zoom = std::max<Index>(1, 30 / kernel.dim(2));  // 3x3 kernels as 30x30 pixels
    grid.padding = 3;
    f.filters = filter_grid(layer, grid);
    f.filters_caption = layer.label() + ": " + std::to_string(kernel.dim(0)) + " filters " +
                        std::to_string(kernel.dim(2)) + "x" + std::to_string(kernel.dim(3)) +
                        " over " + std::to_string(kernel.dim(1)) +
                        (kernel.dim(1) == 3   ? " channels, one RGB picture per filter"
                         : kernel.dim(1) == 1 ? " channel, one grey picture per filter"
                                              : " channels, one grey picture per filter and "
                                                "channel, a row per filter") +
                        "; each scaled to its own range (light: positive, dark: negative)";
    break;
  }
  return f;
}

// The page: every section in the order a reader asks the questions.
template <typename T>
HtmlReport run_report_html(const RunSummary& summary, const Model<T>& model, const History& history,
                           const Dataset& test, const TestSetAnalysis<T>& analysis,
                           const RunFigures& figures) {
  using detail::fixed;
  using detail::percent;
  const std::vector<std::string> names = detail::class_names_of(test);
  HtmlReport report(summary.title);

  report.section("Run").facts(summary.setup);

  report.section("Result").table(
      {"test accuracy", "test loss", "epochs", "test images", "training seconds", "wall seconds"},
      {{percent(summary.test_accuracy), fixed(summary.test_loss, 4), std::to_string(summary.epochs),
        std::to_string(test.size()), fixed(summary.training_seconds, 1),
        fixed(summary.wall_seconds, 1)}});

  report.section("Model").preformatted(model.summary());

  report.section("Training curves")
      .gallery({figures.loss_chart, figures.accuracy_chart},
               {"Loss per epoch: training (mean over the epoch's batches) and validation",
                "Accuracy per epoch: training and validation"});

  report.section("Confusion matrix")
      .paragraph(
          "Rows: true class; columns: predicted class; cells: test images. Colour: the "
          "share of the row's images. On the right the diagonal is masked, so that the "
          "colour scale shows the confusions only.")
      .gallery({figures.confusion, figures.confusion_errors},
               {"Counts, coloured by row share", "Errors only (diagonal masked)"});

  std::vector<std::vector<std::string>> rows;
  for (std::size_t k = 0; k < analysis.classes.size(); ++k) {
    const ClassFigures& c = analysis.classes[k];
    rows.push_back({names[k], std::to_string(c.samples), percent(c.accuracy), fixed(c.mean_loss, 4),
                    percent(c.predicted_share), percent(c.actual_share),
                    analysis.auc ? fixed(analysis.auc->per_class[k], 4) : "-"});
  }
  report.section("Per-class figures")
      .paragraph(analysis.auc ? "Macro ROC AUC (one class against the rest, mean over the "
                                "classes): " +
                                    fixed(analysis.auc->macro, 4)
                              : "ROC AUC: not defined, the test set holds a single class.")
      .table({"class", "images", "accuracy", "mean loss", "predicted share", "actual share",
              "ROC AUC"},
             rows);

  report.section("Worst-classified test images");
  if (analysis.worst.empty()) {
    report.paragraph("No test image is misclassified.");
  } else {
    std::vector<std::string> captions;
    for (const WorstExample<T>& e : analysis.worst)
      captions.push_back("#" + std::to_string(e.index) + ": true " +
                         names[static_cast<std::size_t>(e.actual)] + ", predicted " +
                         names[static_cast<std::size_t>(e.predicted)] + ", p(true) " +
                         detail::probability(e.probability));
    report
        .paragraph(
            "The misclassified test images the model was surest about: lowest "
            "probability of the true class first; #: index in the test set.")
        .gallery(figures.worst, captions);
  }

  if (figures.filters) {
    report.section("First-layer filters").figure(*figures.filters, figures.filters_caption);
  }

  std::vector<std::vector<std::string>> epochs;
  for (const EpochLogs& e : history.epochs)
    epochs.push_back({std::to_string(e.epoch + 1), fixed(e.loss, 4), percent(e.accuracy),
                      e.has_validation ? fixed(e.val_loss, 4) : "-",
                      e.has_validation ? percent(e.val_accuracy) : "-", fixed(e.learning_rate, 6),
                      fixed(e.seconds, 1)});
  report.section("Epochs").table(
      {"epoch", "loss", "accuracy", "val loss", "val accuracy", "learning rate", "seconds"},
      epochs);

  std::vector<std::vector<std::string>> timings;
  for (const auto& [phase, seconds] : summary.timings)
    timings.push_back({phase, fixed(seconds, 2)});
  report.section("Timings").table({"phase", "seconds"}, timings);
  return report;
}

// What write_run_report wrote, and how long the report took.
struct RunReportFiles {
  std::vector<std::string> names;  // file names in the directory, report.html first
  double seconds = 0.0;            // predictions, analyses, pictures and files
};

// Writes into `directory` report.html and the PNG files loss.png, accuracy.png,
// confusion_matrix.png, confusion_errors.png, worst_examples.png (when an image is
// misclassified) and filters.png (when the first trainable layer is a Conv2D); each atomically.
// The page's timings end with the report's own: the test-set predictions and analyses, and the
// pictures with their PNG files.
template <typename T>
RunReportFiles write_run_report(const std::string& directory, RunSummary summary,
                                const Model<T>& model, const History& history, const Dataset& test,
                                const Normalization<T>& normalization) {
  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  const auto start = Clock::now();
  const TestSetAnalysis<T> analysis = analyse_test_set(model, test, normalization);
  const double analysis_seconds = seconds_since(start);

  // The PNG files first, so that the page can state how long pictures and files took.
  const auto pictures_start = Clock::now();
  const RunFigures figures = run_figures(model, history, test, analysis);
  const std::filesystem::path dir(directory);
  std::vector<std::string> pngs;
  const auto png = [&](const std::string& name, const Image& image) {
    write_png((dir / name).string(), image);
    pngs.push_back(name);
  };
  png("loss.png", figures.loss);
  png("accuracy.png", figures.accuracy);
  png("confusion_matrix.png", figures.confusion);
  png("confusion_errors.png", figures.confusion_errors);
  if (!figures.worst.empty()) png("worst_examples.png", figures.worst_strip);
  if (figures.filters) png("filters.png", *figures.filters);
  summary.timings.push_back({"report: test-set predictions and analyses", analysis_seconds});
  summary.timings.push_back({"report: pictures and PNG files", seconds_since(pictures_start)});

  run_report_html(summary, model, history, test, analysis, figures)
      .write((dir / "report.html").string());
  RunReportFiles files;
  files.names.push_back("report.html");
  files.names.insert(files.names.end(), pngs.begin(), pngs.end());
  files.seconds = seconds_since(start);
  return files;
}

}  // namespace minicnn
