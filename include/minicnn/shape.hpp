// Shape: the extents of a tensor, rank 0 to 4. Layout is row-major (the last extent varies
// fastest); images are (N, C, H, W) as in PyTorch, one sample is (C, H, W).
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <initializer_list>
#include <ostream>
#include <string>

#include "minicnn/error.hpp"

namespace minicnn {

using Index = std::ptrdiff_t;

class Shape {
 public:
  static constexpr int kMaxRank = 4;

  Shape() = default;  // rank 0: a scalar, one element

  Shape(std::initializer_list<Index> extents) {
    if (extents.size() > kMaxRank)
      fail("Shape: expected at most ", kMaxRank, " extents, got ", extents.size());
    for (Index extent : extents)
      push_back(extent);
  }

  int rank() const { return rank_; }
  // Extent of an axis; unchecked (asserted in debug builds). at() checks.
  Index operator[](int axis) const {
    assert(axis >= 0 && axis < rank_);
    return extents_[static_cast<std::size_t>(axis)];
  }
  Index at(int axis) const {
    if (axis < 0 || axis >= rank_)
      fail("Shape ", str(), ": axis ", axis, " out of range [0, ", rank_, ")");
    return extents_[static_cast<std::size_t>(axis)];
  }

  // Number of elements: the product of the extents (1 for rank 0).
  Index size() const {
    Index n = 1;
    for (int i = 0; i < rank_; ++i)
      n *= extents_[static_cast<std::size_t>(i)];
    return n;
  }

  // Adds an extent at the end (used to build shapes axis by axis).
  void push_back(Index extent) {
    if (rank_ == kMaxRank) fail("Shape: cannot exceed rank ", kMaxRank, " (shape ", str(), ")");
    if (extent < 0) fail("Shape: extents must be >= 0, got ", extent);
    extents_[static_cast<std::size_t>(rank_++)] = extent;
  }

  // (C, H, W) -> (N, C, H, W): a batch of `batch` samples of this shape.
  Shape with_batch(Index batch) const {
    Shape batched{batch};
    for (int i = 0; i < rank_; ++i)
      batched.push_back(extents_[i]);
    return batched;
  }

  // (N, C, H, W) -> (C, H, W): the shape of one sample.
  Shape sample() const {
    if (rank_ == 0) fail("Shape: a scalar has no batch axis");
    Shape one;
    for (int i = 1; i < rank_; ++i)
      one.push_back(extents_[i]);
    return one;
  }

  // "(32, 26, 26)"; a rank-1 shape prints as "(10)".
  std::string str() const {
    std::string text = "(";
    for (int i = 0; i < rank_; ++i) {
      if (i > 0) text += ", ";
      text += std::to_string(extents_[i]);
    }
    return text + ")";
  }

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i)
      if (a.extents_[i] != b.extents_[i]) return false;
    return true;
  }
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }
  friend std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << s.str(); }

 private:
  std::array<Index, kMaxRank> extents_{};
  int rank_ = 0;
};

}  // namespace minicnn
