// Samples<T>: the labelled samples fit() and evaluate() read, batch by batch, without copying the
// whole set. A non-owning view of one of:
//
//   tensors   x (N, ...) of T and y (N) class indices stored as T, or y (N, K) targets
//   a Dataset (N, C, H, W) bytes and (N) labels, converted batch by batch by a Normalization<T>
//
// restricted to a contiguous range of samples (slice(): validation_split takes the last ones).
// gather() writes the samples at given positions into reusable batch tensors: Tensor::resize
// reallocates only when a batch is larger than any before, so steady-state training allocates
// nothing here.
#pragma once

#include <cstring>
#include <optional>

#include "minicnn/data/batches.hpp"
#include "minicnn/data/dataset.hpp"
#include "minicnn/data/normalization.hpp"
#include "minicnn/error.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

template <typename T>
class Samples {
 public:
  // No samples: FitOptions uses it for "no validation data".
  Samples() = default;

  // x (N, ...) and y (N) or (N, K); both must outlive the view.
  Samples(const Tensor<T>& x, const Tensor<T>& y) : x_(&x), y_(&y) {
    if (x.rank() < 1 || y.rank() < 1 || y.rank() > 2 || x.dim(0) != y.dim(0))
      fail("Samples: expected x (N, ...) and y (N) or (N, K) with the same N, got x ", x.shape(),
           " and y ", y.shape());
    count_ = x.dim(0);
  }
  // Temporaries would be destroyed while the view still refers to them.
  Samples(Tensor<T>&&, const Tensor<T>&) = delete;
  Samples(const Tensor<T>&, Tensor<T>&&) = delete;

  // A Dataset (which must outlive the view) and the map from its bytes to inputs (copied).
  Samples(const Dataset& data, Normalization<T> normalization)
      : data_(&data), normalization_(std::move(normalization)) {
    if (data.images.rank() != 4 || data.labels.rank() != 1 || data.labels.dim(0) != data.size())
      fail("Samples: expected a Dataset of (N, C, H, W) images and (N) labels, got images ",
           data.images.shape(), " and labels ", data.labels.shape());
    normalization_->check_channels(data.images.dim(1));
    count_ = data.size();
  }
  Samples(Dataset&&, Normalization<T>) = delete;

  Index size() const { return count_; }
  bool empty() const { return count_ == 0; }

  // The shape of one input sample, e.g. (1, 28, 28).
  Shape sample_shape() const {
    return x_ != nullptr ? x_->shape().sample() : data_->sample_shape();
  }

  // True when targets are class indices (N), false when they are (N, K) rows.
  bool sparse() const { return x_ == nullptr || y_->rank() == 1; }

  // The samples [first, first + count) of this view, as a view.
  Samples slice(Index first, Index count) const {
    if (first < 0 || count < 0 || first + count > count_)
      fail("Samples::slice: range [", first, ", ", first + count, ") is outside [0, ", count_, ")");
    Samples part = *this;
    part.first_ = first_ + first;
    part.count_ = count;
    return part;
  }

  // x becomes (count, ...) and y (count) or (count, K): the samples at positions
  // indices[0..count) of this view, in that order.
  void gather(const Index* indices, Index count, Tensor<T>& x, Tensor<T>& y) const {
    for (Index i = 0; i < count; ++i)
      if (indices[i] < 0 || indices[i] >= count_)
        fail("Samples::gather: position ", indices[i], " is outside [0, ", count_, ")");
    if (data_ != nullptr) {
      // The data loaders' gather() takes absolute indices; offset them only for a slice.
      if (first_ == 0) return minicnn::gather(*data_, indices, count, *normalization_, x, y);
      absolute_.resize(static_cast<std::size_t>(count));
      for (Index i = 0; i < count; ++i)
        absolute_[static_cast<std::size_t>(i)] = first_ + indices[i];
      return minicnn::gather(*data_, absolute_.data(), count, *normalization_, x, y);
    }
    copy_rows(*x_, indices, count, x);
    copy_rows(*y_, indices, count, y);
  }

  // The samples [first, first + count) of this view, in order.
  void gather_range(Index first, Index count, Tensor<T>& x, Tensor<T>& y) const {
    range_.resize(static_cast<std::size_t>(count));
    for (Index i = 0; i < count; ++i)
      range_[static_cast<std::size_t>(i)] = first + i;
    gather(range_.data(), count, x, y);
  }

 private:
  void copy_rows(const Tensor<T>& source, const Index* indices, Index count,
                 Tensor<T>& batch) const {
    const Index row = source.dim(0) == 0 ? 0 : source.size() / source.dim(0);
    batch.resize(source.shape().sample().with_batch(count));
    for (Index i = 0; i < count; ++i)
      std::memcpy(batch.data() + i * row, source.data() + (first_ + indices[i]) * row,
                  static_cast<std::size_t>(row) * sizeof(T));
  }

  const Tensor<T>* x_ = nullptr;
  const Tensor<T>* y_ = nullptr;
  const Dataset* data_ = nullptr;
  std::optional<Normalization<T>> normalization_;  // Normalization has no default state
  Index first_ = 0;                                // offset of this view in the whole set
  Index count_ = 0;
  // Index scratch reused across batches (grows once); makes gather() unsafe to call on one view
  // from several threads: evaluate() gives each call its own view.
  mutable std::vector<Index> absolute_, range_;
};

}  // namespace minicnn
