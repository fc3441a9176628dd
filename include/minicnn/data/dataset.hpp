// Dataset: a labelled image set as stored on disk, 8-bit pixels and class indices, plus the
// operations that pick samples out of it: subset(), take() and a seeded train/validation split.
//
//   images  (N, C, H, W) uint8, row-major NCHW as everywhere in minicnn: MNIST is (N, 1, 28, 28),
//           CIFAR (N, 3, 32, 32) with the R, G, B planes in that order.
//   labels  (N) int32 class indices in [0, classes). int32 rather than uint8 so that a user's own
//           data set may have more than 256 classes.
//
// Pixels stay uint8 until a batch is made (batches.hpp): MNIST's training set is 47 MB as bytes
// and would be 188 MB as float.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/random.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

struct Dataset {
  Tensor<std::uint8_t> images;           // (N, C, H, W)
  Tensor<std::int32_t> labels;           // (N)
  Index classes = 0;                     // labels lie in [0, classes)
  std::vector<std::string> class_names;  // empty, or one name per class

  Index size() const { return images.rank() == 4 ? images.dim(0) : 0; }
  // (C, H, W): the input shape a model's build() takes.
  Shape sample_shape() const { return images.shape().sample(); }
  Index sample_size() const { return sample_shape().size(); }
};

// The samples at `indices`, in that order (repeats allowed); classes and names are kept.
inline Dataset subset(const Dataset& data, const std::vector<Index>& indices) {
  const Index n = data.size();
  for (std::size_t i = 0; i < indices.size(); ++i)
    if (indices[i] < 0 || indices[i] >= n)
      fail("subset: index ", indices[i], " at position ", i, " is out of range [0, ", n, ")");
  Dataset out;
  out.classes = data.classes;
  out.class_names = data.class_names;
  const Index count = static_cast<Index>(indices.size());
  const Index sample = data.sample_size();
  out.images.resize(data.sample_shape().with_batch(count));
  out.labels.resize({count});
  for (Index i = 0; i < count; ++i) {
    const Index source = indices[static_cast<std::size_t>(i)];
    std::memcpy(out.images.data() + i * sample, data.images.data() + source * sample,
                static_cast<std::size_t>(sample));
    out.labels[i] = data.labels[source];
  }
  return out;
}

// The first `count` samples: a quick way to train on less while developing.
inline Dataset take(const Dataset& data, Index count) {
  if (count < 0 || count > data.size())
    fail("take: expected a count in [0, ", data.size(), "], got ", count);
  std::vector<Index> first(static_cast<std::size_t>(count));
  for (Index i = 0; i < count; ++i)
    first[static_cast<std::size_t>(i)] = i;
  return subset(data, first);
}

struct TrainValidation {
  Dataset train;
  Dataset validation;
};

// Moves `validation_count` samples, drawn at random, into a validation set. The draw is a
// Fisher-Yates permutation from Random(seed): the same seed gives the same split on every
// platform. Both parts keep the original order of their samples; shuffling is the batch
// iterator's job. Not stratified: with thousands of samples per class the class balance of a
// random draw is close to the original.
inline TrainValidation split_validation(const Dataset& data, Index validation_count,
                                        std::uint64_t seed) {
  const Index n = data.size();
  if (validation_count < 0 || validation_count > n)
    fail("split_validation: expected a validation count in [0, ", n, "], got ", validation_count);
  std::vector<Index> order(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i)
    order[static_cast<std::size_t>(i)] = i;
  Random random(seed);
  random.shuffle(order);
  const auto cut = order.begin() + validation_count;
  std::vector<Index> validation(order.begin(), cut), train(cut, order.end());
  std::sort(validation.begin(), validation.end());
  std::sort(train.begin(), train.end());
  return {subset(data, train), subset(data, validation)};
}

// The same with a fraction of the samples in [0, 1], rounded to the nearest count.
inline TrainValidation split_validation_fraction(const Dataset& data, double fraction,
                                                 std::uint64_t seed) {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    fail("split_validation_fraction: expected a fraction in [0, 1], got ", fraction);
  const auto count = static_cast<Index>(std::llround(fraction * static_cast<double>(data.size())));
  return split_validation(data, count, seed);
}

}  // namespace minicnn
