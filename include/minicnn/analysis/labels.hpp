// Class indices from tensors, the form every analysis in this folder takes:
//   class_labels(y)       y (N) class indices stored as T, or (N, K) one-hot / probability rows
//   predicted_classes(p)  p (N, K) scores or probabilities: the index of each row's maximum
#pragma once

#include <cmath>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

// The index of the highest entry of each row of `scores` (N, K); ties go to the first.
template <typename T>
std::vector<Index> predicted_classes(const Tensor<T>& scores) {
  if (scores.rank() != 2 || scores.dim(1) < 1)
    fail("predicted_classes: expected scores of shape (N, K), got ", scores.shape());
  const auto m = scores.matrix();
  std::vector<Index> classes(static_cast<std::size_t>(m.rows()));
  for (Index n = 0; n < m.rows(); ++n) {
    Index best = 0;
    for (Index k = 1; k < m.cols(); ++k)
      if (m(n, k) > m(n, best)) best = k;
    classes[static_cast<std::size_t>(n)] = best;
  }
  return classes;
}

// The class of each sample: y (N) holds whole numbers >= 0, y (N, K) one row per sample whose
// highest entry is the class.
template <typename T>
std::vector<Index> class_labels(const Tensor<T>& y) {
  if (y.rank() == 2) return predicted_classes(y);
  if (y.rank() != 1) fail("class_labels: expected labels of shape (N) or (N, K), got ", y.shape());
  std::vector<Index> labels(static_cast<std::size_t>(y.size()));
  for (Index n = 0; n < y.size(); ++n) {
    const double value = static_cast<double>(y[n]);
    if (!(value >= 0.0) || value != std::floor(value))
      fail("class_labels: expected class indices (whole numbers >= 0), got ", value, " at sample ",
           n);
    labels[static_cast<std::size_t>(n)] = static_cast<Index>(value);
  }
  return labels;
}

}  // namespace minicnn
