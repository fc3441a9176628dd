// Resizing an image to a chosen size with proper resampling: area averaging when shrinking,
// bilinear interpolation when enlarging, one axis at a time. (Nearest-neighbour sampling would
// drop most pixels of a photo shrunk to 32x32 and alias its edges.)
//
// Along one axis of n input pixels resized to m output pixels, every output pixel is a weighted
// sum of input pixels, out[i] = sum_j w(i, j) in[j], with
//
//   shrinking (m < n), area averaging (OpenCV's INTER_AREA, PIL's BOX filter): output pixel i
//   covers the input interval [i n/m, (i + 1) n/m), and is the exact mean of the input over it:
//     w(i, j) = |[j, j + 1) ∩ [i n/m, (i + 1) n/m)| / (n/m)
//   Measured in units of 1/m the lengths are integers: overlap = min((j+1) m, (i+1) n) -
//   max(j m, i n) and w(i, j) = overlap / n, so the weights are exact up to one rounding.
//
//   enlarging (m > n), bilinear with half-pixel centres (OpenCV's INTER_LINEAR, PyTorch's
//   interpolate(align_corners=False), TensorFlow's resize with half_pixel_centers):
//     x = (i + 1/2) n/m - 1/2, clamped into [0, n - 1];  j = floor(x);  t = x - j
//     w(i, j) = 1 - t,  w(i, j + 1) = t  (the second only when j + 1 < n)
//
//   equal sizes: both formulas give the identity (area is used).
//
// An image is resized along its height, then along its width: both are linear maps, so per
// channel out = Wy * in * Wx^T, computed in double and rounded once to the nearest byte (halves
// up). The image is stretched to the new size: the aspect ratio is not kept, as Keras's
// image_dataset_from_directory does by default. Keras resizes with plain bilinear, which skips
// pixels when shrinking by more than 2; area averaging does not.
//
// Cost and memory: each output row sums the input rows it covers into one row of W * C doubles
// (the only buffer), then each output pixel sums the columns it covers: about H * W * C + h * W * C
// multiply-adds when shrinking to (h, w); no buffer grows with the image's height.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/shape.hpp"
#include "minicnn/visual/image.hpp"

namespace minicnn {

// The input pixels of one output pixel along one axis: out = sum_k weights[k] * in[first + k].
struct ResampleTaps {
  Index first = 0;
  std::vector<double> weights;
};

// The weights of resizing an axis of `in` pixels to `out` pixels (the formulas above), one entry
// per output pixel.
inline std::vector<ResampleTaps> resampling_weights(Index in, Index out) {
  if (in < 1 || out < 1)
    fail("resampling_weights: expected sizes of at least 1, got ", in, " -> ", out);
  std::vector<ResampleTaps> taps(static_cast<std::size_t>(out));
  for (Index i = 0; i < out; ++i) {
    ResampleTaps& t = taps[static_cast<std::size_t>(i)];
    if (out <= in) {
      // Output i covers [i in, (i + 1) in) in units of 1/out; input j covers [j out, (j + 1) out).
      const Index start = i * in, end = (i + 1) * in;
      t.first = start / out;
      const Index last = (end - 1) / out;  // the input pixel holding the interval's last unit
      for (Index j = t.first; j <= last; ++j) {
        const Index overlap = std::min((j + 1) * out, end) - std::max(j * out, start);
        t.weights.push_back(static_cast<double>(overlap) / static_cast<double>(in));
      }
    } else {
      const double x =
          std::clamp(static_cast<double>((2 * i + 1) * in - out) / static_cast<double>(2 * out),
                     0.0, static_cast<double>(in - 1));
      t.first = static_cast<Index>(std::floor(x));
      const double fraction = x - static_cast<double>(t.first);
      t.weights.push_back(1.0 - fraction);
      if (t.first + 1 < in) t.weights.push_back(fraction);
    }
  }
  return taps;
}

// Resizes `image` (interleaved, any size of at least 1x1) to height x width and writes it to
// `out` as (C, height, width) bytes, C = image.channels(): the planar layout of minicnn's samples.
inline void resize_image(const Image& image, Index height, Index width, std::uint8_t* out) {
  if (image.empty() || height < 1 || width < 1)
    fail("resize_image: expected an image and a size of at least 1x1, got a ", image.width(), "x",
         image.height(), " image to resize to ", width, "x", height);
  const Index channels = image.channels(), row_size = image.width() * channels;
  const auto down = resampling_weights(image.height(), height);
  const auto across = resampling_weights(image.width(), width);
  std::vector<double> row(static_cast<std::size_t>(row_size));  // (W, C): one output row, tall
  for (Index r = 0; r < height; ++r) {
    const ResampleTaps& v = down[static_cast<std::size_t>(r)];
    std::fill(row.begin(), row.end(), 0.0);
    for (std::size_t k = 0; k < v.weights.size(); ++k) {
      const std::uint8_t* in = image.data() + (v.first + static_cast<Index>(k)) * row_size;
      for (Index p = 0; p < row_size; ++p)
        row[static_cast<std::size_t>(p)] += v.weights[k] * in[p];
    }
    for (Index i = 0; i < width; ++i) {
      const ResampleTaps& h = across[static_cast<std::size_t>(i)];
      for (Index c = 0; c < channels; ++c) {
        double sum = 0.0;
        for (std::size_t k = 0; k < h.weights.size(); ++k)
          sum += h.weights[k] *
                 row[static_cast<std::size_t>((h.first + static_cast<Index>(k)) * channels + c)];
        out[(c * height + r) * width + i] =
            static_cast<std::uint8_t>(std::clamp(std::floor(sum + 0.5), 0.0, 255.0));
      }
    }
  }
}

}  // namespace minicnn
