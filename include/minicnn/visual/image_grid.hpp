// Pictures of tensors: one image (C, H, W) or a grid of them (N, C, H, W), C = 1 (grey) or
// C = 3 (RGB), with the values mapped to 0..255 by one of four rules (Scaling).
//
//   GridOptions options;
//   options.columns = 8;
//   options.zoom = 2;                                  // each value as 2x2 pixels
//   Image grid = image_grid(x_batch, options);         // x_batch (N, C, H, W)
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "minicnn/error.hpp"
#include "minicnn/tensor.hpp"
#include "minicnn/visual/image.hpp"

namespace minicnn {

enum class Scaling {
  as_is,      // values are already bytes: rounded and clamped to 0..255
  range,      // [low, high] -> 0..255 (e.g. inputs normalised to [0, 1])
  per_image,  // each image's own [min, max] -> 0..255: shows its structure (filters, maps)
  shared,     // the [min, max] of all the images -> 0..255: images stay comparable
};

struct GridOptions {
  Index columns = 8;  // images per row (fewer when there are fewer images)
  Index padding = 2;  // pixels between images and around the grid
  Index zoom = 1;     // each value drawn as zoom x zoom pixels
  Scaling scaling = Scaling::per_image;
  double low = 0.0, high = 1.0;  // for Scaling::range
  Rgb background{255, 255, 255};
};

namespace detail {

// The affine map value -> byte of one image: byte = (value - offset) * factor. A constant image
// maps to mid-grey.
struct ByteMap {
  double offset = 0.0;
  double factor = 1.0;
  std::uint8_t operator()(double value) const {
    if (std::isnan(value)) return 0;
    return static_cast<std::uint8_t>(
        std::lround(std::clamp((value - offset) * factor, 0.0, 255.0)));
  }
};

template <typename T>
std::pair<double, double> min_max(const T* values, Index count) {
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (Index i = 0; i < count; ++i) {
    const double v = static_cast<double>(values[i]);
    if (!std::isfinite(v)) continue;
    low = std::min(low, v);
    high = std::max(high, v);
  }
  return {low, high};
}

inline ByteMap byte_map(double low, double high) {
  if (!(high > low)) return {low - 127.5, 1.0};  // constant (or empty): mid-grey
  return {low, 255.0 / (high - low)};
}

template <typename T>
ByteMap byte_map(const GridOptions& o, const T* values, Index count, ByteMap shared) {
  switch (o.scaling) {
    case Scaling::as_is:
      return {0.0, 1.0};
    case Scaling::range:
      return byte_map(o.low, o.high);
    case Scaling::per_image: {
      const auto [low, high] = min_max(values, count);
      return byte_map(low, high);
    }
    case Scaling::shared:
      break;
  }
  return shared;
}

inline void check_images(const char* who, const Shape& shape) {
  if (shape.rank() != 4 || (shape[1] != 1 && shape[1] != 3))
    fail(who, ": expected images of shape (N, 1 or 3, H, W), got ", shape);
}

}  // namespace detail

// A grid of the N images of `images` (N, C, H, W), row by row, `options.columns` per row.
template <typename T>
Image image_grid(const Tensor<T>& images, const GridOptions& options = {}) {
  detail::check_images("image_grid", images.shape());
  if (options.columns < 1 || options.zoom < 1 || options.padding < 0)
    fail("image_grid: expected columns >= 1, zoom >= 1 and padding >= 0, got ", options.columns,
         ", ", options.zoom, " and ", options.padding);
  if (options.scaling == Scaling::range && !(options.high > options.low))
    fail("image_grid: expected a range with low < high, got [", options.low, ", ", options.high,
         "]");
  const Index count = images.dim(0), channels = images.dim(1);
  const Index height = images.dim(2), width = images.dim(3);
  const Index columns = std::max<Index>(std::min(options.columns, count), 1);
  const Index rows = (count + columns - 1) / columns;
  const Index tile_w = width * options.zoom, tile_h = height * options.zoom;
  const Index pad = options.padding;
  Image grid(columns * (tile_w + pad) + pad, rows * (tile_h + pad) + pad, 3);
  grid.fill_rect(0, 0, grid.width(), grid.height(), options.background);

  const auto [all_low, all_high] = detail::min_max(images.data(), images.size());
  const detail::ByteMap shared = detail::byte_map(all_low, all_high);
  const Index plane = height * width;
  for (Index n = 0; n < count; ++n) {
    const T* image = images.data() + n * channels * plane;
    const detail::ByteMap to_byte = detail::byte_map(options, image, channels * plane, shared);
    const Index left = pad + (n % columns) * (tile_w + pad);
    const Index top = pad + (n / columns) * (tile_h + pad);
    for (Index h = 0; h < height; ++h)
      for (Index w = 0; w < width; ++w) {
        const auto value = [&](Index c) { return to_byte(image[c * plane + h * width + w]); };
        const Rgb colour =
            channels == 3 ? Rgb{value(0), value(1), value(2)} : Rgb{value(0), value(0), value(0)};
        grid.fill_rect(left + w * options.zoom, top + h * options.zoom, options.zoom, options.zoom,
                       colour);
      }
  }
  return grid;
}

// One image (C, H, W) without padding.
template <typename T>
Image to_image(const Tensor<T>& image, GridOptions options = {}) {
  if (image.rank() != 3)
    fail("to_image: expected an image of shape (1 or 3, H, W), got ", image.shape());
  Tensor<T> batch = image;
  batch.reshape({1, image.dim(0), image.dim(1), image.dim(2)});
  options.padding = 0;
  options.columns = 1;
  return image_grid(batch, options);
}

}  // namespace minicnn
