// Golden files: reference tensors computed by PyTorch (tools/make_golden.py), and the comparison
// of our float results with them.
//
// File format (little-endian throughout; written by tools/make_golden.py):
//
//   magic     8 bytes   "MCGOLD01"
//   count     uint32    number of tensors
//   count times:
//     name_length uint32, name (name_length bytes, unique within the file)
//     rank        uint32 (0 to 4; rank 0 is a scalar)
//     dims        rank x int64, each >= 0
//     data        prod(dims) x float64 (IEEE 754), row-major
//   nothing after the last tensor
//
// A file that breaks any of these rules is refused with a minicnn::Error naming the file, the
// byte offset or tensor, the expected and the actual value; sizes are checked against the bytes
// left before anything is allocated.
//
// Comparison: an element a of our result matches its reference b when
//
//   |a - b| <= tolerance * max(|b|, floor),    floor = kGoldenFloor * max_i |b_i|
//
// relative to b, except that elements smaller than a hundredth of the tensor's largest are
// compared to that hundredth instead, i.e. to an absolute 1e-7 * max |b|, about one float ulp of
// the largest element. Such elements come from sums that cancel (a convolution output near 0, a
// normalised value near the mean, tanh' = 1 - tanh^2 near saturation), where float's rounding
// error follows the size of the terms, not of the result: with a floor of a thousandth, correct
// float results of Conv2D, AvgPool2D and Tanh missed by up to 2x; with a hundredth, the worst
// element of every golden case is within a third of the allowed difference.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn::testing {

inline constexpr double kGoldenTolerance = 1e-5;
inline constexpr double kGoldenFloor = 1e-2;

class GoldenFile {
 public:
  static constexpr char kMagic[9] = "MCGOLD01";

  // Reads and validates the whole file.
  static GoldenFile load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("golden file '", path, "': cannot open it");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse(path, bytes);
  }

  // Decodes the bytes of a golden file; `path` only names it in messages.
  static GoldenFile parse(const std::string& path, const std::string& bytes) {
    GoldenFile file;
    file.path_ = path;
    Reader reader{path, bytes, 0};
    if (bytes.compare(0, 8, kMagic) != 0)
      fail("golden file '", path, "': expected magic \"", kMagic, "\", got \"",
           printable(bytes.substr(0, 8)), "\"");
    reader.offset = 8;
    const std::uint32_t count = reader.u32("the tensor count");
    for (std::uint32_t k = 0; k < count; ++k) {
      const std::uint32_t name_length = reader.u32("a name length");
      std::string name = reader.bytes(name_length, "a tensor name");
      if (file.find(name) != nullptr)
        fail("golden file '", path, "': tensor '", name, "' appears twice");
      const std::uint32_t rank = reader.u32("the rank of '" + name + "'");
      if (rank > static_cast<std::uint32_t>(Shape::kMaxRank))
        fail("golden file '", path, "': tensor '", name, "': expected rank <= ", Shape::kMaxRank,
             ", got ", rank);
      Shape shape;
      for (std::uint32_t axis = 0; axis < rank; ++axis) {
        const std::int64_t extent = reader.i64("the extents of '" + name + "'");
        if (extent < 0)
          fail("golden file '", path, "': tensor '", name, "': expected extents >= 0, got ",
               extent);
        shape.push_back(static_cast<Index>(extent));
      }
      // Checked by division, before allocating, so that huge extents can neither overflow the
      // product nor allocate: fits when floor(left / 8 / d_0 / d_1 ...) >= 1.
      std::uint64_t fitting = reader.left() / 8;
      bool empty = false;
      for (int axis = 0; axis < shape.rank(); ++axis) {
        if (shape[axis] == 0) empty = true;
        if (shape[axis] > 0) fitting /= static_cast<std::uint64_t>(shape[axis]);
      }
      if (fitting == 0 && !empty)
        fail("golden file '", path, "': truncated: tensor '", name, "' of shape ", shape,
             " does not fit in the ", reader.left(), " bytes left at byte ", reader.offset);
      Tensor<double> tensor(shape);
      for (double& value : tensor)
        value = reader.f64("data");
      file.tensors_.emplace_back(std::move(name), std::move(tensor));
    }
    if (reader.left() != 0)
      fail("golden file '", path, "': expected the end of the file after ", count, " tensors, got ",
           reader.left(), " more bytes");
    return file;
  }

  const std::string& path() const { return path_; }
  bool contains(const std::string& name) const { return find(name) != nullptr; }
  std::vector<std::string> names() const {
    std::vector<std::string> result;
    for (const auto& entry : tensors_)
      result.push_back(entry.first);
    return result;
  }

  // The stored float64 tensor.
  const Tensor<double>& get(const std::string& name) const {
    const Tensor<double>* tensor = find(name);
    if (tensor == nullptr) fail("golden file '", path_, "': no tensor named '", name, "'");
    return *tensor;
  }

  // The stored tensor converted to T (inputs are stored float32-exact, so float loses nothing).
  template <typename T>
  Tensor<T> as(const std::string& name) const {
    const Tensor<double>& stored = get(name);
    Tensor<T> converted(stored.shape());
    std::transform(stored.begin(), stored.end(), converted.begin(),
                   [](double v) { return static_cast<T>(v); });
    return converted;
  }

  // A rank-0 (scalar) tensor's value.
  double scalar(const std::string& name) const {
    const Tensor<double>& stored = get(name);
    if (stored.rank() != 0)
      fail("golden file '", path_, "': expected '", name, "' to be a scalar, got shape ",
           stored.shape());
    return stored[0];
  }

 private:
  // A cursor over the file's bytes; every read checks that the bytes exist.
  struct Reader {
    const std::string& path;
    const std::string& data;
    std::size_t offset;

    std::size_t left() const { return data.size() - offset; }
    void need(std::size_t n, const std::string& what) const {
      if (left() < n)
        fail("golden file '", path, "': truncated at byte ", offset, " reading ", what, " (", n,
             " bytes needed, ", left(), " left)");
    }
    // Little-endian, byte by byte: the same on any host.
    std::uint64_t little_endian(std::size_t n, const std::string& what) {
      need(n, what);
      std::uint64_t value = 0;
      for (std::size_t i = 0; i < n; ++i)
        value |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[offset + i]))
                 << (8 * i);
      offset += n;
      return value;
    }
    std::uint32_t u32(const std::string& what) {
      return static_cast<std::uint32_t>(little_endian(4, what));
    }
    std::int64_t i64(const std::string& what) {
      return static_cast<std::int64_t>(little_endian(8, what));
    }
    double f64(const std::string& what) {
      const std::uint64_t bits = little_endian(8, what);
      double value;
      std::memcpy(&value, &bits, sizeof value);
      return value;
    }
    std::string bytes(std::size_t n, const std::string& what) {
      need(n, what);
      std::string result = data.substr(offset, n);
      offset += n;
      return result;
    }
  };

  // Non-printable bytes as '?', so a binary header prints legibly.
  static std::string printable(std::string text) {
    for (char& c : text)
      if (c < 0x20 || c > 0x7e) c = '?';
    return text;
  }

  const Tensor<double>* find(const std::string& name) const {
    for (const auto& entry : tensors_)
      if (entry.first == name) return &entry.second;
    return nullptr;
  }

  std::string path_;
  std::vector<std::pair<std::string, Tensor<double>>> tensors_;
};

