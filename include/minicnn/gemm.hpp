// A register-tiled matrix product for the convolution's lowered matrices:
//
//   C (M x N) = A (M x K) B (K x N)
//
// in the layered scheme of Goto and van de Geijn (the one BLIS and oneDNN use). Both operands are
// first packed into panels:
//   A into panels of kRows rows:    packed_a[(i / kRows) * K * kRows + k * kRows + i % kRows]
//   B into panels of kCols columns: packed_b[(j / kCols) * K * kCols + k * kCols + j % kCols]
// (rows and columns past M and N are zeros), so that the micro-kernel reads both at unit stride.
// The micro-kernel keeps one kRows x kCols block of C in vector registers while it runs through
// a block of K: per k, it loads kCols / lanes vectors of B, broadcasts kRows values of A and does
// kRows * kCols / lanes fused multiply-adds. With AVX-512, kRows = 8 and kCols = 2 vectors of 16
// floats hold 16 accumulators, few enough loads per multiply-add for the arithmetic units to stay
// busy.
// K is cut into blocks of kDepthBlock so that one panel of B (kDepthBlock x kCols) stays in the
// L1 cache while every panel of A passes over it.
//
// Measured on one core (AMD EPYC Zen 4, GCC 12 -O3 -march=native; docs/performance.md): 96 to 99
// GFLOP/s on the shapes of the reference models' convolutions, packing included, where Eigen's
// general product reaches 78 to 83. Each product runs on the calling thread, in a fixed order:
// the same operands give the same bits whatever the number of threads.
//
// The vectors are GCC/Clang vector extensions (`vector_size`), which the compiler lowers to the
// target's SIMD instructions (AVX-512, AVX2, NEON, ...) or to scalar code.
#pragma once

#include <algorithm>
#include <cstring>

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
  static constexpr Index kDepthBlock = 256;
};

