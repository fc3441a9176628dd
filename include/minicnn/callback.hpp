// Callback<T>: hooks that fit() calls around epochs, as in Keras. Learning-rate schedules act in
// on_epoch_begin, early stopping and checkpoints in on_epoch_end.
#pragma once

#include <string>

#include "minicnn/error.hpp"
#include "minicnn/optimizer.hpp"

namespace minicnn {

template <typename T>
class Model;

// The figures of one finished epoch (epoch counts from 0).
struct EpochLogs {
  Index epoch = 0;
  double loss = 0.0;
  double accuracy = 0.0;
  bool has_validation = false;
  double val_loss = 0.0;
  double val_accuracy = 0.0;
  double seconds = 0.0;
  double learning_rate = 0.0;

  // A metric by its Keras name: "loss", "accuracy", "val_loss" or "val_accuracy".
  double get(const std::string& metric) const {
    if (metric == "loss") return loss;
    if (metric == "accuracy") return accuracy;
    if (metric == "val_loss" || metric == "val_accuracy") {
      if (!has_validation)
        fail("EpochLogs: metric '", metric, "' needs validation data, but fit() was given none");
      return metric == "val_loss" ? val_loss : val_accuracy;
    }
    fail("EpochLogs: expected loss, accuracy, val_loss or val_accuracy, got '", metric, "'");
  }
};

template <typename T>
class Callback {
 public:
  virtual ~Callback() = default;

  virtual void on_train_begin(Model<T>& /*model*/, Optimizer<T>& /*optimizer*/) {}
  // Before the first batch of `epoch`; schedules set the learning rate here.
  virtual void on_epoch_begin(Index /*epoch*/, Model<T>& /*model*/, Optimizer<T>& /*optimizer*/) {}
  // After validation of an epoch; returning true stops training after this epoch.
  virtual bool on_epoch_end(const EpochLogs& /*logs*/, Model<T>& /*model*/,
                            Optimizer<T>& /*optimizer*/) {
    return false;
  }
  virtual void on_train_end(Model<T>& /*model*/, Optimizer<T>& /*optimizer*/) {}

  // In a distributed fit (distributed/data_parallel.hpp), true when only rank 0 runs this
  // callback: those that write files (ModelCheckpoint), so that a file is written once. The others
  // run on every rank, which all see the same figures and so decide alike (early stopping,
  // learning-rate schedules).
  virtual bool rank_zero_only() const { return false; }
};

}  // namespace minicnn
