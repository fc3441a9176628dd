// Sliding-window arithmetic shared by Conv2D and the pooling layers: kernel and stride sizes,
// and Keras's 'valid' / 'same' padding rules.
#pragma once

#include <string>

#include "minicnn/error.hpp"
#include "minicnn/shape.hpp"

namespace minicnn {

// 'valid': no padding, the window stays inside the input.
// 'same': output = ceil(input / stride); the missing rows/columns are zero-padded, half before and
// the rest (one more when odd) after, as in Keras/TensorFlow (PyTorch pads symmetrically and
// refuses 'same' with stride > 1).
enum class Padding { valid, same };

inline std::string to_string(Padding padding) {
  return padding == Padding::same ? "same" : "valid";
}

inline Padding padding_from_string(const std::string& text) {
  if (text == "valid") return Padding::valid;
  if (text == "same") return Padding::same;
  fail("Padding: expected 'valid' or 'same', got '", text, "'");
}

// A height x width pair: Size2(3) is 3x3, Size2(1, 5) is 1x5.
struct Size2 {
  Size2(Index both) : height(both), width(both) {}  // NOLINT: implicit on purpose, Conv2D(32, 3)
  Size2(Index h, Index w) : height(h), width(w) {}

  std::string str() const { return std::to_string(height) + "x" + std::to_string(width); }
  static Size2 parse(const std::string& text) {
    const auto x = text.find('x');
    try {
      if (x != std::string::npos)
        return Size2(std::stoll(text.substr(0, x)), std::stoll(text.substr(x + 1)));
    } catch (const std::exception&) {
    }
    fail("Size2: expected HxW such as 3x3, got '", text, "'");
  }
  friend bool operator==(Size2 a, Size2 b) { return a.height == b.height && a.width == b.width; }

  Index height;
  Index width;
};

// One axis of a sliding window: its output length and the padding before and after the input.
struct WindowAxis {
  Index output;
  Index pad_before;
  Index pad_after;
};

// valid: output = floor((input - kernel) / stride) + 1, no padding (input >= kernel required).
// same:  output = ceil(input / stride),
//        total padding = max((output - 1) * stride + kernel - input, 0),
//        pad_before = total / 2, pad_after = total - pad_before.
// Returns output 0 when a 'valid' window does not fit; callers report that with their own name.
// The arithmetic cannot overflow for any extents >= 0 and kernel, stride > 0 (a checkpoint's
// config may hold any such numbers): the last window starts at (output - 1) * stride <= input - 1
// and covers `covered` = input - (output - 1) * stride elements of the input, in [1, stride].
inline WindowAxis window_axis(Index input, Index kernel, Index stride, Padding padding) {
  if (padding == Padding::valid) {
    if (input < kernel) return {0, 0, 0};
    return {(input - kernel) / stride + 1, 0, 0};
  }
  const Index output = input / stride + (input % stride != 0 ? 1 : 0);
  const Index covered = input - (output - 1) * stride;
  const Index total = kernel > covered ? kernel - covered : 0;
  return {output, total / 2, total - total / 2};
}

}  // namespace minicnn