inline Index round_up(Index n, Index multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

// Elements of the packed forms of an M x K matrix A and of a K x N matrix B.
template <typename T>
Index packed_a_size(Index m, Index k) {
  return round_up(m, Kernel<T>::kRows) * k;
}
template <typename T>
Index packed_b_size(Index k, Index n) {
  return round_up(n, Kernel<T>::kCols) * k;
}

// A (M x K) -> packed_a; A(i, k) = a[i * row_stride + k * column_stride], so a row-major matrix
// has (lda, 1) and the transpose of a row-major matrix (1, lda).
template <typename T>
void pack_a(const T* a, Index m, Index k, Index row_stride, Index column_stride, T* packed) {
  constexpr Index rows = Kernel<T>::kRows;
  for (Index first = 0; first < m; first += rows) {
    const Index valid = std::min(rows, m - first);
    for (Index d = 0; d < k; ++d) {
      T* out = packed + first * k + d * rows;
      for (Index r = 0; r < valid; ++r)
        out[r] = a[(first + r) * row_stride + d * column_stride];
      std::fill(out + valid, out + rows, T(0));
    }
  }
}

// B (K x N) -> packed_b; B(k, j) = b[k * row_stride + j * column_stride] as in pack_a. A
// transposed source (row_stride 1) is read column by column, each a contiguous run: reading
// across its columns instead would touch kCols lines a column_stride apart for every k, which
// thrash the cache when that stride is a multiple of 4 KiB.
template <typename T>
void pack_b(const T* b, Index k, Index n, Index row_stride, Index column_stride, T* packed) {
  constexpr Index cols = Kernel<T>::kCols;
  for (Index first = 0; first < n; first += cols) {
    const Index valid = std::min(cols, n - first);
    T* panel = packed + first * k;
    if (column_stride == 1) {
      for (Index d = 0; d < k; ++d)
        std::memcpy(panel + d * cols, b + d * row_stride + first,
                    static_cast<std::size_t>(valid) * sizeof(T));
    } else {
      for (Index j = 0; j < valid; ++j) {
        const T* in = b + (first + j) * column_stride;
        for (Index d = 0; d < k; ++d)
          panel[d * cols + j] = in[d * row_stride];
      }
    }
    if (valid < cols)
      for (Index d = 0; d < k; ++d)
        std::fill(panel + d * cols + valid, panel + (d + 1) * cols, T(0));
  }
}

namespace detail {

// The kRows x kCols block at c (rows ldc apart) = or += its product over `depth` values of k:
// start[r] + sum over k of a[k * kRows + r] * b[k * kCols + j], with start[r] = 0 when `start`
// is null. The block's sums stay in registers.
template <typename T>
void micro_kernel(Index depth, const T* __restrict a, const T* __restrict b, T* __restrict c,
                  Index ldc, bool accumulate, const T* start) {
  using K = Kernel<T>;
  using Vector = typename K::Vector;
  constexpr Index kRows = K::kRows, kVectors = K::kVectors, kLanes = K::kLanes;
  Vector sum[kRows][kVectors];
  for (Index r = 0; r < kRows; ++r)
    for (Index v = 0; v < kVectors; ++v)
      sum[r][v] = start == nullptr ? Vector{} : Vector{} + start[r];
  for (Index d = 0; d < depth; ++d) {
    Vector column[kVectors];
    for (Index v = 0; v < kVectors; ++v)
      std::memcpy(&column[v], b + d * K::kCols + v * kLanes, sizeof(Vector));
    for (Index r = 0; r < kRows; ++r)
      for (Index v = 0; v < kVectors; ++v)
        sum[r][v] += a[d * kRows + r] * column[v];
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

// An edge block, of which only the first rows x cols lie in C: computed into a whole tile on the
// stack, then copied or added.
template <typename T>
void edge_kernel(Index depth, const T* a, const T* b, T* c, Index ldc, Index rows, Index cols,
                 bool accumulate, const T* start) {
  using K = Kernel<T>;
  T padded_start[K::kRows] = {};  // start's rows past M may not exist
  if (start != nullptr) std::copy(start, start + rows, padded_start);
  alignas(64) T tile[K::kRows * K::kCols];
  micro_kernel(depth, a, b, tile, K::kCols, false, start == nullptr ? nullptr : padded_start);
  for (Index r = 0; r < rows; ++r)
    for (Index j = 0; j < cols; ++j)
      c[r * ldc + j] =
          accumulate ? c[r * ldc + j] + tile[r * K::kCols + j] : tile[r * K::kCols + j];
}

}  // namespace detail

// C (M x N, row-major, rows ldc apart) = A B, or C += A B with `accumulate`, from A and B packed
// by pack_a and pack_b. With `row_bias` (M values), row i of the product also gets row_bias[i]
// added, in the first pass over C: a bias costs no pass of its own.
template <typename T>
void multiply(const T* packed_a, const T* packed_b, Index m, Index n, Index k, T* c, Index ldc,
              bool accumulate = false, const T* row_bias = nullptr) {
  using K = Kernel<T>;
  for (Index depth_first = 0; depth_first < k; depth_first += K::kDepthBlock) {
    const Index depth = std::min(K::kDepthBlock, k - depth_first);
    const bool add = accumulate || depth_first > 0;
    const T* bias = depth_first == 0 ? row_bias : nullptr;
    for (Index col = 0; col < n; col += K::kCols) {
      const T* b = packed_b + col * k + depth_first * K::kCols;
      for (Index row = 0; row < m; row += K::kRows) {
        const T* a = packed_a + row * k + depth_first * K::kRows;
        T* block = c + row * ldc + col;
        const Index rows = std::min(K::kRows, m - row), cols = std::min(K::kCols, n - col);
        const T* start = bias == nullptr ? nullptr : bias + row;
        if (rows == K::kRows && cols == K::kCols)
          detail::micro_kernel(depth, a, b, block, ldc, add, start);
        else
          detail::edge_kernel(depth, a, b, block, ldc, rows, cols, add, start);
      }
    }
  }
}

}  // namespace minicnn::gemm
