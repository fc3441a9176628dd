// Occlusion sensitivity (Zeiler & Fergus 2014): which parts of an image the prediction depends
// on. A square patch of a fixed value slides over the image; at each position the model predicts
// the occluded image, and the drop of the true class's probability is recorded:
//   drop(position) = p_class(x) - p_class(x with the patch at position)
// A large drop: the covered region mattered. Each pixel of the map gets the mean drop of the
// patch positions that cover it, so the map has the image's size and overlays it.
//
//   OcclusionOptions o;  o.patch = 4;  o.stride = 2;  o.value = 0.0;
//   OcclusionMap m = occlusion_map(model, x_one, label, o);   // m.drop (H, W)
//
// The model must output probabilities (N, K) (a Softmax last). The occluded images are
// predicted in batches of `batch_size`.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/model/model.hpp"

namespace minicnn {

struct OcclusionOptions {
  Index patch = 4;        // side of the square patch, pixels
  Index stride = 2;       // step between positions, pixels; the last position touches the edge
  double value = 0.0;     // what the patch holds (e.g. 0, or the data set's mean)
  Index batch_size = 64;  // occluded images per predict() call
};

struct OcclusionMap {
  double baseline = 0.0;   // p_class of the unoccluded image
  Tensor<double> drop;     // (H, W): mean drop over the patch positions covering each pixel
  Tensor<double> windows;  // (rows, columns): the drop at each patch position, top-left first
};

namespace detail {
// Patch starts along one axis of length `size`: 0, stride, ..., plus size - patch if missed.
inline std::vector<Index> patch_starts(Index size, Index patch, Index stride) {
  std::vector<Index> starts;
  for (Index s = 0; s + patch <= size; s += stride)
    starts.push_back(s);
  if (starts.back() + patch < size) starts.push_back(size - patch);
  return starts;
}
}  // namespace detail

// x: one image (1, C, H, W); label: its true class.
template <typename T>
OcclusionMap occlusion_map(const Model<T>& model, const Tensor<T>& x, Index label,
                           const OcclusionOptions& options = {}) {
  if (x.rank() != 4 || x.dim(0) != 1)
    fail("occlusion_map: expected one image of shape (1, C, H, W), got ", x.shape());
  const Index channels = x.dim(1), height = x.dim(2), width = x.dim(3);
  if (options.patch < 1 || options.patch > std::min(height, width) || options.stride < 1)
    fail("occlusion_map: expected 1 <= patch <= ", std::min(height, width),
         " and stride >= 1, got patch ", options.patch, " and stride ", options.stride);
  if (options.batch_size < 1)
    fail("occlusion_map: expected batch_size > 0, got ", options.batch_size);
  const Tensor<T> baseline = model.predict(x);
  if (baseline.rank() != 2 || label < 0 || label >= baseline.dim(1))
    fail("occlusion_map: expected a class in [0, ", baseline.rank() == 2 ? baseline.dim(1) : 0,
         ") of a model with output (N, K), got class ", label, " and output ", baseline.shape());

  const std::vector<Index> rows = detail::patch_starts(height, options.patch, options.stride);
  const std::vector<Index> cols = detail::patch_starts(width, options.patch, options.stride);
  const auto positions = static_cast<Index>(rows.size() * cols.size());
  OcclusionMap map;
  map.baseline = static_cast<double>(baseline(0, label));
  map.windows = Tensor<double>({static_cast<Index>(rows.size()), static_cast<Index>(cols.size())});

  const Index image = x.size();
  Tensor<T> batch;
  for (Index first = 0; first < positions; first += options.batch_size) {
    const Index count = std::min(options.batch_size, positions - first);
    batch.resize({count, channels, height, width});
    for (Index i = 0; i < count; ++i) {
      T* copy = batch.data() + i * image;
      std::memcpy(copy, x.data(), static_cast<std::size_t>(image) * sizeof(T));
      const Index top =
          rows[static_cast<std::size_t>((first + i) / static_cast<Index>(cols.size()))];
      const Index left =
          cols[static_cast<std::size_t>((first + i) % static_cast<Index>(cols.size()))];
      for (Index c = 0; c < channels; ++c)
        for (Index h = top; h < top + options.patch; ++h)
          std::fill_n(copy + (c * height + h) * width + left, options.patch,
                      static_cast<T>(options.value));
    }
    const Tensor<T> p = model.predict(batch, count);
    for (Index i = 0; i < count; ++i)
      map.windows[first + i] = map.baseline - static_cast<double>(p(i, label));
  }

  // Each pixel: the mean over the windows that cover it (every pixel is covered at least once).
  map.drop = Tensor<double>({height, width}, 0.0);
  Tensor<double> covers({height, width}, 0.0);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < cols.size(); ++c) {
      const double drop = map.windows(static_cast<Index>(r), static_cast<Index>(c));
      for (Index h = rows[r]; h < rows[r] + options.patch; ++h)
        for (Index w = cols[c]; w < cols[c] + options.patch; ++w) {
          map.drop(h, w) += drop;
          covers(h, w) += 1.0;
        }
    }
  for (Index i = 0; i < map.drop.size(); ++i)
    map.drop[i] /= covers[i];
  return map;
}

}  // namespace minicnn
