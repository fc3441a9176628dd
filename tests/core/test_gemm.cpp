// Specification of the register-tiled matrix product (gemm.hpp): C = A B, or C += A B, for
// operands in any strides, on shapes that are and are not multiples of the register block and of
// the cache blocks, with K longer than one depth pass.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "minicnn/gemm.hpp"
#include "minicnn/random.hpp"

using namespace minicnn;

namespace {

template <typename T>
std::vector<T> random_values(Index count, std::uint64_t seed) {
  Random random(seed);
  std::vector<T> values(static_cast<std::size_t>(count));
  for (T& v : values)
    v = static_cast<T>(random.uniform(-1.0, 1.0));
  return values;
}

// C = A B by the definition, in double; A(i, k) = a[i * k_count + k], B(k, j) = b[k * n + j].
std::vector<double> reference_product(const std::vector<double>& a, const std::vector<double>& b,
                                      Index m, Index n, Index k) {
  std::vector<double> c(static_cast<std::size_t>(m * n), 0.0);
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < n; ++j)
      for (Index d = 0; d < k; ++d)
        c[static_cast<std::size_t>(i * n + j)] +=
            a[static_cast<std::size_t>(i * k + d)] * b[static_cast<std::size_t>(d * n + j)];
  return c;
}

template <typename T>
std::vector<T> transposed(const std::vector<T>& matrix, Index rows, Index cols) {
  std::vector<T> t(matrix.size());
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c)
      t[static_cast<std::size_t>(c * rows + r)] = matrix[static_cast<std::size_t>(r * cols + c)];
  return t;
}

struct Case {
  Index m, n, k;
};

// Whole blocks, edges in every dimension, a single element, K over two and five depth passes
// (kDepth is 256 doubles), rows over two blocks of kRowBlock (96) and columns over two blocks of
// kColBlock (256), with edges.
const Case kCases[] = {{8, 16, 4},   {16, 32, 7},   {5, 9, 3},      {13, 37, 300}, {1, 1, 1},
                       {9, 33, 513}, {24, 48, 256}, {3, 70, 1025},  {16, 24, 40},  {19, 60, 130},
                       {8, 8, 9},    {11, 27, 65},  {101, 300, 270}};

}  // namespace

// `matrix` (rows x cols, row-major) stored inside a larger buffer: rows `stride` apart, every
// element outside the matrix NaN, so that a product that read outside its operand would show it.
std::vector<double> embedded(const std::vector<double>& matrix, Index rows, Index cols,
                             Index stride) {
  std::vector<double> buffer(static_cast<std::size_t>(rows * stride + 8),
                             std::numeric_limits<double>::quiet_NaN());
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c)
      buffer[static_cast<std::size_t>(r * stride + c)] =
          matrix[static_cast<std::size_t>(r * cols + c)];
  return buffer;
}

TEST_CASE("gemm::multiply computes C = A B from operands in place, row-major or transposed") {
  for (const Case c : kCases) {
    CAPTURE(c.m);
    CAPTURE(c.n);
    CAPTURE(c.k);
    const auto a = random_values<double>(c.m * c.k, 1);
    const auto b = random_values<double>(c.k * c.n, 2);
    const auto expected = reference_product(a, b, c.m, c.n, c.k);
    // A row-major with rows 3 apart from their ends, A stored as its transpose, B's rows 5 apart.
    const auto a_rows = embedded(a, c.m, c.k, c.k + 3);
    const auto a_transposed = embedded(transposed(a, c.m, c.k), c.k, c.m, c.m + 2);
    const auto b_rows = embedded(b, c.k, c.n, c.n + 5);
    const gemm::MatrixView<double> b_view{b_rows.data(), c.n + 5, 1};
    for (const bool from_transpose : {false, true}) {
      CAPTURE(from_transpose);
      const gemm::MatrixView<double> a_view =
          from_transpose ? gemm::MatrixView<double>{a_transposed.data(), 1, c.m + 2}
                         : gemm::MatrixView<double>{a_rows.data(), c.k + 3, 1};
      std::vector<double> product(static_cast<std::size_t>(c.m * c.n), -7.0);
      gemm::multiply(a_view, b_view, c.m, c.n, c.k, product.data(), c.n);
      for (std::size_t e = 0; e < expected.size(); ++e)
        REQUIRE(product[e] == doctest::Approx(expected[e]).epsilon(1e-12));
    }
  }
}

