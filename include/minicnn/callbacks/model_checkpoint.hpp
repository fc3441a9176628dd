// ModelCheckpoint: saves the model and its optimizer to a checkpoint file after epochs, as
// Keras's. Each save is model.save(path, &optimizer, epoch + 1): the file resumes training with
// restore() and fit(initial_epoch = the value restore() returns).
//
//   ModelCheckpoint<float> last("runs/last.mcnn");                        // after every epoch
//   ModelCheckpoint<float> best("runs/best.mcnn", "val_accuracy", true);  // when it improves
//   ModelCheckpoint<float> each("runs/epoch-{epoch:03d}.mcnn");           // one file per epoch
//   options.callbacks = {&last, &best};
//
// "{epoch}" in the path becomes the number of completed epochs (1 after the first epoch, as
// Keras), "{epoch:0Nd}" the same zero-padded to N digits (N from 1 to 9), so that the files sort.
// save_best_only saves only when the monitored metric improves on the best value this callback
// has seen (MetricMonitor, no min_delta, as Keras); the metric is not read otherwise. That best
// value lives in the callback, as in Keras: it carries over between fit() calls of one process but
// is not in the checkpoint, so a resumed run saves again after its first epoch. Files are written
// atomically (atomic_file.hpp): a crash during a save leaves the previous file whole. In a
// distributed fit only rank 0 saves (every rank holds the same weights).
#pragma once

#include <string>
#include <utility>

#include "minicnn/callback.hpp"
#include "minicnn/callbacks/metric_monitor.hpp"
#include "minicnn/model/model.hpp"

namespace minicnn {

template <typename T>
class ModelCheckpoint : public Callback<T> {
 public:
  explicit ModelCheckpoint(std::string path, const std::string& monitor = "val_loss",
                           bool save_best_only = false, MonitorMode mode = MonitorMode::automatic)
      : path_(std::move(path)),
        monitor_("ModelCheckpoint", monitor, mode, 0.0),
        save_best_only_(save_best_only) {
    if (path_.empty()) fail("ModelCheckpoint: expected a file path, got an empty one");
    file_path(1);  // refuses a malformed placeholder now rather than after the first epoch
  }

  bool on_epoch_end(const EpochLogs& logs, Model<T>& model, Optimizer<T>& optimizer) override {
    if (save_best_only_ && !monitor_.update(logs)) return false;
    last_saved_ = file_path(logs.epoch + 1);
    model.save(last_saved_, &optimizer, logs.epoch + 1);
    return false;
  }

  // In a distributed fit, rank 0 alone writes the file.
  bool rank_zero_only() const override { return true; }

  // The path with its placeholder replaced for `epochs_completed`.
  std::string file_path(Index epochs_completed) const {
    std::string result;
    std::size_t from = 0;
    for (std::size_t open = path_.find('{'); open != std::string::npos;
         open = path_.find('{', from)) {
      const std::size_t close = path_.find('}', open);
      const std::string field =
          path_.substr(open, close == std::string::npos ? std::string::npos : close - open + 1);
      result += path_.substr(from, open - from) + epoch_text(field, epochs_completed);
      from = open + field.size();
    }
    return result + path_.substr(from);
  }

  const std::string& path() const { return path_; }
  const MetricMonitor& monitor() const { return monitor_; }
  bool save_best_only() const { return save_best_only_; }
  // The file written by the last save ("" before any).
  const std::string& last_saved() const { return last_saved_; }

 private:
  // "{epoch}" or "{epoch:0Nd}" -> the epoch number; anything else in braces is refused.
  std::string epoch_text(const std::string& field, Index epoch) const {
    std::string digits = std::to_string(epoch);
    if (field == "{epoch}") return digits;
    const bool padded = field.size() == 11 && field.compare(0, 8, "{epoch:0") == 0 &&
                        field[8] >= '1' && field[8] <= '9' && field.compare(9, 2, "d}") == 0;
    if (!padded)
      fail("ModelCheckpoint: expected {epoch} or {epoch:0Nd} in the path '", path_, "', got '",
           field, "'");
    const auto width = static_cast<std::size_t>(field[8] - '0');
    if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
    return digits;
  }

  std::string path_;
  MetricMonitor monitor_;
  bool save_best_only_;
  std::string last_saved_;
};

}  // namespace minicnn
