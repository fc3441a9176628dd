// A register-tiled, cache-blocked matrix product for the convolution's lowered matrices:
//
//   C (M x N) = A (M x K) B (K x N)
//
// with A read in any strides (a row-major matrix or the transpose of one) and B with its columns
// contiguous. C is computed in blocks of kRows x kCols that stay in vector registers while the
// micro-kernel runs through K: per k, it loads kCols / lanes vectors of B (one row of the
// block's columns), broadcasts kRows values of A (one column of the block's rows) and does
// kRows * kCols / lanes fused multiply-adds. With AVX2, kRows = 6 and kCols = 2 vectors of 8
// floats hold 12 accumulators, few enough loads per multiply-add for the arithmetic units to stay
// busy.
//
// The blocking is BLIS's (Van Zee & van de Geijn, "BLIS: A Framework for Rapidly Instantiating
// BLAS Functionality", 2015), for the caches of one core:
//
//   for each block of kColBlock columns of C                         (jc)
//     for each pass over kDepth values of k                          (pc)
//       pack B's kDepth x kColBlock block into panels of kCols columns   (into the L2 cache)
//       for each block of kRowBlock rows of A                        (ic: A's block stays in L2)
//         for each panel of B                                        (jr: the panel stays in L1)
//           for each kRows rows of the block: the micro-kernel       (ir)
//
// Packing B costs one read and one write of B per row block pass, and makes the micro-kernel's
// loads of B sequential: B read in place (its rows a row of the lowered matrix apart, often
// several kB) ran at a third to a half of the core's peak on ResNet-50's shapes, the hardware
// prefetchers losing track of hundreds of strided rows (docs/performance.md). A is read in place,
// kRows row streams the prefetchers follow, as long as its columns are contiguous; a transposed A,
// and the last rows of A when M is not a multiple of kRows, are first copied into a small
// row-major block. Edge blocks of C (columns past N's last whole panel, rows past M's last whole
// block) are computed into a tile on the stack and copied out.
//
// What happens to the sums on their way into C is the Store: added to C's previous values or not,
// then per row scaled, shifted and clamped (Epilogue below: a bias, a BatchNorm folded into the
// convolution, a ReLU), in the last pass over K, while the block is still in registers.
//
// Threads: a product large enough is split among the OpenMP threads when it is called outside a
// parallel region, by columns (or by rows when N is too narrow), each thread computing whole
// blocks of C. Every element of C is computed by one thread in the same order whatever the
// number of threads (the passes over K and the order within them depend on K only), so the
// product is bit-identical for any thread count. Called inside a parallel region (a convolution
// spreading its samples over the threads), it runs on the calling thread alone.
//
// The vectors are GCC/Clang vector extensions (`vector_size`), which the compiler lowers to the
// target's SIMD instructions (AVX-512, AVX2, NEON, ...) or to scalar code.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

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
  // The cache blocks: a kDepth x kCols panel of B (32 kB of floats) for the L1 cache, B's packed
  // kDepth x kColBlock block (512 kB) and A's rows for L2. Chosen by measurement, not derived:
  // a depth of 256 was 10 % slower on the reference models' training steps, wider blocks of
  // columns no faster (docs/performance.md).
  static constexpr Index kDepth = 512 * 4 / sizeof(T);
  static constexpr Index kColBlock = 256 / kCols * kCols;
  static constexpr Index kRowBlock = 96 / kRows * kRows;
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
    return clamp(value);
  }
  T clamp(T value) const { return value < low ? low : (value > high ? high : value); }

  // This epilogue applied to a product that also gets `bias` (one value per row, or null): the
  // same map with the bias folded in, row_bias' = row_scale * bias + row_bias, written into
  // `folded` when both are there (the bias alone is used in place).
  Epilogue with_bias(const T* bias, Index rows, std::vector<T>& folded) const {
    Epilogue out = *this;
    if (bias == nullptr) return out;
    if (row_scale == nullptr && row_bias == nullptr) {
      out.row_bias = bias;
      return out;
    }
    folded.resize(static_cast<std::size_t>(rows));
    for (Index i = 0; i < rows; ++i)
      folded[static_cast<std::size_t>(i)] = (row_scale != nullptr ? row_scale[i] : T(1)) * bias[i] +
                                            (row_bias != nullptr ? row_bias[i] : T(0));
    out.row_bias = folded.data();
    return out;
  }
};

