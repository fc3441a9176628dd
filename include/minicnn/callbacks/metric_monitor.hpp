// MetricMonitor: follows one metric of EpochLogs ("loss", "accuracy", "val_loss" or
// "val_accuracy") over epochs and says when it improves. EarlyStopping, ReduceLROnPlateau and
// ModelCheckpoint(save_best_only) decide with it, so the three agree on what "better" means.
//
// Keras's rule: in min mode a value improves when value < best - min_delta, in max mode when
// value > best + min_delta. best starts at +infinity (min) or -infinity (max), so the first finite
// value is an improvement; NaN never is. MonitorMode::automatic is max for the accuracies and min
// for the losses (Keras's "auto").
//
// Keras takes abs(min_delta) in EarlyStopping and uses a negative one as given in
// ReduceLROnPlateau; minicnn refuses a negative min_delta instead, so that a sign typo cannot
// silently turn "improves by at least" into "may get worse by".
#pragma once

#include <limits>
#include <string>
#include <utility>

#include "minicnn/callback.hpp"
#include "minicnn/error.hpp"

namespace minicnn {

// Whether a smaller or a larger value of the monitored metric is better. (Not named "Mode":
// layer.hpp's Mode is inference/training.)
enum class MonitorMode { automatic, min, max };

class MetricMonitor {
 public:
  // `who` names the callback in error messages, e.g. "EarlyStopping". An unknown metric name is
  // refused here, with the error EpochLogs::get gives for it.
  MetricMonitor(const std::string& who, std::string metric, MonitorMode mode, double min_delta)
      : metric_(std::move(metric)), min_delta_(min_delta) {
    EpochLogs every_metric;
    every_metric.has_validation = true;
    every_metric.get(metric_);
    if (!(min_delta >= 0.0)) fail(who, ": expected min_delta >= 0, got ", min_delta);
    if (mode == MonitorMode::automatic)
      mode = metric_.find("accuracy") != std::string::npos ? MonitorMode::max : MonitorMode::min;
    maximize_ = mode == MonitorMode::max;
    reset();
  }

  // Forgets every value seen (at the start of training).
  void reset() {
    best_ = maximize_ ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
  }

  // Reads the metric from `logs`; if it improves on the best so far, it becomes the best and the
  // result is true. Throws (EpochLogs::get) for a validation metric when fit() had no validation.
  bool update(const EpochLogs& logs) { return update(logs.get(metric_)); }
  bool update(double value) {
    const bool improved = maximize_ ? value > best_ + min_delta_ : value < best_ - min_delta_;
    if (improved) best_ = value;
    return improved;
  }

  const std::string& metric() const { return metric_; }
  bool maximizes() const { return maximize_; }
  double min_delta() const { return min_delta_; }
  // The best value so far (+-infinity before any).
  double best() const { return best_; }

 private:
  std::string metric_;
  double min_delta_;
  bool maximize_ = false;
  double best_ = 0.0;
};

}  // namespace minicnn
