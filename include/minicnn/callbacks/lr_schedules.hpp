// Learning-rate schedules: callbacks that set the optimizer's learning rate as training goes.
//
//   StepDecay<float> steps(0.1, 0.5, 10);   // 0.1 for epochs 0-9, 0.05 for 10-19, ...
//   CosineDecay<float> cosine(1e-3, 30);    // from 1e-3 down to 0 over 30 epochs
//   ReduceLROnPlateau<float> plateau("val_loss", 0.2, 5);
//   options.callbacks = {&cosine};
//
// StepDecay and CosineDecay set the rate in on_epoch_begin from the epoch number alone, not from
// how many epochs they have seen, so a run resumed with fit(initial_epoch = e) gets the rates of
// the uninterrupted run. ReduceLROnPlateau instead reacts to the metrics in on_epoch_end; its
// state (best value, wait, cooldown) is not saved in checkpoints: a resumed run keeps the
// optimizer's restored learning rate and starts watching for a plateau afresh.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "minicnn/callback.hpp"
#include "minicnn/callbacks/metric_monitor.hpp"
#include "minicnn/error.hpp"
#include "minicnn/optimizer.hpp"

namespace minicnn {

// lr(epoch) = initial * factor^floor(epoch / step_epochs), epoch from 0.
template <typename T>
class StepDecay : public Callback<T> {
 public:
  StepDecay(double initial, double factor, Index step_epochs)
      : initial_(initial), factor_(factor), step_epochs_(step_epochs) {
    if (!(initial > 0.0)) fail("StepDecay: expected initial > 0, got ", initial);
    if (!(factor > 0.0 && factor < 1.0)) fail("StepDecay: expected factor in (0, 1), got ", factor);
    if (step_epochs < 1) fail("StepDecay: expected step_epochs >= 1, got ", step_epochs);
  }

  double learning_rate(Index epoch) const {
    return initial_ * std::pow(factor_, static_cast<double>(epoch / step_epochs_));
  }

  void on_epoch_begin(Index epoch, Model<T>&, Optimizer<T>& optimizer) override {
    optimizer.set_learning_rate(learning_rate(epoch));
  }

 private:
  double initial_;
  double factor_;
  Index step_epochs_;
};

// lr(epoch) = minimum + (initial - minimum) * (1 + cos(pi * e / total_epochs)) / 2 with
// e = min(epoch, total_epochs): half a cosine from initial at epoch 0 down to minimum at epoch
// total_epochs, then constant at minimum.
template <typename T>
class CosineDecay : public Callback<T> {
 public:
  CosineDecay(double initial, Index total_epochs, double minimum = 0.0)
      : initial_(initial), total_epochs_(total_epochs), minimum_(minimum) {
    if (!(initial > 0.0)) fail("CosineDecay: expected initial > 0, got ", initial);
    if (total_epochs < 1) fail("CosineDecay: expected total_epochs >= 1, got ", total_epochs);
    if (!(minimum >= 0.0 && minimum <= initial))
      fail("CosineDecay: expected minimum in [0, initial] = [0, ", initial, "], got ", minimum);
  }

  double learning_rate(Index epoch) const {
    constexpr double kPi = 3.14159265358979323846;
    const auto progress =
        static_cast<double>(std::min(epoch, total_epochs_)) / static_cast<double>(total_epochs_);
    return minimum_ + (initial_ - minimum_) * (1.0 + std::cos(kPi * progress)) / 2.0;
  }

  void on_epoch_begin(Index epoch, Model<T>&, Optimizer<T>& optimizer) override {
    optimizer.set_learning_rate(learning_rate(epoch));
  }

 private:
  double initial_;
  Index total_epochs_;
  double minimum_;
};

// Keras's ReduceLROnPlateau: after each epoch,
//   in cooldown (cooldown_counter > 0): cooldown_counter - 1, wait = 0;
//   if the metric improves (MetricMonitor, by more than min_delta): wait = 0;
//   else, unless (still) in cooldown: wait + 1, and when wait >= patience and lr > min_lr:
//     lr = max(lr * factor, min_lr), cooldown_counter = cooldown, wait = 0.
// So the rate drops after `patience` epochs in a row without improvement (at the first such epoch
// for patience 0 or 1). Because the counter is decremented before it is tested, the epoch that
// brings it to 0 counts again: a cooldown of c ignores the c - 1 epochs after a reduction (they
// can still set a new best), and cooldown 1 is the same as 0. That is Keras's behaviour, kept so
// that a Keras recipe gives the same rates. Once lr has reached min_lr it stays there. Keras
// compares lr with min_lr rounded to float32; here both are doubles.
template <typename T>
class ReduceLROnPlateau : public Callback<T> {
 public:
  // min_lr comes before cooldown (Keras has them the other way round): min_lr is the argument
  // the API specifies and recipes set; a min_lr of 1e-6 passed where an Index cooldown is taken
  // would silently become cooldown 0.
  explicit ReduceLROnPlateau(const std::string& monitor = "val_loss", double factor = 0.1,
                             Index patience = 10, double min_delta = 1e-4, double min_lr = 0.0,
                             Index cooldown = 0, MonitorMode mode = MonitorMode::automatic)
      : monitor_("ReduceLROnPlateau", monitor, mode, min_delta),
        factor_(factor),
        patience_(patience),
        cooldown_(cooldown),
        min_lr_(min_lr) {
    if (!(factor > 0.0 && factor < 1.0))
      fail("ReduceLROnPlateau: expected factor in (0, 1), got ", factor);
    if (patience < 0) fail("ReduceLROnPlateau: expected patience >= 0, got ", patience);
    if (cooldown < 0) fail("ReduceLROnPlateau: expected cooldown >= 0, got ", cooldown);
    if (!(min_lr >= 0.0)) fail("ReduceLROnPlateau: expected min_lr >= 0, got ", min_lr);
  }

  void on_train_begin(Model<T>&, Optimizer<T>&) override {
    monitor_.reset();
    wait_ = 0;
    cooldown_counter_ = 0;
  }

  bool on_epoch_end(const EpochLogs& logs, Model<T>&, Optimizer<T>& optimizer) override {
    const double value = logs.get(monitor_.metric());
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      wait_ = 0;
    }
    if (monitor_.update(value)) {
      wait_ = 0;
    } else if (cooldown_counter_ == 0) {
      ++wait_;
      const double old_lr = optimizer.learning_rate();
      if (wait_ >= patience_ && old_lr > min_lr_) {
        optimizer.set_learning_rate(std::max(old_lr * factor_, min_lr_));
        cooldown_counter_ = cooldown_;
        wait_ = 0;
      }
    }
    return false;
  }

  const MetricMonitor& monitor() const { return monitor_; }
  // The best monitored value since training began (+-infinity before any).
  double best() const { return monitor_.best(); }
  // Epochs in a row without improvement, outside cooldown.
  Index wait() const { return wait_; }
  // Epochs of cooldown left.
  Index cooldown_counter() const { return cooldown_counter_; }

 private:
  MetricMonitor monitor_;
  double factor_;
  Index patience_;
  Index cooldown_;
  double min_lr_;
  Index wait_ = 0;
  Index cooldown_counter_ = 0;
};

}  // namespace minicnn