// Products smaller than this many multiply-adds run on one thread: below it, waking the other
// threads costs more than they save.
inline constexpr Index kParallelWork = Index(1) << 20;

namespace detail {

// How sums reach C: C = epilogue(C + A B) with `accumulate`, else epilogue(A B).
template <typename T>
struct Store {
  bool accumulate;
  Epilogue<T> epilogue;
};

// The kRows x kCols block at c (rows ldc apart) = or += (`load`) its product over `depth` values
// of k, a(r, k) = a[r * lda + k] (kRows rows, in place), b[k * kCols + j] (a packed panel). With
// an epilogue `out` (the last pass over K), the sums go through it, its rows from `row` on. The
// sums stay in registers.
template <typename T>
void micro_kernel(Index depth, const T* __restrict a, Index lda, const T* __restrict b,
                  T* __restrict c, Index ldc, bool load, const Epilogue<T>* out, Index row) {
  using K = Kernel<T>;
  using Vector = typename K::Vector;
  constexpr Index kRows = K::kRows, kLanes = K::kLanes, kVectors = K::kVectors;
  Vector sum[kRows][kVectors];
  for (Index r = 0; r < kRows; ++r)
    for (Index v = 0; v < kVectors; ++v)
      if (load)
        std::memcpy(&sum[r][v], c + r * ldc + v * kLanes, sizeof(Vector));
      else
        sum[r][v] = Vector{};
  const T* __restrict a_rows[kRows];
  for (Index r = 0; r < kRows; ++r)
    a_rows[r] = a + r * lda;
  for (Index d = 0; d < depth; ++d) {
    Vector column[kVectors];
    for (Index v = 0; v < kVectors; ++v)
      std::memcpy(&column[v], b + d * K::kCols + v * kLanes, sizeof(Vector));
    for (Index r = 0; r < kRows; ++r)
      for (Index v = 0; v < kVectors; ++v)
        sum[r][v] += a_rows[r][d] * column[v];
  }
  for (Index r = 0; r < kRows; ++r)
    for (Index v = 0; v < kVectors; ++v) {
      Vector value = sum[r][v];
      if (out != nullptr) {
        if (out->row_scale != nullptr) value *= out->row_scale[row + r];
        if (out->row_bias != nullptr) value += out->row_bias[row + r];
        value = value < out->low ? out->low : value;
        value = value > out->high ? out->high : value;
      }
      std::memcpy(c + r * ldc + v * kLanes, &value, sizeof(Vector));
    }
}

// B's rows [first_depth, first_depth + depth) and columns [first_column, first_column + columns)
// into panels of kCols columns, panel p at packed + p * depth * kCols, row d of it at d * kCols;
// the last panel's columns past `columns` are zero. Row by row: B's rows are read sequentially.
template <typename T>
void pack_panels(MatrixView<T> b, Index first_depth, Index depth, Index first_column, Index columns,
                 T* packed) {
  using K = Kernel<T>;
  const Index whole = columns / K::kCols * K::kCols;
  for (Index d = 0; d < depth; ++d) {
    const T* row = &b(first_depth + d, first_column);
    T* out = packed + d * K::kCols;
    for (Index p = 0; p < whole; p += K::kCols)
      std::memcpy(out + p * depth, row + p, sizeof(T) * K::kCols);
    if (whole < columns) {
      T* last = out + whole * depth;
      std::copy(row + whole, row + columns, last);
      std::fill(last + (columns - whole), last + K::kCols, T(0));
    }
  }
}

// One thread's packed operands, grown once to the largest product it has computed.
template <typename T>
struct Buffers {
  std::vector<T> panels;  // B's block, packed
  std::vector<T> rows;    // A's rows copied row-major (transposed A, or the last rows, zero-padded)
};
template <typename T>
Buffers<T>& buffers() {
  thread_local Buffers<T> b;
  return b;
}

// The block of C in rows [row_begin, row_end) and columns [column_begin, column_end), on the
// calling thread.
template <typename T>
void multiply_block(MatrixView<T> a, MatrixView<T> b, const T* b_panels, Index row_begin,
                    Index row_end, Index column_begin, Index column_end, Index k, T* c, Index ldc,
                    const Store<T>& store) {
  using K = Kernel<T>;
  Buffers<T>& buffer = buffers<T>();
  const Index passes = (k + K::kDepth - 1) / K::kDepth;
  const Index max_depth = (k + passes - 1) / passes;
  buffer.panels.resize(static_cast<std::size_t>(max_depth * K::kColBlock));
  buffer.rows.resize(static_cast<std::size_t>(max_depth * K::kRowBlock));
  alignas(64) T tile[K::kRows * K::kCols];
  // The epilogue of an edge block: its rows' scale and bias copied, zero-padded to kRows.
  T edge_scale[K::kRows], edge_bias[K::kRows];
  Epilogue<T> edge_out = store.epilogue;

  for (Index jc = column_begin; jc < column_end; jc += K::kColBlock) {
    const Index columns = std::min(K::kColBlock, column_end - jc);
    // K in equal passes of at most kDepth: K = 800 runs as 2 x 400, not 512 + 288.
    for (Index pass = 0; pass < passes; ++pass) {
      const Index first = pass * k / passes, depth = (pass + 1) * k / passes - first;
      const bool load = store.accumulate || pass > 0;
      const Epilogue<T>* out = pass == passes - 1 ? &store.epilogue : nullptr;
      // B's panels for this block and pass: packed here, or read where the caller packed them
      // (all of K per panel, the pass's rows from `first` on).
      const T* panels = buffer.panels.data();
      Index panel_size = depth * K::kCols;
      if (b_panels != nullptr) {
        panels = b_panels + jc * k + first * K::kCols;
        panel_size = k * K::kCols;
      } else {
        pack_panels(b, first, depth, jc, columns, buffer.panels.data());
      }
      for (Index ic = row_begin; ic < row_end; ic += K::kRowBlock) {
        const Index rows = std::min(K::kRowBlock, row_end - ic);
        const Index whole_rows = a.column_stride == 1 ? rows / K::kRows * K::kRows : 0;
        // Rows read in place: A's own; the rest copied into buffer.rows, zero-padded to kRows.
        const Index copied = (rows - whole_rows + K::kRows - 1) / K::kRows * K::kRows;
        for (Index r = 0; r < copied; ++r)
          for (Index d = 0; d < depth; ++d)
            buffer.rows[static_cast<std::size_t>(r * depth + d)] =
                whole_rows + r < rows ? a(ic + whole_rows + r, first + d) : T(0);
        for (Index jr = 0; jr < columns; jr += K::kCols) {
          const T* panel = panels + jr / K::kCols * panel_size;
          const Index width = std::min(K::kCols, columns - jr);
          for (Index ir = 0; ir < rows; ir += K::kRows) {
            const Index height = std::min(K::kRows, rows - ir);
            const bool in_place = ir < whole_rows;
            const T* a_rows =
                in_place ? &a(ic + ir, first) : buffer.rows.data() + (ir - whole_rows) * depth;
            const Index lda = in_place ? a.row_stride : depth;
            T* c_block = c + (ic + ir) * ldc + jc + jr;
            if (width == K::kCols && height == K::kRows) {
              micro_kernel(depth, a_rows, lda, panel, c_block, ldc, load, out, ic + ir);
              continue;
            }
            // An edge block: computed into the tile, then copied out.
            for (Index r = 0; load && r < height; ++r)
              std::copy(c_block + r * ldc, c_block + r * ldc + width, tile + r * K::kCols);
            const Epilogue<T>* tile_out = nullptr;
            if (out != nullptr) {
              const Epilogue<T>& e = store.epilogue;
              for (Index r = 0; r < K::kRows; ++r) {
                edge_scale[r] =
                    e.row_scale != nullptr && r < height ? e.row_scale[ic + ir + r] : T(1);
                edge_bias[r] = e.row_bias != nullptr && r < height ? e.row_bias[ic + ir + r] : T(0);
              }
              edge_out.row_scale = e.row_scale != nullptr ? edge_scale : nullptr;
              edge_out.row_bias = e.row_bias != nullptr ? edge_bias : nullptr;
              tile_out = &edge_out;
            }
            micro_kernel(depth, a_rows, lda, panel, tile, K::kCols, load, tile_out, Index(0));
            for (Index r = 0; r < height; ++r)
              std::copy(tile + r * K::kCols, tile + r * K::kCols + width, c_block + r * ldc);
          }
        }
      }
    }
  }
}

template <typename T>
void multiply(MatrixView<T> a, MatrixView<T> b, const T* b_panels, Index m, Index n, Index k, T* c,
              Index ldc, const Store<T>& store) {
  using K = Kernel<T>;
  if (m <= 0 || n <= 0) return;
  if (k == 0) {  // an empty sum: the epilogue of 0 (or of C)
    for (Index i = 0; i < m; ++i)
      for (Index j = 0; j < n; ++j)
        c[i * ldc + j] = store.epilogue.apply(store.accumulate ? c[i * ldc + j] : T(0), i);
    return;
  }
  const int threads = omp_in_parallel() || m * n * k < kParallelWork ? 1 : omp_get_max_threads();
  if (threads == 1) {
    multiply_block(a, b, b_panels, 0, m, 0, n, k, c, ldc, store);
    return;
  }
  // Columns in whole panels while every thread gets at least two, else rows in whole blocks.
  const Index panels = (n + K::kCols - 1) / K::kCols, row_blocks = (m + K::kRows - 1) / K::kRows;
  const bool by_columns = panels >= 2 * threads || panels >= row_blocks;
#pragma omp parallel num_threads(threads)
  {
    const Index t = omp_get_thread_num(), count = omp_get_num_threads();
    if (by_columns) {
      const Index begin = std::min(n, panels * t / count * K::kCols);
      const Index end = std::min(n, panels * (t + 1) / count * K::kCols);
      if (begin < end) multiply_block(a, b, b_panels, 0, m, begin, end, k, c, ldc, store);
    } else {
      const Index begin = std::min(m, row_blocks * t / count * K::kRows);
      const Index end = std::min(m, row_blocks * (t + 1) / count * K::kRows);
      if (begin < end) multiply_block(a, b, b_panels, begin, end, 0, n, k, c, ldc, store);
    }
  }
}

}  // namespace detail