TEST_CASE("gemm::multiply accumulates into C when asked, and writes only C's rows and columns") {
  const Index m = 11, n = 19, k = 260, ldc = 23;  // C sits in a wider matrix: columns n..ldc-1
  const auto a = random_values<double>(m * k, 3);
  const auto b = random_values<double>(k * n, 4);
  const auto expected = reference_product(a, b, m, n, k);
  std::vector<double> c(static_cast<std::size_t>(m * ldc), 0.5);
  gemm::multiply<double>({a.data(), k, 1}, {b.data(), n, 1}, m, n, k, c.data(), ldc, true);
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < ldc; ++j) {
      const double value = c[static_cast<std::size_t>(i * ldc + j)];
      if (j < n)
        REQUIRE(
            value ==
            doctest::Approx(0.5 + expected[static_cast<std::size_t>(i * n + j)]).epsilon(1e-12));
      else
        REQUIRE(value == 0.5);  // outside C: untouched
    }
}

TEST_CASE("gemm::multiply adds a bias to each row of C once, over any number of depth passes") {
  // Edge rows and columns with K in two passes; whole blocks with K in five passes.
  for (const Case c : {Case{13, 37, 300}, Case{16, 64, 1100}, Case{8, 32, 5}}) {
    CAPTURE(c.m);
    CAPTURE(c.k);
    const auto a = random_values<double>(c.m * c.k, 7);
    const auto b = random_values<double>(c.k * c.n, 8);
    const auto bias = random_values<double>(c.m, 9);
    const auto expected = reference_product(a, b, c.m, c.n, c.k);
    std::vector<double> product(static_cast<std::size_t>(c.m * c.n));
    gemm::multiply<double>({a.data(), c.k, 1}, {b.data(), c.n, 1}, c.m, c.n, c.k, product.data(),
                           c.n, false, bias.data());
    for (Index i = 0; i < c.m; ++i)
      for (Index j = 0; j < c.n; ++j) {
        const auto e = static_cast<std::size_t>(i * c.n + j);
        REQUIRE(product[e] ==
                doctest::Approx(expected[e] + bias[static_cast<std::size_t>(i)]).epsilon(1e-12));
      }
  }
}

TEST_CASE("gemm::multiply with K = 0 makes C the bias, or leaves it when accumulating") {
  const Index m = 3, n = 5;
  const std::vector<double> bias{1.0, 2.0, 3.0};
  std::vector<double> c(static_cast<std::size_t>(m * n), -7.0);
  gemm::multiply<double>({nullptr, 0, 1}, {nullptr, n, 1}, m, n, 0, c.data(), n, false,
                         bias.data());
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < n; ++j)
      REQUIRE(c[static_cast<std::size_t>(i * n + j)] == bias[static_cast<std::size_t>(i)]);
  gemm::multiply<double>({nullptr, 0, 1}, {nullptr, n, 1}, m, n, 0, c.data(), n, true);
  CHECK(c[0] == 1.0);
}

