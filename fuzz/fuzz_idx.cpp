// libFuzzer target: the IDX reader (idx.hpp) through InputFile, raw and gzip-compressed.
//
// Each input is read as an images file (0x00000803) and as a labels file (0x00000801, 10
// classes), first as it is (raw, or gzip when it starts with the gzip magic, so the corpus also
// drives zlib's error paths), then gzip-compressed by the target: the two reads of the same
// content must agree exactly, down to the error message.
#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "minicnn/data/idx.hpp"

namespace {

using minicnn::fuzz::require;

// What one read produced: the tensor, or the message of the Error that refused the file.
template <typename T>
struct Outcome {
  minicnn::Tensor<T> value;
  std::string error;
  bool failed = false;

  friend bool operator==(const Outcome& a, const Outcome& b) {
    if (a.failed || b.failed) return a.failed == b.failed && a.error == b.error;
    return a.value.shape() == b.value.shape() &&
           std::equal(a.value.begin(), a.value.end(), b.value.begin());
  }
};

template <typename T, typename Read>
Outcome<T> attempt(const std::string& path, Read read) {
  Outcome<T> outcome;
  try {
    outcome.value = read(path);
  } catch (const minicnn::Error& error) {
    outcome.failed = true;
    outcome.error = error.what();
    require(minicnn::fuzz::names(outcome.error, path), "an IDX error does not name the file");
  }
  return outcome;
}

constexpr minicnn::Index kClasses = 10;

Outcome<std::uint8_t> images(const std::string& path) {
  auto outcome = attempt<std::uint8_t>(path, minicnn::read_idx_images);
  if (!outcome.failed) {
    const auto& shape = outcome.value.shape();
    require(shape.rank() == 4 && shape[1] == 1 && shape[2] > 0 && shape[3] > 0,
            "IDX images are not (count, 1, rows, columns) with rows, columns > 0");
  }
  return outcome;
}

Outcome<std::int32_t> labels(const std::string& path) {
  auto outcome = attempt<std::int32_t>(
      path, [](const std::string& p) { return minicnn::read_idx_labels(p, kClasses); });
  if (!outcome.failed)
    for (const std::int32_t label : outcome.value)
      require(label >= 0 && label < kClasses, "an IDX label outside [0, classes) was accepted");
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The same file name for both encodings, so that error messages compare equal.
  const std::string raw = minicnn::fuzz::write_raw("input", data, size);
  const auto raw_images = images(raw);
  const auto raw_labels = labels(raw);
  if (minicnn::fuzz::looks_gzip(data, size)) return 0;  // raw read already decompressed it

  const std::string gz = minicnn::fuzz::write_gz("input", data, size);
  require(images(gz) == raw_images, "IDX images differ between the raw and the gzip file");
  require(labels(gz) == raw_labels, "IDX labels differ between the raw and the gzip file");
  return 0;
}
