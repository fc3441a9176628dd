// History: what fit() returns, one EpochLogs (callback.hpp) per completed epoch, as Keras's
// History. write_csv() and write_json() save it for plotting; both write atomically.
//
//   CSV   epoch,loss,accuracy[,val_loss,val_accuracy],seconds,learning_rate   one row per epoch
//   JSON  {"epoch": [0, 1], "loss": [...], ..., "interrupted": false}        Keras's
//         history.history layout: one list per metric, ready for pandas or matplotlib
//
// Numbers are written in the shortest form that reads back to the same double; a value that is
// not finite is written nan/inf in CSV and null in JSON (JSON has no NaN). The validation columns
// appear when the epochs have validation figures.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "minicnn/atomic_file.hpp"
#include "minicnn/callback.hpp"

namespace minicnn {

struct History {
  std::vector<EpochLogs> epochs;  // completed epochs, in order
  bool interrupted = false;       // fit() stopped early on SIGINT (Ctrl-C)

  bool has_validation() const { return !epochs.empty() && epochs.front().has_validation; }

  // One metric over the epochs, by its Keras name ("loss", "val_accuracy", ...).
  std::vector<double> metric(const std::string& name) const {
    std::vector<double> values;
    values.reserve(epochs.size());
    for (const EpochLogs& logs : epochs)
      values.push_back(logs.get(name));
    return values;
  }

  std::string csv() const {
    std::string text = "epoch,loss,accuracy";
    if (has_validation()) text += ",val_loss,val_accuracy";
    text += ",seconds,learning_rate\n";
    for (const EpochLogs& e : epochs) {
      text +=
          std::to_string(e.epoch) + ',' + number(e.loss, "nan") + ',' + number(e.accuracy, "nan");
      if (has_validation())
        text += ',' + number(e.val_loss, "nan") + ',' + number(e.val_accuracy, "nan");
      text += ',' + number(e.seconds, "nan") + ',' + number(e.learning_rate, "nan") + '\n';
    }
    return text;
  }

  std::string json() const {
    std::string text = "{\n  \"epoch\": [";
    for (std::size_t i = 0; i < epochs.size(); ++i)
      text += (i > 0 ? ", " : "") + std::to_string(epochs[i].epoch);
    text += "],\n";
    std::vector<std::string> names = {"loss", "accuracy"};
    if (has_validation()) names.insert(names.end(), {"val_loss", "val_accuracy"});
    names.insert(names.end(), {"seconds", "learning_rate"});
    for (const std::string& name : names) {
      text += "  \"" + name + "\": [";
      for (std::size_t i = 0; i < epochs.size(); ++i)
        text += (i > 0 ? ", " : "") + number(field(epochs[i], name), "null");
      text += "],\n";
    }
    return text + "  \"interrupted\": " + (interrupted ? "true" : "false") + "\n}\n";
  }

  void write_csv(const std::string& path) const {
    write_file_atomically(path, csv(), "History::write_csv");
  }
  void write_json(const std::string& path) const {
    write_file_atomically(path, json(), "History::write_json");
  }

 private:
  static double field(const EpochLogs& logs, const std::string& name) {
    if (name == "seconds") return logs.seconds;
    if (name == "learning_rate") return logs.learning_rate;
    return logs.get(name);
  }

  // Shortest round-trip text of a finite value; `not_finite` ("nan" or "null") otherwise, with
  // inf/-inf kept in CSV.
  static std::string number(double value, const char* not_finite) {
    if (std::isnan(value)) return not_finite;
    if (std::isinf(value))
      return std::string(not_finite) == "null" ? "null" : (value > 0 ? "inf" : "-inf");
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value);
    return std::string(text, result.ptr);
  }
};

}  // namespace minicnn