TEST_CASE("gemm::multiply in float agrees with the double product to float rounding") {
  // mnist_model4's second convolution, a quarter of one sample's columns; 100 columns are 3
  // whole blocks of 32 and an edge of 4 with AVX-512, 120 add a half block of 16 before the edge.
  const Index m = 64, k = 800;
  for (const Index n : {Index(100), Index(120)}) {
    CAPTURE(n);
    const auto a = random_values<float>(m * k, 5);
    const auto b = random_values<float>(k * n, 6);
    const std::vector<double> a_double(a.begin(), a.end()), b_double(b.begin(), b.end());
    const auto expected = reference_product(a_double, b_double, m, n, k);
    std::vector<float> c(static_cast<std::size_t>(m * n));
    gemm::multiply<float>({a.data(), k, 1}, {b.data(), n, 1}, m, n, k, c.data(), n);
    double worst = 0;
    for (std::size_t e = 0; e < c.size(); ++e)
      worst = std::max(worst, std::abs(c[e] - expected[e]));
    CHECK(worst < 1e-4);  // sums of 800 products of magnitude <= 1
  }
}

TEST_CASE("gemm::multiply splits a large product among threads, bit-identical to one thread") {
  // Above gemm::kParallelWork multiply-adds: wide products are split by columns, narrow ones (49
  // columns, the last stage of ResNet-50 at batch 1) by rows; with edges in every dimension and
  // several passes over K, through the epilogue and accumulating.
  const int threads_before = omp_get_max_threads();
  struct Large {
    Index m, n, k;
  };
  for (const Large shape : {Large{70, 333, 300}, Large{601, 49, 290}}) {
    const Index m = shape.m, n = shape.n, k = shape.k;
    CAPTURE(m);
    CAPTURE(n);
    REQUIRE(m * n * k >= gemm::kParallelWork);
    const auto a = random_values<float>(m * k, 7), b = random_values<float>(k * n, 8);
    const auto bias = random_values<float>(m, 9), scale = random_values<float>(m, 10);
    const auto start = random_values<float>(m * n, 11);
    const std::vector<double> a_double(a.begin(), a.end()), b_double(b.begin(), b.end());
    const auto expected = reference_product(a_double, b_double, m, n, k);
    std::vector<float> one[2], two[2];
    for (const int threads : {1, 2}) {
      omp_set_num_threads(threads);
      std::vector<float>(&out)[2] = threads == 1 ? one : two;
      out[0].assign(static_cast<std::size_t>(m * n), 0.0f);
      gemm::multiply<float>({a.data(), k, 1}, {b.data(), n, 1}, m, n, k, out[0].data(), n,
                            gemm::Epilogue<float>{scale.data(), bias.data(), 0.0f, 2.0f});
      out[1] = start;
      gemm::multiply<float>({a.data(), k, 1}, {b.data(), n, 1}, m, n, k, out[1].data(), n, true);
    }
    omp_set_num_threads(threads_before);
    CHECK(one[0] == two[0]);
    CHECK(one[1] == two[1]);
    double worst = 0;
    for (Index i = 0; i < m; ++i)
      for (Index j = 0; j < n; ++j) {
        const auto at = static_cast<std::size_t>(i * n + j);
        const auto row = static_cast<std::size_t>(i);
        const double want = std::clamp(scale[row] * expected[at] + bias[row], 0.0, 2.0);
        worst = std::max(worst, std::abs(one[0][at] - want));
        worst = std::max(worst, std::abs(one[1][at] - (start[at] + expected[at])));
      }
    CHECK(worst < 1e-4);
  }
}

