// ProgressBar: what fit() prints while it trains, as Keras does.
//
// On a terminal (Verbose::progress_bar), one bar per epoch, redrawn in place with '\r' at most
// every 50 ms (a terminal that redraws every batch slows the training down):
//
//   Epoch 1/5
//     12/1875 [>.............................] - ETA: 35s - loss: 0.4321 - accuracy: 0.8765
//   1875/1875 [==============================] - 5s 3ms/step - loss: 0.2 - accuracy: 0.9 - val_...
//
// Elsewhere (Verbose::epoch_lines: a log file, a pipe, CI), one line per epoch and nothing else,
// because '\r' redraws turn a log into one enormous line:
//
//   Epoch 1/5 - 5s 3ms/step - loss: 0.2000 - accuracy: 0.9000 - val_loss: ... - val_accuracy: ...
//
// Verbose::automatic picks the bar when the stream is std::cout or std::cerr and that stream is a
// terminal (isatty), epoch lines otherwise. Metrics print as Keras prints them: %.4f, or %.4e
// for magnitudes at most 1e-3.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <ostream>
#include <string>

#include "minicnn/callback.hpp"
#include "minicnn/shape.hpp"

#if defined(_WIN32)
#include <io.h>
#define MINICNN_ISATTY(fd) _isatty(fd)
#else
#include <unistd.h>
#define MINICNN_ISATTY(fd) isatty(fd)
#endif

namespace minicnn {

enum class Verbose {
  automatic,     // progress_bar on a terminal, epoch_lines otherwise
  silent,        // prints nothing (Keras's verbose=0)
  progress_bar,  // Keras's verbose=1
  epoch_lines,   // Keras's verbose=2
};

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, Verbose verbose) : out_(out), mode_(resolve(out, verbose)) {}

  Verbose mode() const { return mode_; }

  // Before the first batch of `epoch` (0-based) of `epochs`, which has `batches` batches.
  void start_epoch(Index epoch, Index epochs, Index batches) {
    epoch_ = epoch;
    epochs_ = epochs;
    batches_ = batches;
    start_ = last_draw_ = Clock::now();
    drawn_ = 0;
    if (mode_ == Verbose::progress_bar) out_ << "Epoch " << epoch + 1 << '/' << epochs << '\n';
  }

  // After batch `done` (1-based) with the running means of loss and accuracy over the epoch.
  void update(Index done, double loss, double accuracy) {
    if (mode_ != Verbose::progress_bar) return;
    const auto now = Clock::now();
    if (drawn_ > 0 && seconds(last_draw_, now) < 0.05) return;
    last_draw_ = now;
    const double eta =
        seconds(start_, now) / static_cast<double>(done) * static_cast<double>(batches_ - done);
    draw(counter(done) + " - ETA: " + duration(eta) + metric("loss", loss) +
         metric("accuracy", accuracy));
  }

  // After validation: the epoch's final figures.
  void end_epoch(const EpochLogs& logs) {
    if (mode_ == Verbose::silent) return;
    const double per_step = logs.seconds / static_cast<double>(batches_ > 0 ? batches_ : 1);
    std::string text = " - " + std::to_string(std::lround(logs.seconds)) + "s " + step(per_step) +
                       metric("loss", logs.loss) + metric("accuracy", logs.accuracy);
    if (logs.has_validation)
      text += metric("val_loss", logs.val_loss) + metric("val_accuracy", logs.val_accuracy);
    if (mode_ == Verbose::progress_bar) {
      draw(counter(batches_) + text);
      out_ << '\n';
    } else {
      out_ << "Epoch " << epoch_ + 1 << '/' << epochs_ << text << '\n';
    }
    out_.flush();
  }

  // fit() stopped on SIGINT after batch `done` of the current epoch.
  void interrupted(Index done) {
    if (mode_ == Verbose::silent) return;
    if (mode_ == Verbose::progress_bar && drawn_ > 0) out_ << '\n';
    out_ << "Interrupted (SIGINT) after batch " << done << '/' << batches_ << " of epoch "
         << epoch_ + 1 << '/' << epochs_ << "; this epoch is not recorded\n";
    out_.flush();
  }

 private:
  using Clock = std::chrono::steady_clock;

  static Verbose resolve(std::ostream& out, Verbose verbose) {
    if (verbose != Verbose::automatic) return verbose;
    const bool terminal =
        (&out == &std::cout && MINICNN_ISATTY(1)) || (&out == &std::cerr && MINICNN_ISATTY(2));
    return terminal ? Verbose::progress_bar : Verbose::epoch_lines;
  }

  static double seconds(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
  }

  // "  12/1875 [>.............................]": the count right-aligned to the total's width,
  // then 30 columns: '=' for done, '>' for the batch in progress, '.' for the rest.
  std::string counter(Index done) const {
    const std::string total = std::to_string(batches_);
    std::string count = std::to_string(done);
    count.insert(0, total.size() > count.size() ? total.size() - count.size() : 0, ' ');
    constexpr Index kWidth = 30;
    const Index filled = batches_ > 0 ? kWidth * done / batches_ : kWidth;
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < kWidth) {
      bar += '>';
      bar.append(static_cast<std::size_t>(kWidth - filled - 1), '.');
    }
    return count + '/' + total + " [" + bar + ']';
  }

  // Rewrites the current line, blanking what is left of a longer previous one.
  void draw(const std::string& line) {
    const std::size_t width = line.size();
    out_ << '\r' << line;
    if (drawn_ > width) out_ << std::string(drawn_ - width, ' ');
    drawn_ = width;
    out_.flush();
  }

  // Keras's ETA format: 35s, 2:05, 1:02:05.
  static std::string duration(double seconds) {
    const long total = std::lround(seconds);
    char text[32];
    if (total >= 3600)
      std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60,
                    total % 60);
    else if (total >= 60)
      std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
    else
      std::snprintf(text, sizeof text, "%lds", total);
    return text;
  }

  // "3ms/step", in s, ms or us as Keras chooses.
  static std::string step(double seconds) {
    char text[32];
    if (seconds >= 1)
      std::snprintf(text, sizeof text, "%.0fs/step", seconds);
    else if (seconds >= 1e-3)
      std::snprintf(text, sizeof text, "%.0fms/step", seconds * 1e3);
    else
      std::snprintf(text, sizeof text, "%.0fus/step", seconds * 1e6);
    return text;
  }

  static std::string metric(const char* name, double value) {
    char text[64];
    std::snprintf(text, sizeof text, std::abs(value) > 1e-3 ? " - %s: %.4f" : " - %s: %.4e", name,
                  value);
    return text;
  }

  std::ostream& out_;
  Verbose mode_;
  Index epoch_ = 0, epochs_ = 0, batches_ = 0;
  Clock::time_point start_, last_draw_;
  std::size_t drawn_ = 0;  // width of the line on screen; 0 before the first draw of an epoch
};

}  // namespace minicnn

#undef MINICNN_ISATTY
