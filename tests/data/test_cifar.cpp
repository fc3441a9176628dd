// Specification of the CIFAR-10 and CIFAR-100 binary readers: records of label bytes + 3072
// pixels (R, G, B planes of 32x32), generated in a temporary directory.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "minicnn/data/cifar.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;
using testing::Bytes;
using testing::read_raw;
using testing::TempDir;
using testing::write_gz;
using testing::write_raw;

namespace {

// The pixel of sample s, channel c, row h, column w in the generated files.
unsigned char pixel(Index s, Index c, Index h, Index w) {
  return static_cast<unsigned char>((31 * s + 101 * c + 5 * h + w) % 256);
}

// Records first..first+count-1, each `labels` bytes then R, G, B planes of 32x32.
Bytes cifar_records(Index first, Index count, const std::vector<std::vector<int>>& labels) {
  Bytes bytes;
  for (Index s = first; s < first + count; ++s) {
    for (int label : labels[static_cast<std::size_t>(s - first)])
      bytes.push_back(static_cast<unsigned char>(label));
    for (Index c = 0; c < 3; ++c)
      for (Index h = 0; h < 32; ++h)
        for (Index w = 0; w < 32; ++w)
          bytes.push_back(pixel(s, c, h, w));
  }
  return bytes;
}

void check_pixels(const Dataset& data) {
  bool all_equal = true;
  for (Index s = 0; s < data.size(); ++s)
    for (Index c = 0; c < 3; ++c)
      for (Index h = 0; h < 32; ++h)
        for (Index w = 0; w < 32; ++w)
          all_equal = all_equal && data.images(s, c, h, w) == pixel(s, c, h, w);
  CHECK(all_equal);
}

std::vector<std::int32_t> cifar_labels(const Dataset& data) {
  return {data.labels.begin(), data.labels.end()};
}

}  // namespace

TEST_CASE("CIFAR-10 records read back as (N, 3, 32, 32) RGB planes, files concatenated") {
  TempDir dir;
  const auto first = write_raw(dir / "data_batch_1.bin", cifar_records(0, 2, {{3}, {9}}));
  const auto second = write_gz(dir / "data_batch_2.bin.gz", cifar_records(2, 3, {{0}, {1}, {2}}));
  const Dataset data = read_cifar10({first, second});
  CHECK(data.images.shape() == Shape{5, 3, 32, 32});
  CHECK(data.classes == 10);
  CHECK(cifar_labels(data) == std::vector<std::int32_t>{3, 9, 0, 1, 2});
  check_pixels(data);
}

TEST_CASE("CIFAR-100 records carry a coarse and a fine label; either is kept") {
  TempDir dir;
  const auto path = write_raw(dir / "train.bin", cifar_records(0, 3, {{4, 0}, {19, 99}, {11, 57}}));
  const Dataset coarse = read_cifar100({path}, CifarLabels::coarse);
  CHECK(coarse.classes == 20);
  CHECK(cifar_labels(coarse) == std::vector<std::int32_t>{4, 19, 11});
  check_pixels(coarse);
  const Dataset fine = read_cifar100({path}, CifarLabels::fine);
  CHECK(fine.classes == 100);
  CHECK(cifar_labels(fine) == std::vector<std::int32_t>{0, 99, 57});
  check_pixels(fine);
}

TEST_CASE("CIFAR readers refuse a size that is not a whole number of records") {
  TempDir dir;
  Bytes records = cifar_records(0, 2, {{1}, {2}});
  records.pop_back();
  const auto ten = write_raw(dir / "cut.bin", records);
  CHECK_THROWS_WITH_AS(read_cifar10({ten}),
                       ("CIFAR-10 file '" + ten +
                        "': expected a positive multiple of 3073 bytes (1 label byte + 3072 pixel "
                        "bytes per record), got 6145 bytes")
                           .c_str(),
                       Error);
  // A CIFAR-10 file (3073-byte records) is not a CIFAR-100 file (3074-byte records).
  const auto cifar10 = write_raw(dir / "cifar10.bin", cifar_records(0, 2, {{1}, {2}}));
  CHECK_THROWS_WITH_AS(read_cifar100({cifar10}, CifarLabels::fine),
                       ("CIFAR-100 file '" + cifar10 +
                        "': expected a positive multiple of 3074 bytes (2 label bytes + 3072 pixel "
                        "bytes per record), got 6146 bytes")
                           .c_str(),
                       Error);
  const auto empty = write_raw(dir / "empty.bin", {});
  CHECK_THROWS_WITH_AS(read_cifar10({empty}),
                       ("CIFAR-10 file '" + empty +
                        "': expected a positive multiple of 3073 bytes (1 label byte + 3072 pixel "
                        "bytes per record), got 0 bytes")
                           .c_str(),
                       Error);
  CHECK_THROWS_WITH_AS(read_cifar10({}), "CIFAR-10 file: expected at least one file, got none",
                       Error);
  const auto missing = dir / "missing.bin";
  CHECK_THROWS_WITH_AS(
      read_cifar10({missing}),
      ("CIFAR-10 file '" + missing + "': expected an existing regular file, found none").c_str(),
      Error);
}

TEST_CASE("CIFAR readers refuse labels out of range, naming the label and the record") {
  TempDir dir;
  const auto cifar10 = write_raw(dir / "test_batch.bin", cifar_records(0, 3, {{9}, {0}, {10}}));
  CHECK_THROWS_WITH_AS(
      read_cifar10({cifar10}),
      ("CIFAR-10 file '" + cifar10 + "': expected class labels in [0, 10), got 10 in record 2")
          .c_str(),
      Error);
  // Both labels are checked, whichever one is kept.
  const auto bad_coarse = write_raw(dir / "coarse.bin", cifar_records(0, 2, {{19, 5}, {20, 5}}));
  for (auto kept : {CifarLabels::coarse, CifarLabels::fine})
    CHECK_THROWS_WITH_AS(read_cifar100({bad_coarse}, kept),
                         ("CIFAR-100 file '" + bad_coarse +
                          "': expected coarse labels in [0, 20), got 20 in record 1")
                             .c_str(),
                         Error);
  const auto bad_fine = write_raw(dir / "fine.bin", cifar_records(0, 1, {{0, 100}}));
  CHECK_THROWS_WITH_AS(
      read_cifar100({bad_fine}, CifarLabels::coarse),
      ("CIFAR-100 file '" + bad_fine + "': expected fine labels in [0, 100), got 100 in record 0")
          .c_str(),
      Error);
}