TEST_CASE("gemm::multiply_packed reads B from panels packed by the caller, as multiply reads B") {
  // Edges in every dimension, K over several passes, and a product large enough to be split
  // among threads: the same bits as multiply on the same B.
  constexpr Index kCols = gemm::Kernel<float>::kCols;
  for (const Case c : {Case{13, 37, 300}, Case{5, 9, 3}, Case{101, 300, 1100}}) {
    CAPTURE(c.m);
    CAPTURE(c.n);
    const auto a = random_values<float>(c.m * c.k, 21), b = random_values<float>(c.k * c.n, 22);
    const auto bias = random_values<float>(c.m, 23);
    const Index panels = (c.n + kCols - 1) / kCols;
    std::vector<float> packed(static_cast<std::size_t>(panels * c.k * kCols), 0.0f);
    for (Index d = 0; d < c.k; ++d)
      for (Index j = 0; j < c.n; ++j)
        packed[static_cast<std::size_t>((j / kCols * c.k + d) * kCols + j % kCols)] =
            b[static_cast<std::size_t>(d * c.n + j)];
    const gemm::Epilogue<float> epilogue{nullptr, bias.data(), 0.0f, 1.5f};
    std::vector<float> expected(static_cast<std::size_t>(c.m * c.n)), actual(expected.size());
    gemm::multiply<float>({a.data(), c.k, 1}, {b.data(), c.n, 1}, c.m, c.n, c.k, expected.data(),
                          c.n, epilogue);
    gemm::multiply_packed<float>({a.data(), c.k, 1}, packed.data(), c.m, c.n, c.k, actual.data(),
                                 c.n, epilogue);
    CHECK(actual == expected);
  }
}

TEST_CASE("gemm::multiply with an epilogue scales and shifts each row, then clamps") {
  const Index m = 13, n = 37, k = 300;
  const auto a = random_values<double>(m * k, 41), b = random_values<double>(k * n, 42);
  const auto scale = random_values<double>(m, 43), bias = random_values<double>(m, 44);
  const auto expected = reference_product(a, b, m, n, k);
  struct Clamp {
    double low, high;
  };
  const double inf = std::numeric_limits<double>::infinity();
  for (const Clamp clamp : {Clamp{-inf, inf}, Clamp{0.0, inf}, Clamp{0.0, 0.25}}) {
    CAPTURE(clamp.low);
    CAPTURE(clamp.high);
    gemm::Epilogue<double> epilogue{scale.data(), bias.data(), clamp.low, clamp.high};
    std::vector<double> c(static_cast<std::size_t>(m * n));
    gemm::multiply<double>({a.data(), k, 1}, {b.data(), n, 1}, m, n, k, c.data(), n, epilogue);
    for (Index i = 0; i < m; ++i)
      for (Index j = 0; j < n; ++j) {
        const auto at = static_cast<std::size_t>(i * n + j);
        const double want = std::clamp(
            scale[static_cast<std::size_t>(i)] * expected[at] + bias[static_cast<std::size_t>(i)],
            clamp.low, clamp.high);
        REQUIRE(c[at] == doctest::Approx(want).epsilon(1e-12));
      }
  }
  // Without scale or bias, the epilogue is the clamp alone; NaN goes through as NaN.
  std::vector<double> nan_a(static_cast<std::size_t>(m * k), 1.0);
  nan_a[0] = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> c(static_cast<std::size_t>(m * n));
  gemm::multiply<double>({nan_a.data(), k, 1}, {b.data(), n, 1}, m, n, k, c.data(), n,
                         gemm::Epilogue<double>{nullptr, nullptr, 0.0, inf});
  CHECK(std::isnan(c[0]));
  CHECK(c[static_cast<std::size_t>(n)] >= 0.0);
}

TEST_CASE("gemm::Epilogue::with_bias folds a layer's bias in: scale * (AB + b) + shift") {
  const double scale[] = {2.0, -1.0}, shift[] = {0.5, 3.0}, bias[] = {1.0, 4.0};
  std::vector<double> storage;
  const gemm::Epilogue<double> map{scale, shift, -10.0, 10.0};
  const gemm::Epilogue<double> folded = map.with_bias(bias, 2, storage);
  for (Index row = 0; row < 2; ++row)
    for (const double product : {-3.0, 0.0, 2.5})
      CHECK(folded.apply(product, row) == doctest::Approx(map.apply(product + bias[row], row)));
  // The bias alone is read in place; no bias leaves the map as it is.
  const gemm::Epilogue<double> bias_only = gemm::Epilogue<double>{}.with_bias(bias, 2, storage);
  CHECK(bias_only.row_bias == bias);
  CHECK(map.with_bias(nullptr, 2, storage).row_bias == shift);
}
