// Numerical gradient checks of a Loss<double> in double precision.
//
// compute() gives the analytic dL/dprediction; central differences
// (L(p + h e_i) - L(p - h e_i)) / 2h give the numerical one, element by element, with the
// target fixed. Errors are measured as in gradient_check.hpp (relative, magnitudes floored at
// 1e-3). Keep probabilities away from the clipping floor 1e-7 by more than the step, or the
// numerical derivative straddles the kink.
#pragma once

#include <string>

#include "minicnn/loss.hpp"
#include "support/gradient_check.hpp"

namespace minicnn::testing {

inline GradientReport check_loss_gradients(const Loss<double>& loss,
                                           const Tensor<double>& prediction,
                                           const Tensor<double>& target, double step = 1e-5) {
  Tensor<double> analytic;
  loss.compute(prediction, target, &analytic);
  if (analytic.shape() != prediction.shape())
    fail(loss.kind(), ": gradient of shape ", analytic.shape(), " for a prediction of shape ",
         prediction.shape());

  GradientReport report;
  Tensor<double> probe = prediction;
  for (Index i = 0; i < prediction.size(); ++i) {
    probe[i] = prediction[i] + step;
    const double plus = loss.compute(probe, target, nullptr);
    probe[i] = prediction[i] - step;
    const double minus = loss.compute(probe, target, nullptr);
    probe[i] = prediction[i];
    record(report, analytic[i], (plus - minus) / (2 * step),
           "prediction[" + std::to_string(i) + "]");
  }
  return report;
}

}  // namespace minicnn::testing
