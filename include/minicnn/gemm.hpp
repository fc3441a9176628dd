// A register-tiled matrix product for the convolution's lowered matrices:
//
//   C (M x N) = A (M x K) B (K x N)
//
// read in place: A in any strides (a row-major matrix or the transpose of one), B with its
// columns contiguous. C is computed in blocks of kRows x kCols that stay in vector registers
// while the micro-kernel runs through K: per k, it loads kCols / lanes vectors of B (one row of
// the block's columns), broadcasts kRows values of A (one column of the block's rows) and does
// kRows * kCols / lanes fused multiply-adds. With AVX-512, kRows = 8 and kCols = 2 vectors of 16
// floats hold 16 accumulators, few enough loads per multiply-add for the arithmetic units to stay
// busy.
//
// Unlike BLAS (and this file's first version), the operands are not packed into panels first:
// on the convolution's shapes the hardware prefetchers stream B's rows (a few kB apart) and A's
// rows as fast as from a packed panel, and packing cost a read and a write of the whole lowered
// matrix. (An A read down its columns, a transpose in place, was slower, its loads strided:
// callers copy such a small operand once instead.) Only edge blocks (rows past M, columns past N)
// are copied, into zero-padded tiles on the stack. K is cut into blocks of at most kDepthBlock so
// that the part of B a block of columns needs stays in the L2 cache while every block of rows
// passes over it.
//
// How close it comes to the core's peak, on the reference models' shapes, is measured in
// docs/performance.md. Each product runs on the calling thread, in a fixed order: the same
// operands give the same bits whatever the number of threads.
//
// The vectors are GCC/Clang vector extensions (`vector_size`), which the compiler lowers to the
// target's SIMD instructions (AVX-512, AVX2, NEON, ...) or to scalar code.
#pragma once

#include <algorithm>
#include <cstring>
#include <limits>

#include "minicnn/shape.hpp"

namespace minicnn::gemm {

// The register block follows the target's vector registers: 2 x 8 accumulators of 64 bytes
// with AVX-512 (32 registers), 2 x 6 of 32 bytes with AVX (16 registers), 2 x 6 of 16 bytes
// elsewhere (SSE, NEON), so that the accumulators, two vectors of B and a broadcast fit.
#if defined(__AVX512F__)
inline constexpr int kVectorBytes = 64, kBlockRows = 8;
#elif defined(__AVX__)
inline constexpr int kVectorBytes = 32, kBlockRows = 6;
#else
inline constexpr int kVectorBytes = 16, kBlockRows = 6;
#endif

template <typename T>
struct Kernel {
  typedef T Vector __attribute__((vector_size(kVectorBytes)));
  static constexpr Index kLanes = kVectorBytes / sizeof(T);
  static constexpr Index kVectors = 2;
  static constexpr Index kRows = kBlockRows;         // rows of C in one register block
  static constexpr Index kCols = kVectors * kLanes;  // columns of C in one register block
  static constexpr Index kDepthBlock = 512;          // most values of k per pass over C
  static constexpr Index kEdgeDepth = 64;            // values of k per edge tile
};

// A matrix read in place: element (i, j) at data[i * row_stride + j * column_stride]. A row-major
// matrix with rows ld apart is {data, ld, 1}; its transpose is {data, 1, ld}.
template <typename T>
struct MatrixView {
  const T* data;
  Index row_stride, column_stride;

