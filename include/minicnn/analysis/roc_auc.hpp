// ROC AUC, exact: the probability that a random positive sample scores higher than a random
// negative one, ties counting one half. That is the Mann-Whitney U statistic over P * N:
//   AUC = (R_pos - P (P + 1) / 2) / (P N)
// where R_pos is the sum of the positives' ranks among all scores, tied scores sharing the mean
// of their ranks. It equals the area under the ROC curve drawn with ties as diagonal steps (what
// scikit-learn's roc_auc_score computes), without building the curve.
//
// Multi-class: one-vs-rest per class k (scores = column k of the probabilities, positives = the
// samples of class k) and the macro average, the unweighted mean over the classes.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "minicnn/analysis/classification_report.hpp"
#include "minicnn/error.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

// AUC of `scores` for the samples flagged `positive`; needs at least one positive and one
// negative sample and finite scores.
inline double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  if (scores.size() != positive.size())
    fail("roc_auc: expected one flag per score, got ", positive.size(), " flags for ",
         scores.size(), " scores");
  const auto positives = static_cast<double>(std::count(positive.begin(), positive.end(), true));
  const double negatives = static_cast<double>(scores.size()) - positives;
  if (positives == 0 || negatives == 0)
    fail("roc_auc: expected positive and negative samples, got ", positives, " positive and ",
         negatives, " negative");
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (!std::isfinite(scores[i]))
      fail("roc_auc: expected finite scores, got ", scores[i], " at sample ", i);

  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  // Ranks from 1; a run of equal scores [i, j) shares the mean rank (i + 1 + j) / 2.
  double positive_rank_sum = 0.0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i + 1;
    while (j < order.size() && scores[order[j]] == scores[order[i]])
      ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k)
      if (positive[order[k]]) positive_rank_sum += rank;
    i = j;
  }
  return (positive_rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives);
}

struct RocAuc {
  std::vector<double> per_class;  // one-vs-rest AUC of class k; NaN when the set has no sample
                                  // of k, or only samples of k
  double macro = 0.0;             // mean over the classes whose AUC is defined
};

// probabilities (N, K), labels (N). Fails when no class has a defined AUC.
template <typename T>
RocAuc roc_auc_one_vs_rest(const Tensor<T>& probabilities, const std::vector<Index>& labels) {
  detail::check_probabilities("roc_auc_one_vs_rest", probabilities, labels);
  const Index classes = probabilities.dim(1);
  const auto p = probabilities.matrix();
  RocAuc result;
  std::vector<double> scores(labels.size());
  std::vector<bool> positive(labels.size());
  double sum = 0.0;
  Index defined = 0;
  for (Index k = 0; k < classes; ++k) {
    for (std::size_t n = 0; n < labels.size(); ++n) {
      scores[n] = static_cast<double>(p(static_cast<Index>(n), k));
      positive[n] = labels[n] == k;
    }
    const auto members = std::count(positive.begin(), positive.end(), true);
    if (members == 0 || members == static_cast<std::ptrdiff_t>(labels.size())) {
      result.per_class.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    result.per_class.push_back(roc_auc(scores, positive));
    sum += result.per_class.back();
    ++defined;
  }
  if (defined == 0)
    fail("roc_auc_one_vs_rest: expected samples of at least two classes, got ", labels.size(),
         " samples of one class or none");
  result.macro = sum / static_cast<double>(defined);
  return result;
}

}  // namespace minicnn
