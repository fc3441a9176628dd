// Image: an 8-bit raster, grey (1 channel) or RGB (3 channels), row-major with interleaved
// channels (pixel (x, y) starts at (y * width + x) * channels), the layout PNG stores. The
// drawing primitives clip to the image, so callers may draw partly outside it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/shape.hpp"

namespace minicnn {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(Rgb a, Rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
  friend bool operator!=(Rgb a, Rgb b) { return !(a == b); }
};

class Image {
 public:
  Image() = default;
  // width x height pixels of `channels` (1 or 3) bytes, every byte set to `fill`.
  Image(Index width, Index height, int channels = 3, std::uint8_t fill = 255)
      : width_(width), height_(height), channels_(channels) {
    if (width < 0 || height < 0)
      fail("Image: expected a size of at least 0x0, got ", width, "x", height);
    if (channels != 1 && channels != 3)
      fail("Image: expected 1 (grey) or 3 (RGB) channels, got ", channels);
    pixels_.assign(static_cast<std::size_t>(width * height * channels), fill);
  }

  Index width() const { return width_; }
  Index height() const { return height_; }
  int channels() const { return channels_; }
  bool empty() const { return width_ == 0 || height_ == 0; }
  const std::uint8_t* data() const { return pixels_.data(); }
  std::uint8_t* data() { return pixels_.data(); }

  // Byte c of pixel (x, y), unchecked.
  std::uint8_t& at(Index x, Index y, int c = 0) {
    return pixels_[static_cast<std::size_t>((y * width_ + x) * channels_ + c)];
  }
  std::uint8_t at(Index x, Index y, int c = 0) const {
    return pixels_[static_cast<std::size_t>((y * width_ + x) * channels_ + c)];
  }

  bool contains(Index x, Index y) const { return x >= 0 && y >= 0 && x < width_ && y < height_; }

  // The colour of pixel (x, y); a grey pixel reads as r = g = b.
  Rgb pixel(Index x, Index y) const {
    if (channels_ == 1) return {at(x, y), at(x, y), at(x, y)};
    return {at(x, y, 0), at(x, y, 1), at(x, y, 2)};
  }

  // Sets pixel (x, y) when it lies inside the image; a grey image keeps the mean of r, g, b.
  void set(Index x, Index y, Rgb colour) {
    if (!contains(x, y)) return;
    if (channels_ == 1) {
      at(x, y) = static_cast<std::uint8_t>((colour.r + colour.g + colour.b) / 3);
      return;
    }
    at(x, y, 0) = colour.r;
    at(x, y, 1) = colour.g;
    at(x, y, 2) = colour.b;
  }

  // The rectangle [x, x + w) x [y, y + h), clipped.
  void fill_rect(Index x, Index y, Index w, Index h, Rgb colour) {
    for (Index row = std::max<Index>(y, 0); row < std::min(y + h, height_); ++row)
      for (Index col = std::max<Index>(x, 0); col < std::min(x + w, width_); ++col)
        set(col, row, colour);
  }

  // The outline of the same rectangle, one pixel wide.
  void draw_rect(Index x, Index y, Index w, Index h, Rgb colour) {
    fill_rect(x, y, w, 1, colour);
    fill_rect(x, y + h - 1, w, 1, colour);
    fill_rect(x, y, 1, h, colour);
    fill_rect(x + w - 1, y, 1, h, colour);
  }

  // A segment from (x0, y0) to (x1, y1), both ends included (Bresenham), `thickness` pixels wide
  // (a square brush).
  void draw_line(Index x0, Index y0, Index x1, Index y1, Rgb colour, Index thickness = 1) {
    const Index dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const Index sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    const Index before = (thickness - 1) / 2;
    Index error = dx + dy;
    for (;;) {
      fill_rect(x0 - before, y0 - before, thickness, thickness, colour);
      if (x0 == x1 && y0 == y1) return;
      const Index twice = 2 * error;
      if (twice >= dy) {
        error += dy;
        x0 += sx;
      }
      if (twice <= dx) {
        error += dx;
        y0 += sy;
      }
    }
  }

  // Copies `source` with its top-left corner at (x, y), clipped; grey pixels become RGB ones.
  void paste(const Image& source, Index x, Index y) {
    for (Index row = 0; row < source.height(); ++row)
      for (Index col = 0; col < source.width(); ++col)
        set(x + col, y + row, source.pixel(col, row));
  }

  // Every pixel repeated factor x factor times (nearest neighbour): small filters made visible.
  Image scaled(Index factor) const {
    if (factor < 1) fail("Image::scaled: expected a factor >= 1, got ", factor);
    Image result(width_ * factor, height_ * factor, channels_);
    for (Index y = 0; y < result.height(); ++y)
      for (Index x = 0; x < result.width(); ++x)
        for (int c = 0; c < channels_; ++c)
          result.at(x, y, c) = at(x / factor, y / factor, c);
    return result;
  }

 private:
  Index width_ = 0;
  Index height_ = 0;
  int channels_ = 3;
  std::vector<std::uint8_t> pixels_;
};

// A colour between a and b: t = 0 gives a, t = 1 gives b (t clamped to [0, 1]).
inline Rgb mix(Rgb a, Rgb b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  const auto channel = [t](std::uint8_t from, std::uint8_t to) {
    return static_cast<std::uint8_t>(std::lround(from + (to - from) * t));
  };
  return {channel(a.r, b.r), channel(a.g, b.g), channel(a.b, b.b)};
}

}  // namespace minicnn
