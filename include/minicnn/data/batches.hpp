// Batches: a Dataset's samples as model inputs, whole (to_tensors) or in shuffled mini-batches
// (BatchIterator).
//
//   images  (n, C, H, W) of T, each pixel mapped by a Normalization<T>
//   labels  (n) of T: class indices, the sparse targets minicnn's losses take
//
// Reproducibility: the order of epoch e is a Fisher-Yates permutation drawn from the e-th fork of
// Random(seed), a pure function of (seed, e) that does not depend on the epochs before it, so a
// run resumed at epoch e from a checkpoint sees exactly the batches of an uninterrupted run.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "minicnn/data/dataset.hpp"
#include "minicnn/data/normalization.hpp"
#include "minicnn/error.hpp"
#include "minicnn/random.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

// images (count, C, H, W) and labels (count) from the samples indices[0..count), in that order.
// Writes into the tensors given; resize() reallocates only when a batch is larger than any before.
template <typename T>
void gather(const Dataset& data, const Index* indices, Index count,
            const Normalization<T>& normalization, Tensor<T>& images, Tensor<T>& labels) {
  const Index channels = data.images.dim(1);
  const Index pixels = data.images.dim(2) * data.images.dim(3);
  const Index sample = channels * pixels;
  normalization.check_channels(channels);
  images.resize(data.sample_shape().with_batch(count));
  labels.resize({count});
  for (Index i = 0; i < count; ++i) {
    const Index source = indices[i];
    if (source < 0 || source >= data.size())
      fail("gather: index ", source, " at position ", i, " is out of range [0, ", data.size(), ")");
    normalization.apply(data.images.data() + source * sample, images.data() + i * sample, channels,
                        pixels);
    labels[i] = static_cast<T>(data.labels[source]);
  }
}

// The whole data set in its stored order, e.g. for evaluate().
template <typename T>
void to_tensors(const Dataset& data, const Normalization<T>& normalization, Tensor<T>& images,
                Tensor<T>& labels) {
  std::vector<Index> all(static_cast<std::size_t>(data.size()));
  for (Index i = 0; i < data.size(); ++i)
    all[static_cast<std::size_t>(i)] = i;
  gather(data, all.data(), data.size(), normalization, images, labels);
}

// Whether a BatchIterator permutes the samples each epoch or visits them in stored order.
enum class Order { shuffled, sequential };

// Mini-batches of `batch_size` samples; the last batch of an epoch holds the remainder
// (N mod batch_size) when N is not a multiple. Every sample appears exactly once per epoch.
//
//   BatchIterator<float> batches(train, 32, Normalization<float>::scale(), seed);
//   for (Index epoch = 0; epoch < epochs; ++epoch) {
//     batches.start_epoch(epoch);
//     while (batches.next(x, y)) { ... }
//   }
//
// The iterator refers to `data`, which must outlive it.
template <typename T>
class BatchIterator {
 public:
  BatchIterator(const Dataset& data, Index batch_size, Normalization<T> normalization,
                std::uint64_t seed, Order order = Order::shuffled)
      : data_(&data),
        batch_size_(batch_size),
        normalization_(std::move(normalization)),
        seed_(seed),
        shuffle_(order == Order::shuffled),
        order_(static_cast<std::size_t>(data.size())) {
    if (batch_size <= 0) fail("BatchIterator: expected batch_size > 0, got ", batch_size);
    if (data.size() == 0) fail("BatchIterator: expected a non-empty dataset, got 0 samples");
    normalization_.check_channels(data.images.dim(1));
    start_epoch(0);
  }
  // A temporary Dataset would be destroyed while the iterator still refers to it.
  BatchIterator(Dataset&&, Index, Normalization<T>, std::uint64_t,
                Order = Order::shuffled) = delete;

  // Rewinds to the first batch of `epoch` (0-based), in the order that epoch always has.
  void start_epoch(Index epoch) {
    if (epoch < 0) fail("BatchIterator: expected epoch >= 0, got ", epoch);
    epoch_ = epoch;
    position_ = 0;
    for (std::size_t i = 0; i < order_.size(); ++i)
      order_[i] = static_cast<Index>(i);
    if (!shuffle_) return;
    // The epoch-th fork of Random(seed): skipping `epoch` draws costs nanoseconds per epoch.
    Random root(seed_);
    for (Index e = 0; e < epoch; ++e)
      root.next_u64();
    Random random = root.fork();
    random.shuffle(order_);
  }

  // Writes the next batch into images (n, C, H, W) and labels (n); returns false, writing
  // nothing, once the epoch is exhausted.
  bool next(Tensor<T>& images, Tensor<T>& labels) {
    const Index total = static_cast<Index>(order_.size());
    if (position_ >= total) return false;
    const Index count = std::min(batch_size_, total - position_);
    gather(*data_, order_.data() + position_, count, normalization_, images, labels);
    position_ += count;
    return true;
  }

  Index epoch() const { return epoch_; }
  Index batch_size() const { return batch_size_; }
  // ceil(N / batch_size)
  Index batches_per_epoch() const {
    return (static_cast<Index>(order_.size()) + batch_size_ - 1) / batch_size_;
  }
  // The sample indices of the current epoch in visiting order.
  const std::vector<Index>& order() const { return order_; }

 private:
  const Dataset* data_;
  Index batch_size_;
  Normalization<T> normalization_;
  std::uint64_t seed_;
  bool shuffle_;
  std::vector<Index> order_;  // (N): a permutation of 0..N-1
  Index epoch_ = 0;
  Index position_ = 0;  // index into order_ of the next batch's first sample
};

}  // namespace minicnn
