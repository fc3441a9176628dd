// Numerical gradient checks in double precision.
//
// A layer is checked through the scalar L = sum_i y_i * r_i, where y = layer(x) and r is a fixed
// random tensor, so dL/dy = r. backward() gives the analytic dL/dx and dL/dparameter; central
// differences (L(v + h) - L(v - h)) / 2h give the numerical ones, element by element. Every
// evaluation runs on a fresh clone of the layer, so a layer with random state (Dropout) or with
// running statistics (BatchNorm) sees exactly the same state each time.
//
// The error of one element is |analytic - numeric| / max(|analytic|, |numeric|, 1e-3): relative,
// with magnitudes floored at 1e-3 so that gradients that vanish (a dead ReLU) are compared
// absolutely instead of dividing rounding noise by zero.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "minicnn/layer.hpp"

namespace minicnn::testing {

struct GradientReport {
  double worst_error = 0.0;   // largest error over all checked elements
  std::string worst_element;  // where it occurred, e.g. "input[17]" or "kernel[3]"
  Index elements_checked = 0;
};

inline double gradient_error(double analytic, double numeric) {
  const double scale = std::max({std::abs(analytic), std::abs(numeric), 1e-3});
  return std::abs(analytic - numeric) / scale;
}

inline void record(GradientReport& report, double analytic, double numeric,
                   const std::string& element) {
  const double error = gradient_error(analytic, numeric);
  ++report.elements_checked;
  if (error > report.worst_error || report.worst_element.empty()) {
    report.worst_error = std::max(error, report.worst_error);
    report.worst_element = element + " (analytic " + std::to_string(analytic) + ", numeric " +
                           std::to_string(numeric) + ")";
  }
}

inline double dot(const Tensor<double>& a, const Tensor<double>& b) {
  return a.vector().dot(b.vector());
}

// Checks dL/dx and dL/dp for every trainable parameter p of a built layer, on an input of
// `input_shape` (batch axis included) drawn from U(-1, 1) with `seed`.
inline GradientReport check_layer_gradients(const Layer<double>& layer, const Shape& input_shape,
                                            std::uint64_t seed, Mode mode = Mode::training,
                                            double step = 1e-5) {
  Random random(seed);
  Tensor<double> x(input_shape);
  x.fill_uniform(random, -1.0, 1.0);

  // Analytic gradients.
  auto analytic = layer.clone();
  Tensor<double> y, dx;
  analytic->forward(x, y, mode);
  Tensor<double> r(y.shape());
  r.fill_uniform(random, -1.0, 1.0);
  for (Parameter<double>* p : analytic->parameters())
    if (p->trainable) p->grad.set_zero();
  analytic->backward(x, y, r, dx, mode);

  // L evaluated on a fresh clone, after `perturb` changes the clone or the input.
  auto loss = [&](const std::function<void(Layer<double>&, Tensor<double>&)>& perturb) {
    auto probe = layer.clone();
    Tensor<double> input = x, output;
    perturb(*probe, input);
    probe->forward(input, output, mode);
    return dot(output, r);
  };

  GradientReport report;
  for (Index i = 0; i < x.size(); ++i) {
    const double plus = loss([&](Layer<double>&, Tensor<double>& in) { in[i] += step; });
    const double minus = loss([&](Layer<double>&, Tensor<double>& in) { in[i] -= step; });
    record(report, dx[i], (plus - minus) / (2 * step), "input[" + std::to_string(i) + "]");
  }
  const auto parameters = analytic->parameters();
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    if (!parameters[k]->trainable) continue;
    for (Index j = 0; j < parameters[k]->value.size(); ++j) {
      auto nudge = [&](double delta) {
        return loss([&](Layer<double>& probe, Tensor<double>&) {
          probe.parameters()[k]->value[j] += delta;
        });
      };
      const double numeric = (nudge(step) - nudge(-step)) / (2 * step);
      record(report, parameters[k]->grad[j], numeric,
             parameters[k]->name + "[" + std::to_string(j) + "]");
    }
  }
  return report;
}

}  // namespace minicnn::testing
