// How the units of a layer respond over a set of inputs: the mean and standard deviation of each
// unit's output, and how many units never fire (output never above a threshold, 0 for ReLU: a
// "dead" unit that passes no gradient and could be removed).
//
//   Tensor<float> h = layer_output(model, x_test, 5);   // (N, units) of a Dense + ReLU
//   UnitActivity a = unit_activity(h);
//   a.never_active, a.mean[u], a.stddev[u]
#pragma once

#include <cmath>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

struct UnitActivity {
  std::vector<double> mean;    // (units): mean output over the samples
  std::vector<double> stddev;  // (units): population standard deviation over the samples
  std::vector<double> active;  // (units): share of samples where the output > threshold
  Index never_active = 0;      // units with active == 0
};

// activations (N, units), or (N, C, H, W) summarised per channel over N, H and W.
template <typename T>
UnitActivity unit_activity(const Tensor<T>& activations, double threshold = 0.0) {
  if (activations.rank() != 2 && activations.rank() != 4)
    fail("unit_activity: expected activations of shape (N, units) or (N, C, H, W), got ",
         activations.shape());
  if (activations.dim(0) < 1 || activations.size() == 0)
    fail("unit_activity: expected at least one sample, got ", activations.shape());
  const Index batch = activations.dim(0), units = activations.dim(1);
  const Index spatial = activations.size() / (batch * units);
  const double count = static_cast<double>(batch * spatial);
  UnitActivity result;
  for (Index u = 0; u < units; ++u) {
    // Two passes in double: the mean, then the squared deviations (no cancellation).
    double sum = 0.0;
    Index above = 0;
    for (Index n = 0; n < batch; ++n)
      for (Index s = 0; s < spatial; ++s) {
        const double v = static_cast<double>(activations[(n * units + u) * spatial + s]);
        sum += v;
        above += v > threshold;
      }
    const double mean = sum / count;
    double squares = 0.0;
    for (Index n = 0; n < batch; ++n)
      for (Index s = 0; s < spatial; ++s) {
        const double d = static_cast<double>(activations[(n * units + u) * spatial + s]) - mean;
        squares += d * d;
      }
    result.mean.push_back(mean);
    result.stddev.push_back(std::sqrt(squares / count));
    result.active.push_back(static_cast<double>(above) / count);
    result.never_active += above == 0;
  }
  return result;
}

}  // namespace minicnn
