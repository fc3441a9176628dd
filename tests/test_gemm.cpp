// Specification of the packed matrix product (gemm.hpp): C = A B, or C += A B, for operands in
// any strides, on shapes that are and are not multiples of the register block, with K longer than
// one depth block.
#include <doctest/doctest.h>

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

// Whole blocks, edges in every dimension, a single element, and K over two depth blocks.
const Case kCases[] = {{8, 16, 4}, {16, 32, 7},  {5, 9, 3},     {13, 37, 300},
                       {1, 1, 1},  {9, 33, 513}, {24, 48, 256}, {3, 70, 257}};

}  // namespace

TEST_CASE("gemm::multiply computes C = A B from row-major and transposed operands") {
  for (const Case c : kCases) {
    CAPTURE(c.m);
    CAPTURE(c.n);
    CAPTURE(c.k);
    const auto a = random_values<double>(c.m * c.k, 1);
    const auto b = random_values<double>(c.k * c.n, 2);
    const auto expected = reference_product(a, b, c.m, c.n, c.k);
    std::vector<double> packed_a(static_cast<std::size_t>(gemm::packed_a_size<double>(c.m, c.k)));
    std::vector<double> packed_b(static_cast<std::size_t>(gemm::packed_b_size<double>(c.k, c.n)));
    std::vector<double> product(static_cast<std::size_t>(c.m * c.n), -7.0);

    for (const bool from_transposes : {false, true}) {
      CAPTURE(from_transposes);
      if (from_transposes) {  // A(i, k) = a_t[k * m + i], B(k, j) = b_t[j * k_count + k]
        const auto a_t = transposed(a, c.m, c.k), b_t = transposed(b, c.k, c.n);
        gemm::pack_a(a_t.data(), c.m, c.k, 1, c.m, packed_a.data());
        gemm::pack_b(b_t.data(), c.k, c.n, 1, c.k, packed_b.data());
      } else {
        gemm::pack_a(a.data(), c.m, c.k, c.k, 1, packed_a.data());
        gemm::pack_b(b.data(), c.k, c.n, c.n, 1, packed_b.data());
      }
      gemm::multiply(packed_a.data(), packed_b.data(), c.m, c.n, c.k, product.data(), c.n);
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
  std::vector<double> packed_a(static_cast<std::size_t>(gemm::packed_a_size<double>(m, k)));
  std::vector<double> packed_b(static_cast<std::size_t>(gemm::packed_b_size<double>(k, n)));
  gemm::pack_a(a.data(), m, k, k, 1, packed_a.data());
  gemm::pack_b(b.data(), k, n, n, 1, packed_b.data());
  std::vector<double> c(static_cast<std::size_t>(m * ldc), 0.5);
  gemm::multiply(packed_a.data(), packed_b.data(), m, n, k, c.data(), ldc, true);
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

TEST_CASE("gemm::multiply adds a bias to each row of C once, over any number of depth blocks") {
  for (const Case c : {Case{13, 37, 300}, Case{8, 32, 5}}) {  // edge rows; K in two blocks
    CAPTURE(c.m);
    const auto a = random_values<double>(c.m * c.k, 7);
    const auto b = random_values<double>(c.k * c.n, 8);
    const auto bias = random_values<double>(c.m, 9);
    const auto expected = reference_product(a, b, c.m, c.n, c.k);
    std::vector<double> packed_a(static_cast<std::size_t>(gemm::packed_a_size<double>(c.m, c.k)));
    std::vector<double> packed_b(static_cast<std::size_t>(gemm::packed_b_size<double>(c.k, c.n)));
    gemm::pack_a(a.data(), c.m, c.k, c.k, 1, packed_a.data());
    gemm::pack_b(b.data(), c.k, c.n, c.n, 1, packed_b.data());
    std::vector<double> product(static_cast<std::size_t>(c.m * c.n));
    gemm::multiply(packed_a.data(), packed_b.data(), c.m, c.n, c.k, product.data(), c.n, false,
                   bias.data());
    for (Index i = 0; i < c.m; ++i)
      for (Index j = 0; j < c.n; ++j) {
        const auto e = static_cast<std::size_t>(i * c.n + j);
        REQUIRE(product[e] ==
                doctest::Approx(expected[e] + bias[static_cast<std::size_t>(i)]).epsilon(1e-12));
      }
  }
}

TEST_CASE("gemm::multiply in float agrees with the double product to float rounding") {
  const Index m = 64, n = 100, k = 800;  // mnist_model4's second convolution, per sample
  const auto a = random_values<float>(m * k, 5);
  const auto b = random_values<float>(k * n, 6);
  const std::vector<double> a_double(a.begin(), a.end()), b_double(b.begin(), b.end());
  const auto expected = reference_product(a_double, b_double, m, n, k);
  std::vector<float> packed_a(static_cast<std::size_t>(gemm::packed_a_size<float>(m, k)));
  std::vector<float> packed_b(static_cast<std::size_t>(gemm::packed_b_size<float>(k, n)));
  std::vector<float> c(static_cast<std::size_t>(m * n));
  gemm::pack_a(a.data(), m, k, k, 1, packed_a.data());
  gemm::pack_b(b.data(), k, n, n, 1, packed_b.data());
  gemm::multiply(packed_a.data(), packed_b.data(), m, n, k, c.data(), n);
  double worst = 0;
  for (std::size_t e = 0; e < c.size(); ++e)
    worst = std::max(worst, std::abs(c[e] - expected[e]));
  CHECK(worst < 1e-4);  // sums of 800 products of magnitude <= 1
}
