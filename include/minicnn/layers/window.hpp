// Sliding-window arithmetic shared by Conv2D and the pooling layers: kernel, stride and dilation
// sizes, Keras's 'valid' / 'same' padding rules, and Conv2D's explicit per-side padding.
#pragma once

#include <charconv>
#include <limits>
#include <string>
#include <system_error>

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

// Explicit zero padding on each side of the input: `top` rows above, `bottom` below, `left` and
// `right` columns (ONNX's `pads`; PyTorch's `padding` when top = bottom and left = right; Keras's
// ZeroPadding2D(((top, bottom), (left, right))) followed by a 'valid' convolution). Pads(3) pads
// 3 on every side, Pads(1, 2) 1 above and below and 2 left and right. Written
// "top,bottom,left,right" in configs. Conv2D, DepthwiseConv2D, SeparableConv2D and ZeroPadding2D
// all take it. The constructors are explicit, so that a brace list of numbers cannot silently
// mean a padding.
struct Pads {
  explicit Pads(Index all) : Pads(all, all) {}
  explicit Pads(Index vertical, Index horizontal)
      : Pads(vertical, vertical, horizontal, horizontal) {}
  explicit Pads(Index top_, Index bottom_, Index left_, Index right_)
      : top(top_), bottom(bottom_), left(left_), right(right_) {}

  std::string str() const {
    return std::to_string(top) + "," + std::to_string(bottom) + "," + std::to_string(left) + "," +
           std::to_string(right);
  }
  // Four integers separated by commas, nothing else (no spaces, no '+'); a number that does not
  // fit an Index is refused: a checkpoint's config may hold any text.
  static Pads parse(const std::string& text) {
    Index sides[4] = {0, 0, 0, 0};
    const char* at = text.data();
    const char* const end = text.data() + text.size();
    bool valid = true;
    for (int k = 0; k < 4 && valid; ++k) {
      if (k > 0) valid = at != end && *at++ == ',';
      const auto [next, error] = std::from_chars(at, end, sides[k]);
      valid = valid && error == std::errc();
      at = next;
    }
    if (!valid || at != end)
      fail("Pads: expected top,bottom,left,right such as 3,3,3,3, got '", text, "'");
    return Pads(sides[0], sides[1], sides[2], sides[3]);
  }
  bool any_negative() const { return top < 0 || bottom < 0 || left < 0 || right < 0; }
  friend bool operator==(const Pads& a, const Pads& b) {
    return a.top == b.top && a.bottom == b.bottom && a.left == b.left && a.right == b.right;
  }

  Index top, bottom, left, right;
};

// One axis of a sliding window: its output length and the padding before and after the input.
struct WindowAxis {
  Index output;
  Index pad_before;
  Index pad_after;
};

// A checkpoint's config may hold any extents, so the sizes below are checked before they are
// computed: an absurd one must be refused, not wrapped around.
inline constexpr Index kLargestIndex = std::numeric_limits<Index>::max();

// The rows (columns) a kernel of `kernel` taps with dilation d spans: d*(kernel - 1) + 1, the
// taps d apart; dilated_extent_fits() says whether that fits in an Index (kernel, d >= 1).
inline bool dilated_extent_fits(Index kernel, Index dilation) {
  return kernel - 1 <= (kLargestIndex - 1) / dilation;
}
inline Index dilated_extent(Index kernel, Index dilation) {
  return (kernel - 1) * dilation + 1;
}

// Whether input + before + after, the padded extent, fits in an Index (all >= 0).
inline bool padded_extent_fits(Index input, Index before, Index after) {
  return before <= kLargestIndex - input && after <= kLargestIndex - input - before;
}

// `span` is the dilated kernel's extent (the kernel itself without dilation).
// valid: output = floor((input - span) / stride) + 1, no padding (input >= span required).
// same:  output = ceil(input / stride),
//        total padding = max((output - 1) * stride + span - input, 0),
//        pad_before = total / 2, pad_after = total - pad_before.
// Returns output 0 when a 'valid' window does not fit; callers report that with their own name.
// The arithmetic cannot overflow for any extents >= 0 and span, stride > 0 (a checkpoint's
// config may hold any such numbers): the last window starts at (output - 1) * stride <= input - 1
// and covers `covered` = input - (output - 1) * stride elements of the input, in [1, stride].
inline WindowAxis window_axis(Index input, Index span, Index stride, Padding padding) {
  if (padding == Padding::valid) {
    if (input < span) return {0, 0, 0};
    return {(input - span) / stride + 1, 0, 0};
  }
  const Index output = input / stride + (input % stride != 0 ? 1 : 0);
  const Index covered = input - (output - 1) * stride;
  const Index total = span > covered ? span - covered : 0;
  return {output, total / 2, total - total / 2};
}

// Explicit padding: the 'valid' rule on the padded input,
//   output = floor((input + before + after - span) / stride) + 1   (0 when the span does not fit).
// Requires padded_extent_fits(input, before, after).
inline WindowAxis window_axis(Index input, Index span, Index stride, Index before, Index after) {
  const Index padded = input + before + after;
  if (padded < span) return {0, before, after};
  return {(padded - span) / stride + 1, before, after};
}

}  // namespace minicnn
