// The worst-classified samples: misclassified ones, lowest probability for the true class first
// (the model was most confidently wrong about them), with their pictures.
//
//   auto worst = worst_examples(x_test, model.predict(x_test), class_labels(y_test), 16);
//   worst[0].index, .predicted, .actual, .probability, .picture (C, H, W)
#pragma once

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "minicnn/analysis/classification_report.hpp"
#include "minicnn/analysis/labels.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

template <typename T>
struct WorstExample {
  Index index = 0;                     // row in the set
  Index predicted = 0;                 // the class with the highest probability
  Index actual = 0;                    // the true class
  double probability = 0.0;            // the probability given to the true class
  double predicted_probability = 0.0;  // the probability given to the predicted class
  Tensor<T> picture;                   // the sample, one sample's shape (e.g. (C, H, W))
};

// At most `count` misclassified samples of x (N, ...), ordered by the probability of their true
// class, lowest first; ties by index. probabilities (N, K), labels (N).
template <typename T>
std::vector<WorstExample<T>> worst_examples(const Tensor<T>& x, const Tensor<T>& probabilities,
                                            const std::vector<Index>& labels, Index count) {
  detail::check_probabilities("worst_examples", probabilities, labels);
  if (x.rank() < 2 || x.dim(0) != probabilities.dim(0))
    fail("worst_examples: expected one sample of x per row of the probabilities, got x of shape ",
         x.shape(), " for ", probabilities.dim(0), " rows");
  if (count < 0) fail("worst_examples: expected count >= 0, got ", count);
  const std::vector<Index> predicted = predicted_classes(probabilities);
  const auto p = probabilities.matrix();
  std::vector<Index> wrong;
  for (Index n = 0; n < x.dim(0); ++n)
    if (predicted[static_cast<std::size_t>(n)] != labels[static_cast<std::size_t>(n)])
      wrong.push_back(n);
  const auto true_probability = [&](Index n) { return p(n, labels[static_cast<std::size_t>(n)]); };
  std::stable_sort(wrong.begin(), wrong.end(),
                   [&](Index a, Index b) { return true_probability(a) < true_probability(b); });
  wrong.resize(std::min<std::size_t>(wrong.size(), static_cast<std::size_t>(count)));

  const Shape sample = x.shape().sample();
  std::vector<WorstExample<T>> result;
  for (Index n : wrong) {
    WorstExample<T> e;
    e.index = n;
    e.actual = labels[static_cast<std::size_t>(n)];
    e.predicted = predicted[static_cast<std::size_t>(n)];
    e.probability = static_cast<double>(true_probability(n));
    e.predicted_probability = static_cast<double>(p(n, e.predicted));
    e.picture = Tensor<T>(sample);
    std::memcpy(e.picture.data(), x.data() + n * sample.size(),
                static_cast<std::size_t>(sample.size()) * sizeof(T));
    result.push_back(std::move(e));
  }
  return result;
}

}  // namespace minicnn