// C (M x N, row-major, rows ldc apart) = A B, or C += A B with `accumulate`, for A (M x K) in any
// strides and B (K x N) whose columns are contiguous (b.column_stride == 1). With `row_bias` (M
// values), row i of the result also gets row_bias[i] added. Reads A and B only inside their
// M x K and K x N elements.
template <typename T>
void multiply(MatrixView<T> a, MatrixView<T> b, Index m, Index n, Index k, T* c, Index ldc,
              bool accumulate = false, const T* row_bias = nullptr) {
  Epilogue<T> epilogue;
  epilogue.row_bias = row_bias;
  detail::multiply(a, b, static_cast<const T*>(nullptr), m, n, k, c, ldc,
                   detail::Store<T>{accumulate, epilogue});
}

// C (M x N, rows ldc apart) = the product A B through `epilogue` (above).
template <typename T>
void multiply(MatrixView<T> a, MatrixView<T> b, Index m, Index n, Index k, T* c, Index ldc,
              const Epilogue<T>& epilogue) {
  detail::multiply(a, b, static_cast<const T*>(nullptr), m, n, k, c, ldc,
                   detail::Store<T>{false, epilogue});
}

// B already packed, as Conv2D lowers its input straight into panels (one pass over the lowered
// matrix instead of two): panel p holds columns [p kCols, (p + 1) kCols) over all of K, at
// b_panels + p * k * kCols, its row d at d * kCols (element (d, j) of B at
// b_panels + (j / kCols * k + d) * kCols + j % kCols); the last panel's columns past N are zero.
template <typename T>
void multiply_packed(MatrixView<T> a, const T* b_panels, Index m, Index n, Index k, T* c, Index ldc,
                     const Epilogue<T>& epilogue) {
  detail::multiply(a, MatrixView<T>{nullptr, 0, 1}, b_panels, m, n, k, c, ldc,
                   detail::Store<T>{false, epilogue});
}

}  // namespace minicnn::gemm
