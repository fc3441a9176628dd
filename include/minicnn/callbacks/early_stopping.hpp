// EarlyStopping: stops training when a metric has stopped improving, as Keras's.
//
//   EarlyStopping<float> stop("val_loss", /*min_delta=*/1e-3, /*patience=*/3);
//   options.callbacks = {&stop};
//
// After each epoch the wait grows by one, unless the monitored value improves on the best so far
// by more than min_delta (MetricMonitor), which sets the wait back to 0. Training stops after the
// epoch at which wait >= patience: at the end of the p-th epoch in a row without improvement for
// patience p (Keras counts this way, so patience 0 and 1 both stop at the first epoch that does
// not improve). As in Keras, epoch 0 never stops training.
//
// restore_best_weights: the values of every parameter (trainable or not: BatchNorm's moving
// statistics too) are copied after the best epoch and put back into the model when training ends,
// whether it stopped early or ran all its epochs (Keras 3). The first epoch that has a value is
// copied even when it does not improve (a NaN loss), so that there is always something to
// restore. Random streams and the optimizer's state are not part of the copy.
//
// Each fit() starts afresh (on_train_begin forgets the best value, the wait and the copy), as
// tf.keras 2 did; none of this state is saved in checkpoints, so a resumed run starts counting
// again.
#pragma once

#include <string>
#include <vector>

#include "minicnn/callback.hpp"
#include "minicnn/callbacks/metric_monitor.hpp"
#include "minicnn/model/model.hpp"

namespace minicnn {

template <typename T>
class EarlyStopping : public Callback<T> {
 public:
  explicit EarlyStopping(const std::string& monitor = "val_loss", double min_delta = 0.0,
                         Index patience = 0, MonitorMode mode = MonitorMode::automatic,
                         bool restore_best_weights = false)
      : monitor_("EarlyStopping", monitor, mode, min_delta),
        patience_(patience),
        restore_best_weights_(restore_best_weights) {
    if (patience < 0) fail("EarlyStopping: expected patience >= 0, got ", patience);
  }

  void on_train_begin(Model<T>&, Optimizer<T>&) override {
    monitor_.reset();
    wait_ = 0;
    best_epoch_ = -1;
    stopped_epoch_ = -1;
    has_best_weights_ = false;
  }

  // wait = 0 on improvement, wait + 1 otherwise; stop when wait >= patience (and epoch > 0).
  bool on_epoch_end(const EpochLogs& logs, Model<T>& model, Optimizer<T>&) override {
    const bool improved = monitor_.update(logs);
    // A first epoch that does not improve (NaN) still gives a copy to restore, as in Keras.
    if (improved || (restore_best_weights_ && !has_best_weights_)) {
      if (restore_best_weights_) copy_weights(model);
      best_epoch_ = logs.epoch;
    }
    if (improved) {
      wait_ = 0;
      return false;
    }
    ++wait_;
    if (wait_ < patience_ || logs.epoch == 0) return false;
    stopped_epoch_ = logs.epoch;
    return true;
  }

  void on_train_end(Model<T>& model, Optimizer<T>&) override {
    if (!restore_best_weights_ || !has_best_weights_) return;
    const auto& parameters = model.parameters();
    for (std::size_t i = 0; i < parameters.size(); ++i)
      parameters[i]->value = best_weights_[i];
  }

  const MetricMonitor& monitor() const { return monitor_; }
  // The best monitored value of this fit() (+-infinity before any).
  double best() const { return monitor_.best(); }
  Index patience() const { return patience_; }
  // Epochs in a row without improvement, as of the last epoch.
  Index wait() const { return wait_; }
  // The epoch of the best value (-1 before any), and the epoch that stopped training (-1 when
  // training was not stopped).
  Index best_epoch() const { return best_epoch_; }
  Index stopped_epoch() const { return stopped_epoch_; }

 private:
  // Copy-assignment reuses each tensor's storage, so only the first copy allocates.
  void copy_weights(Model<T>& model) {
    const auto& parameters = model.parameters();
    best_weights_.resize(parameters.size());
    for (std::size_t i = 0; i < parameters.size(); ++i)
      best_weights_[i] = parameters[i]->value;
    has_best_weights_ = true;
  }

  MetricMonitor monitor_;
  Index patience_;
  bool restore_best_weights_;
  Index wait_ = 0;
  Index best_epoch_ = -1;
  Index stopped_epoch_ = -1;
  bool has_best_weights_ = false;
  std::vector<Tensor<T>> best_weights_;  // parameter values after best_epoch, in parameters() order
};

}  // namespace minicnn