  const T& operator()(Index i, Index j) const { return data[i * row_stride + j * column_stride]; }
  MatrixView block(Index first_row, Index first_column) const {
    return {&(*this)(first_row, first_column), row_stride, column_stride};
  }
};

namespace detail {

// The block of kRows x (kVectors * kLanes) at c (rows ldc apart) = or += its product over `depth`
// values of k: start[r] + sum over k of a(r, k) * b[k * ldb + j], with start[r] = 0 when `start`
// is null. The block's sums stay in registers. kColumnStride, when not 0, is a.column_stride known
// at compile time (1 for a row-major A), which spares the address arithmetic of a stride in a
// register. kVectors is 2 (a whole register block) or 1 (half of one, for the columns of C past
// its last whole block).
template <typename T, Index kColumnStride = 0, Index kVectors = Kernel<T>::kVectors>
void micro_kernel(Index depth, MatrixView<T> a, const T* __restrict b, Index ldb, T* __restrict c,
                  Index ldc, bool accumulate, const T* start) {
  const Index column_stride = kColumnStride != 0 ? kColumnStride : a.column_stride;
  using K = Kernel<T>;
  using Vector = typename K::Vector;
  constexpr Index kRows = K::kRows, kLanes = K::kLanes;
  Vector sum[kRows][kVectors];
  for (Index r = 0; r < kRows; ++r)
    for (Index v = 0; v < kVectors; ++v)
      sum[r][v] = start == nullptr ? Vector{} : Vector{} + start[r];
  const T* __restrict a_rows[kRows];
  for (Index r = 0; r < kRows; ++r)
    a_rows[r] = a.data + r * a.row_stride;
  for (Index d = 0; d < depth; ++d) {
    Vector column[kVectors];
    for (Index v = 0; v < kVectors; ++v)
      std::memcpy(&column[v], b + d * ldb + v * kLanes, sizeof(Vector));
    for (Index r = 0; r < kRows; ++r)
      for (Index v = 0; v < kVectors; ++v)
        sum[r][v] += a_rows[r][d * column_stride] * column[v];
  }
  for (Index r = 0; r < kRows; ++r)
    for (Index v = 0; v < kVectors; ++v) {
      T* out = c + r * ldc + v * kLanes;
      Vector value = sum[r][v];
      if (accumulate) {
        Vector before;
        std::memcpy(&before, out, sizeof(Vector));
        value += before;
      }
      std::memcpy(out, &value, sizeof(Vector));
    }
}

// micro_kernel for a block of C in place, with a.column_stride known at compile time when it is 1.
template <Index kVectors, typename T>
void block_kernel(Index depth, MatrixView<T> a, const T* b, Index ldb, T* c, Index ldc,
                  bool accumulate, const T* start) {
  if (a.column_stride == 1)
    micro_kernel<T, 1, kVectors>(depth, a, b, ldb, c, ldc, accumulate, start);
  else
    micro_kernel<T, 0, kVectors>(depth, a, b, ldb, c, ldc, accumulate, start);
}

// c (rows x cols, rows ldc apart) = or += the first rows x cols of a register block computed on
// the stack.
template <typename T>
void store_part(const T* block, Index rows, Index cols, T* c, Index ldc, bool accumulate) {
  for (Index r = 0; r < rows; ++r)
    for (Index j = 0; j < cols; ++j) {
      const T value = block[r * Kernel<T>::kCols + j];
      c[r * ldc + j] = accumulate ? c[r * ldc + j] + value : value;
    }
}

// The edge strips of C = A B, the blocks that the micro-kernel cannot write in place: rows
// [full_rows, M) of every block of columns (the bottom strip), and columns [full_cols, N) of the
// other rows (the right strip); columns [whole_cols, full_cols), if any, are one vector of
// half-blocks. K runs in chunks of kEdgeDepth; per chunk, A's last rows and B's last columns
// are copied once into zero-padded tiles on the stack, and each block's product over the chunk is
// computed on the stack, then stored or added into C.
template <typename T>
void edge_strips(MatrixView<T> a, MatrixView<T> b, Index m, Index n, Index k, T* c, Index ldc,
                 bool accumulate, const T* row_bias, Index whole_cols, Index full_cols) {
  using K = Kernel<T>;
  constexpr Index kChunk = K::kEdgeDepth;
  const Index full_rows = m / K::kRows * K::kRows;
  const Index edge_rows = m - full_rows, edge_cols = n - full_cols;
  alignas(64) T a_tile[kChunk * K::kRows] = {};  // a_tile[k * kRows + r]: A's last rows
  alignas(64) T b_tile[kChunk * K::kCols] = {};  // b_tile[k * kCols + j]: B's last columns
  alignas(64) T block[K::kRows * K::kCols];
  T edge_bias[K::kRows] = {};  // the bias of the bottom strip's rows, zero past M
  if (row_bias != nullptr) std::copy(row_bias + full_rows, row_bias + m, edge_bias);
  const MatrixView<T> a_edge{a_tile, 1, K::kRows};
  for (Index first = 0; first < k; first += kChunk) {
    const Index chunk = std::min(kChunk, k - first);
    const bool add = accumulate || first > 0;
    for (Index d = 0; d < chunk; ++d) {
      for (Index r = 0; r < edge_rows; ++r)
        a_tile[d * K::kRows + r] = a(full_rows + r, first + d);
      const T* b_row = &b(first + d, full_cols);
      std::copy(b_row, b_row + edge_cols, b_tile + d * K::kCols);
    }
    const T* bias = first == 0 && row_bias != nullptr ? edge_bias : nullptr;
    for (Index col = 0; edge_rows > 0 && col < whole_cols; col += K::kCols) {
      micro_kernel(chunk, a_edge, &b(first, col), b.row_stride, block, K::kCols, false, bias);
      store_part(block, edge_rows, K::kCols, c + full_rows * ldc + col, ldc, add);
    }
    if (edge_rows > 0 && whole_cols < full_cols) {
      micro_kernel<T, 0, 1>(chunk, a_edge, &b(first, whole_cols), b.row_stride, block, K::kCols,
                            false, bias);
      store_part(block, edge_rows, full_cols - whole_cols, c + full_rows * ldc + whole_cols, ldc,
                 add);
    }
    if (edge_rows > 0 && full_cols < n) {
      micro_kernel(chunk, a_edge, b_tile, K::kCols, block, K::kCols, false, bias);
      store_part(block, edge_rows, edge_cols, c + full_rows * ldc + full_cols, ldc, add);
    }
    for (Index row = 0; edge_cols > 0 && row < full_rows; row += K::kRows) {
      micro_kernel(chunk, a.block(row, first), b_tile, K::kCols, block, K::kCols, false,
                   first == 0 && row_bias != nullptr ? row_bias + row : nullptr);
      store_part(block, K::kRows, edge_cols, c + row * ldc + full_cols, ldc, add);
    }
  }
}

}  // namespace detail

// C (M x N, row-major, rows ldc apart) = A B, or C += A B with `accumulate`, for A (M x K) in any
// strides and B (K x N) whose columns are contiguous (b.column_stride == 1). With `row_bias` (M
// values), row i of the product also gets row_bias[i] added, in the first pass over C: a bias
// costs no pass of its own. Reads A and B only inside their M x K and K x N elements.
template <typename T>
void multiply(MatrixView<T> a, MatrixView<T> b, Index m, Index n, Index k, T* c, Index ldc,
              bool accumulate = false, const T* row_bias = nullptr) {
  using K = Kernel<T>;
  if (k == 0) {  // an empty sum: C = 0 (or unchanged), plus the bias
    for (Index i = 0; i < m; ++i)
      for (Index j = 0; j < n; ++j)
        c[i * ldc + j] =
            (accumulate ? c[i * ldc + j] : T(0)) + (row_bias != nullptr ? row_bias[i] : T(0));
    return;
  }
  // Whole register blocks, then one vector of half-blocks if N leaves that many columns, then the
  // edge strips.
  const Index full_rows = m / K::kRows * K::kRows, whole_cols = n / K::kCols * K::kCols;
  const Index full_cols = n - whole_cols >= K::kLanes ? whole_cols + K::kLanes : whole_cols;
  // K in equal passes of at most kDepthBlock: K = 800 runs as 2 x 400, not 512 + 288.
  const Index passes = (k + K::kDepthBlock - 1) / K::kDepthBlock;
  for (Index pass = 0; pass < passes; ++pass) {
    const Index depth_first = pass * k / passes, depth = (pass + 1) * k / passes - depth_first;
    const bool add = accumulate || pass > 0;
    const T* bias = pass == 0 ? row_bias : nullptr;
    for (Index col = 0; col < full_cols; col += K::kCols) {
      const T* b_panel = &b(depth_first, col);
      const bool half = col == whole_cols;
      for (Index row = 0; row < full_rows; row += K::kRows) {
        const MatrixView<T> a_block = a.block(row, depth_first);
        T* c_block = c + row * ldc + col;
        const T* start = bias == nullptr ? nullptr : bias + row;
        if (half)
          detail::block_kernel<1>(depth, a_block, b_panel, b.row_stride, c_block, ldc, add, start);
        else
          detail::block_kernel<K::kVectors>(depth, a_block, b_panel, b.row_stride, c_block, ldc,
                                            add, start);
      }
    }
  }
  if (full_rows < m || full_cols < n)
    detail::edge_strips(a, b, m, n, k, c, ldc, accumulate, row_bias, whole_cols, full_cols);
}

// What happens to each value of the product on its way into C, for a convolution in inference
// (a BatchNorm folded into it, a ReLU or ReLU6 after it):
//
//   C(i, j) = clamp(row_scale[i] (A B)(i, j) + row_bias[i], low, high)
//
// row_scale and row_bias of M values each, null for 1 and 0; clamp(v, low, high) is low below
// low, high above high, else v (NaN stays NaN, as the ReLU layer's does): ReLU is low = 0, ReLU6
// low = 0 and high = 6, no activation the default infinities.
template <typename T>
struct Epilogue {
  const T* row_scale = nullptr;
  const T* row_bias = nullptr;
  T low = -std::numeric_limits<T>::infinity();
  T high = std::numeric_limits<T>::infinity();

  T apply(T product, Index row) const {
    T value = row_scale != nullptr ? row_scale[row] * product : product;
    if (row_bias != nullptr) value += row_bias[row];
    return value < low ? low : (value > high ? high : value);
  }
};

// C (M x N, rows ldc apart) = the product A B through `epilogue` (above).
template <typename T>
void multiply(MatrixView<T> a, MatrixView<T> b, Index m, Index n, Index k, T* c, Index ldc,
              const Epilogue<T>& epilogue) {
  multiply(a, b, m, n, k, c, ldc);
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < n; ++j)
      c[i * ldc + j] = epilogue.apply(c[i * ldc + j], i);
}

}  // namespace minicnn::gemm
