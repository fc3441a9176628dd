// ConfusionMatrix: counts[actual][predicted] over a set of samples, and the three views a lab
// looks at: the counts, each row normalised to sum 1 (row a: where the samples of class a went;
// its diagonal entry is the class's accuracy), and the same with the diagonal masked (NaN), so
// that a heat map's colour scale shows the confusions instead of the correct predictions.
//
//   ConfusionMatrix cm(10, class_labels(y_test), model.predict_classes(x_test));
//   cm.count(3, 5)            // 3s predicted as 5s
//   cm.row_normalized()       // Eigen::MatrixXd (10, 10)
#pragma once

#include <limits>
#include <vector>

#include <Eigen/Core>

#include "minicnn/error.hpp"
#include "minicnn/shape.hpp"

namespace minicnn {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(Index classes) : counts_(checked(classes), classes) {
    counts_.setZero();
  }

  // Counts one pair per sample; `actual` and `predicted` must have the same length.
  ConfusionMatrix(Index classes, const std::vector<Index>& actual,
                  const std::vector<Index>& predicted)
      : ConfusionMatrix(classes) {
    if (actual.size() != predicted.size())
      fail("ConfusionMatrix: expected as many predictions as labels, got ", predicted.size(),
           " predictions for ", actual.size(), " labels");
    for (std::size_t i = 0; i < actual.size(); ++i)
      add(actual[i], predicted[i]);
  }

  void add(Index actual, Index predicted) {
    if (actual < 0 || actual >= classes() || predicted < 0 || predicted >= classes())
      fail("ConfusionMatrix: expected classes in [0, ", classes(), "), got actual ", actual,
           " and predicted ", predicted);
    ++counts_(actual, predicted);
  }

  Index classes() const { return counts_.rows(); }
  Index count(Index actual, Index predicted) const { return counts_(actual, predicted); }
  Index total() const { return counts_.sum(); }
  // Samples of class `actual` (its row's sum).
  Index support(Index actual) const { return counts_.row(actual).sum(); }
  // The fraction of samples on the diagonal; 0 for an empty matrix.
  double accuracy() const {
    return total() == 0 ? 0.0 : static_cast<double>(counts_.trace()) / static_cast<double>(total());
  }

  // counts (classes, classes) as doubles: rows actual, columns predicted.
  Eigen::MatrixXd counts() const { return counts_.cast<double>(); }

  // counts(a, p) / support(a); a row without samples stays 0.
  Eigen::MatrixXd row_normalized() const {
    Eigen::MatrixXd rows = counts();
    for (Index a = 0; a < classes(); ++a)
      if (support(a) > 0) rows.row(a) /= static_cast<double>(support(a));
    return rows;
  }

  // row_normalized() with NaN on the diagonal: the share of class a's samples predicted as p != a.
  Eigen::MatrixXd errors_only() const {
    Eigen::MatrixXd rows = row_normalized();
    rows.diagonal().setConstant(std::numeric_limits<double>::quiet_NaN());
    return rows;
  }

 private:
  using Counts = Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic>;

  static Index checked(Index classes) {
    if (classes < 1) fail("ConfusionMatrix: expected at least 1 class, got ", classes);
    return classes;
  }

  Counts counts_;
};

}  // namespace minicnn
