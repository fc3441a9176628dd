// The body of the two CIFAR fuzz targets (fuzz_cifar10.cpp, fuzz_cifar100.cpp): they differ in
// the reader and the label counts only.
//
// Each input is written as a file and read as the list {file} and as {file, file} (the reader
// concatenates files, so the second read must hold every record twice); then, unless it already
// is gzip, it is gzip-compressed by the target and read again: both encodings of the same content
// must agree exactly, down to the error message.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "minicnn/data/cifar.hpp"

namespace minicnn::fuzz {

// What one read produced: the Dataset, or the message of the Error that refused the files.
struct CifarOutcome {
  Dataset data;
  std::string error;
  bool failed = false;

  friend bool operator==(const CifarOutcome& a, const CifarOutcome& b) {
    if (a.failed || b.failed) return a.failed == b.failed && a.error == b.error;
    return a.data.classes == b.data.classes && a.data.images.shape() == b.data.images.shape() &&
           a.data.labels.shape() == b.data.labels.shape() &&
           std::equal(a.data.images.begin(), a.data.images.end(), b.data.images.begin()) &&
           std::equal(a.data.labels.begin(), a.data.labels.end(), b.data.labels.begin());
  }
};

// `read` takes the list of paths; `classes` is the label count of the kept label.
template <typename Read>
CifarOutcome read_cifar_outcome(const std::vector<std::string>& paths, Index classes, Read read) {
  CifarOutcome outcome;
  try {
    outcome.data = read(paths);
  } catch (const Error& error) {
    outcome.failed = true;
    outcome.error = error.what();
    require(names(outcome.error, paths.front()), "a CIFAR error does not name the file");
    return outcome;
  }
  const Dataset& d = outcome.data;
  require(d.classes == classes, "a CIFAR Dataset has the wrong class count");
  require(d.images.rank() == 4 && d.images.dim(1) == 3 && d.images.dim(2) == 32 &&
              d.images.dim(3) == 32 && d.images.dim(0) > 0,
          "CIFAR images are not (N > 0, 3, 32, 32)");
  require(d.labels.rank() == 1 && d.labels.dim(0) == d.images.dim(0),
          "CIFAR labels are not one per image");
  for (const std::int32_t label : d.labels)
    require(label >= 0 && label < classes, "a CIFAR label outside [0, classes) was accepted");
  return outcome;
}

// The checks above on `bytes`; returns the outcome of reading them as one raw file.
template <typename Read>
CifarOutcome fuzz_cifar(const std::uint8_t* bytes, std::size_t size, Index classes, Read read) {
  const std::string raw = write_raw("input", bytes, size);
  auto once = read_cifar_outcome({raw}, classes, read);
  const auto twice = read_cifar_outcome({raw, raw}, classes, read);
  require(once.failed == twice.failed, "CIFAR accepts a file alone but not twice, or the reverse");
  if (!once.failed)
    require(twice.data.images.dim(0) == 2 * once.data.images.dim(0) &&
                std::equal(once.data.labels.begin(), once.data.labels.end(),
                           twice.data.labels.begin() + once.data.labels.size()),
            "CIFAR read of a file twice does not hold its records twice");
  if (!looks_gzip(bytes, size)) {  // a gzip input: the raw read already decompressed it
    const std::string gz = write_gz("input", bytes, size);
    require(read_cifar_outcome({gz}, classes, read) == once,
            "CIFAR reads differ between the raw and the gzip file");
  }
  return once;
}

}  // namespace minicnn::fuzz
