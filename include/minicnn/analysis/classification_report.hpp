// Per-class figures of a classifier on a set of samples, from its probabilities (N, K) and the
// true classes:
//   samples        n_k, samples whose true class is k
//   accuracy       correct_k / n_k (recall; NaN when n_k = 0)
//   mean_loss      mean over those samples of -log(max(p_true, 1e-7)): the cross-entropy the
//                  loss reports, split by class (NaN when n_k = 0)
//   predicted_share  the share of ALL predictions that went to class k, next to
//   actual_share     the share of samples that are of class k: a model biased towards k predicts
//                    it more often than it occurs. Compare train and test with
//                    prediction_bias_table().
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "minicnn/analysis/labels.hpp"
#include "minicnn/error.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

struct ClassFigures {
  Index samples = 0;
  Index correct = 0;
  double accuracy = 0.0;
  double mean_loss = 0.0;
  double predicted_share = 0.0;
  double actual_share = 0.0;
};

namespace detail {

template <typename T>
void check_probabilities(const char* who, const Tensor<T>& probabilities,
                         const std::vector<Index>& labels) {
  if (probabilities.rank() != 2)
    fail(who, ": expected probabilities of shape (N, K), got ", probabilities.shape());
  if (static_cast<Index>(labels.size()) != probabilities.dim(0))
    fail(who, ": expected one label per row of the probabilities, got ", labels.size(),
         " labels for ", probabilities.dim(0), " rows");
  for (std::size_t n = 0; n < labels.size(); ++n)
    if (labels[n] < 0 || labels[n] >= probabilities.dim(1))
      fail(who, ": expected labels in [0, ", probabilities.dim(1), "), got ", labels[n],
           " at sample ", n);
}

}  // namespace detail

// One ClassFigures per class k = 0..K-1.
template <typename T>
std::vector<ClassFigures> classification_report(const Tensor<T>& probabilities,
                                                const std::vector<Index>& labels) {
  detail::check_probabilities("classification_report", probabilities, labels);
  const Index classes = probabilities.dim(1);
  const std::vector<Index> predicted = predicted_classes(probabilities);
  std::vector<ClassFigures> figures(static_cast<std::size_t>(classes));
  std::vector<double> loss_sum(static_cast<std::size_t>(classes), 0.0);
  const auto p = probabilities.matrix();
  for (std::size_t n = 0; n < labels.size(); ++n) {
    ClassFigures& f = figures[static_cast<std::size_t>(labels[n])];
    ++f.samples;
    f.correct += predicted[n] == labels[n];
    const double p_true = static_cast<double>(p(static_cast<Index>(n), labels[n]));
    loss_sum[static_cast<std::size_t>(labels[n])] -= std::log(std::max(p_true, 1e-7));
    figures[static_cast<std::size_t>(predicted[n])].predicted_share += 1.0;
  }
  const double total = static_cast<double>(labels.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t k = 0; k < figures.size(); ++k) {
    ClassFigures& f = figures[k];
    const auto n = static_cast<double>(f.samples);
    f.accuracy = f.samples > 0 ? static_cast<double>(f.correct) / n : nan;
    f.mean_loss = f.samples > 0 ? loss_sum[k] / n : nan;
    f.predicted_share = total > 0 ? f.predicted_share / total : 0.0;
    f.actual_share = total > 0 ? n / total : 0.0;
  }
  return figures;
}

namespace detail {
inline std::string class_name(const std::vector<std::string>& names, std::size_t k) {
  return k < names.size() ? names[k] : std::to_string(k);
}
}  // namespace detail

// A plain-text table, one line per class:
//   class         samples  accuracy  mean loss  predicted  actual
//   airplane         1000    0.8120     0.5731     0.1044  0.1000
inline std::string format_classification_report(const std::vector<ClassFigures>& figures,
                                                const std::vector<std::string>& names = {}) {
  std::string text = "class         samples  accuracy  mean loss  predicted  actual\n";
  char line[160];
  for (std::size_t k = 0; k < figures.size(); ++k) {
    const ClassFigures& f = figures[k];
    std::snprintf(line, sizeof line, "%-12s %8lld  %8.4f  %9.4f  %9.4f  %6.4f\n",
                  detail::class_name(names, k).substr(0, 12).c_str(),
                  static_cast<long long>(f.samples), f.accuracy, f.mean_loss, f.predicted_share,
                  f.actual_share);
    text += line;
  }
  return text;
}

// Prediction bias on two sets side by side: per class, the share of predictions minus the share
// of samples (positive: predicted too often), on the training and on the test set.
inline std::string prediction_bias_table(const std::vector<ClassFigures>& train,
                                         const std::vector<ClassFigures>& test,
                                         const std::vector<std::string>& names = {}) {
  if (train.size() != test.size())
    fail("prediction_bias_table: expected the same classes in both sets, got ", train.size(),
         " and ", test.size());
  std::string text = "class         train bias  test bias\n";
  char line[96];
  for (std::size_t k = 0; k < train.size(); ++k) {
    std::snprintf(line, sizeof line, "%-12s  %+10.4f  %+9.4f\n",
                  detail::class_name(names, k).substr(0, 12).c_str(),
                  train[k].predicted_share - train[k].actual_share,
                  test[k].predicted_share - test[k].actual_share);
    text += line;
  }
  return text;
}

}  // namespace minicnn