struct GoldenComparison {
  bool passed = false;
  double worst_ratio = 0.0;  // max over elements of |a - b| / (tolerance * max(|b|, floor))
  std::string report;        // what was compared, and the worst element
};

// Compares our `actual` with the reference `expected` element by element (rule at the top).
template <typename T>
GoldenComparison compare_golden(const std::string& what, const Tensor<T>& actual,
                                const Tensor<double>& expected,
                                double tolerance = kGoldenTolerance) {
  GoldenComparison result;
  std::ostringstream report;
  report << what << ": ";
  if (actual.shape() != expected.shape()) {
    report << "expected shape " << expected.shape() << ", got " << actual.shape();
    result.report = report.str();
    return result;
  }
  double largest = 0.0;
  for (double b : expected)
    largest = std::max(largest, std::abs(b));
  const double floor = kGoldenFloor * largest;
  Index worst = 0;
  for (Index i = 0; i < expected.size(); ++i) {
    const double a = static_cast<double>(actual[i]), b = expected[i];
    // A NaN or infinite result counts as infinitely wrong (NaN would compare false).
    const double ratio =
        std::isfinite(a) ? std::abs(a - b) / (tolerance * std::max({std::abs(b), floor, 1e-300}))
                         : std::numeric_limits<double>::infinity();
    if (ratio > result.worst_ratio) {
      result.worst_ratio = ratio;
      worst = i;
    }
  }
  result.passed = result.worst_ratio <= 1.0;
  report.precision(9);
  report << "worst element [" << worst << "] of shape " << expected.shape() << ": got "
         << (expected.size() > 0 ? static_cast<double>(actual[worst]) : 0.0) << ", expected "
         << (expected.size() > 0 ? expected[worst] : 0.0) << ": " << result.worst_ratio
         << " times the allowed difference " << tolerance << " * max(|expected|, " << floor << ")";
  result.report = report.str();
  return result;
}

}  // namespace minicnn::testing
