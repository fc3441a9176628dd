// Tensor<T>: an owning, contiguous, row-major array of up to 4 dimensions, (N, C, H, W) for
// image batches. The maths happens on Eigen maps of its storage (matrix(), vector()), never on
// copies. Storage is 64-byte aligned for SIMD loads.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cassert>
#include <initializer_list>
#include <new>
#include <type_traits>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/random.hpp"
#include "minicnn/shape.hpp"

namespace minicnn {

// std::allocator with 64-byte alignment (a cache line; an AVX-512 register).
template <typename T>
struct AlignedAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlignment{64};

  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}

  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, kAlignment); }

  template <typename U>
  friend bool operator==(const AlignedAllocator&, const AlignedAllocator<U>&) {
    return true;
  }
  template <typename U>
  friend bool operator!=(const AlignedAllocator&, const AlignedAllocator<U>&) {
    return false;
  }
};

// Row-major Eigen views of tensor storage.
template <typename T>
using MatrixMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
template <typename T>
using ConstMatrixMap =
    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
template <typename T>
using VectorMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstVectorMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;

template <typename T>
class Tensor {
  static_assert(std::is_arithmetic_v<T>, "Tensor<T> holds numbers");

 public:
  using Scalar = T;

  Tensor() : shape_{0} {}
  explicit Tensor(const Shape& shape)
      : shape_(shape), storage_(static_cast<std::size_t>(shape.size())) {}
  Tensor(const Shape& shape, T value)
      : shape_(shape), storage_(static_cast<std::size_t>(shape.size()), value) {}

  // Copies hold the elements alone, not the room a resized tensor keeps (see resize()).
  Tensor(const Tensor& other) : shape_(other.shape_), storage_(other.begin(), other.end()) {}
  Tensor& operator=(const Tensor& other) {
    if (this != &other) {
      resize(other.shape_);
      std::copy(other.begin(), other.end(), begin());
    }
    return *this;
  }
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  // A tensor with the given values in row-major order, e.g. Tensor<float>::of({2, 2}, {1, 2, 3,
  // 4}).
  static Tensor of(const Shape& shape, std::initializer_list<T> values) {
    if (static_cast<Index>(values.size()) != shape.size())
      fail("Tensor::of: shape ", shape, " needs ", shape.size(), " values, got ", values.size());
    Tensor t(shape);
    std::copy(values.begin(), values.end(), t.data());
    return t;
  }

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  Index dim(int axis) const { return shape_[axis]; }
  Index size() const { return shape_.size(); }
  bool empty() const { return size() == 0; }

  T* data() { return storage_.data(); }
  const T* data() const { return storage_.data(); }
  T* begin() { return data(); }
  T* end() { return data() + size(); }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size(); }

  // Flat element access, unchecked (asserted in debug builds).
  T& operator[](Index i) {
    assert(i >= 0 && i < size());
    return storage_[static_cast<std::size_t>(i)];
  }
  const T& operator[](Index i) const {
    assert(i >= 0 && i < size());
    return storage_[static_cast<std::size_t>(i)];
  }

  // Flat element access, checked.
  T& at(Index i) { return storage_[checked_flat(i)]; }
  const T& at(Index i) const { return storage_[checked_flat(i)]; }

  // Multi-index access in row-major order, unchecked: t(n, c, h, w) for a rank-4 tensor.
  template <typename... Indices>
  T& operator()(Indices... indices) {
    return storage_[static_cast<std::size_t>(offset(indices...))];
  }
  template <typename... Indices>
  const T& operator()(Indices... indices) const {
    return storage_[static_cast<std::size_t>(offset(indices...))];
  }

  // Gives the same elements a new shape of equal size; no copy.
  void reshape(const Shape& new_shape) {
    if (new_shape.size() != size())
      fail("Tensor::reshape: cannot view ", size(), " elements of shape ", shape_, " as shape ",
           new_shape, " (", new_shape.size(), " elements)");
    shape_ = new_shape;
  }

  // Changes the shape; the contents become unspecified. The storage only grows: a tensor that
  // takes turns holding a large and a small shape (the two buffers an inference pass alternates
  // between) keeps room for the large one, so it is neither reallocated nor zero-filled again
  // (std::vector zero-fills the elements it grows by, several MB per batch there).
  void resize(const Shape& new_shape) {
    shape_ = new_shape;
    if (static_cast<std::size_t>(new_shape.size()) > storage_.size())
      storage_.resize(static_cast<std::size_t>(new_shape.size()));
  }

  void fill(T value) { std::fill(begin(), end(), value); }
  void set_zero() { fill(T(0)); }

  // Independent draws from U[low, high).
  void fill_uniform(Random& random, T low, T high) {
    for (T& x : *this)
      x = static_cast<T>(random.uniform(low, high));
  }
  // Independent draws from N(mean, stddev^2).
  void fill_normal(Random& random, T mean, T stddev) {
    for (T& x : *this)
      x = static_cast<T>(mean + stddev * random.normal());
  }

  // The storage as a rows x cols row-major matrix; rows * cols must equal size().
  MatrixMap<T> matrix(Index rows, Index cols) {
    check_matrix(rows, cols);
    return MatrixMap<T>(data(), rows, cols);
  }
  ConstMatrixMap<T> matrix(Index rows, Index cols) const {
    check_matrix(rows, cols);
    return ConstMatrixMap<T>(data(), rows, cols);
  }
  // (N, ...) as an N x (size / N) matrix: one row per sample.
  MatrixMap<T> matrix() { return matrix(rows_of_batch(), cols_of_batch()); }
  ConstMatrixMap<T> matrix() const { return matrix(rows_of_batch(), cols_of_batch()); }

  VectorMap<T> vector() { return VectorMap<T>(data(), size()); }
  ConstVectorMap<T> vector() const { return ConstVectorMap<T>(data(), size()); }

 private:
  std::size_t checked_flat(Index i) const {
    if (i < 0 || i >= size()) fail("Tensor::at: index ", i, " out of range for shape ", shape_);
    return static_cast<std::size_t>(i);
  }

  template <typename... Indices>
  Index offset(Indices... indices) const {
    static_assert(sizeof...(Indices) >= 1 && sizeof...(Indices) <= Shape::kMaxRank);
    assert(static_cast<int>(sizeof...(Indices)) == rank());
    const Index index_list[] = {static_cast<Index>(indices)...};
    Index flat = 0;
    for (int axis = 0; axis < static_cast<int>(sizeof...(Indices)); ++axis) {
      assert(index_list[axis] >= 0 && index_list[axis] < shape_[axis]);
      flat = flat * shape_[axis] + index_list[axis];
    }
    return flat;
  }

  void check_matrix(Index rows, Index cols) const {
    if (rows < 0 || cols < 0 || rows * cols != size())
      fail("Tensor::matrix: cannot view shape ", shape_, " (", size(), " elements) as ", rows,
           " x ", cols);
  }
  Index rows_of_batch() const { return rank() == 0 ? 1 : shape_[0]; }
  Index cols_of_batch() const {
    const Index rows = rows_of_batch();
    return rows == 0 ? 0 : size() / rows;
  }

  Shape shape_;
  std::vector<T, AlignedAllocator<T>> storage_;
};

}  // namespace minicnn
