// Specification of the IDX reader (MNIST, Fashion-MNIST): raw or gzip files, and every way a file
// can be wrong. The files are generated in the real format in a temporary directory.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "minicnn/data/idx.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;
using testing::Bytes;
using testing::read_raw;
using testing::TempDir;
using testing::write_gz;
using testing::write_raw;

// Every allocation of this test program goes through these, so that a test can tell the largest
// block requested while it ran: a corrupt header must not make the reader allocate its claim.
namespace {
std::size_t largest_allocation = 0;
}
void* operator new(std::size_t size) {
  largest_allocation = std::max(largest_allocation, size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  largest_allocation = std::max(largest_allocation, size);
  const auto align = static_cast<std::size_t>(alignment);
  if (void* p =
          std::aligned_alloc(align, (std::max<std::size_t>(size, 1) + align - 1) / align * align))
    return p;
  throw std::bad_alloc();
}
// Out of line so that GCC does not pair free() with operator new and warn.
[[gnu::noinline]] void release(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  release(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  release(p);
}

namespace {

void put_u32(Bytes& bytes, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<unsigned char>(value >> shift));
}

Bytes idx_header(std::uint32_t magic, const std::vector<std::uint32_t>& extents) {
  Bytes bytes;
  put_u32(bytes, magic);
  for (auto extent : extents)
    put_u32(bytes, extent);
  return bytes;
}

// count images of rows x columns; pixel (n, r, c) = (7n + 3r + c) mod 256.
Bytes idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t columns) {
  Bytes bytes = idx_header(0x00000803, {count, rows, columns});
  for (std::uint32_t n = 0; n < count; ++n)
    for (std::uint32_t r = 0; r < rows; ++r)
      for (std::uint32_t c = 0; c < columns; ++c)
        bytes.push_back(static_cast<unsigned char>((7 * n + 3 * r + c) % 256));
  return bytes;
}

Bytes idx_labels(const std::vector<unsigned char>& labels) {
  Bytes bytes = idx_header(0x00000801, {static_cast<std::uint32_t>(labels.size())});
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

}  // namespace

TEST_CASE("IDX images and labels read back exactly, raw and gzip-compressed") {
  TempDir dir;
  const Bytes images = idx_images(3, 5, 4);
  const Bytes labels = idx_labels({7, 0, 9});
  for (bool gz : {false, true}) {
    CAPTURE(gz);
    const auto write = gz ? write_gz : write_raw;
    const std::string suffix = gz ? ".gz" : "";
    const auto image_path = write(dir / ("images" + suffix), images);
    const auto label_path = write(dir / ("labels" + suffix), labels);

    const Tensor<std::uint8_t> x = read_idx_images(image_path);
    CHECK(x.shape() == Shape{3, 1, 5, 4});
    for (Index n = 0; n < 3; ++n)
      for (Index r = 0; r < 5; ++r)
        for (Index c = 0; c < 4; ++c)
          CHECK(x(n, 0, r, c) == (7 * n + 3 * r + c) % 256);

    const Tensor<std::int32_t> y = read_idx_labels(label_path, 10);
    CHECK(y.shape() == Shape{3});
    CHECK(std::vector<std::int32_t>(y.begin(), y.end()) == std::vector<std::int32_t>{7, 0, 9});

    const Dataset data = read_idx(image_path, label_path, 10);
    CHECK(data.size() == 3);
    CHECK(data.classes == 10);
    CHECK(data.sample_shape() == Shape{1, 5, 4});
    CHECK(std::equal(data.images.begin(), data.images.end(), x.begin()));
  }
}

TEST_CASE("IDX refuses a file that is not unsigned-byte IDX of the right rank") {
  TempDir dir;
  Bytes bad_magic = idx_images(1, 2, 2);
  bad_magic[0] = 0x12;
  bad_magic[1] = 0x34;
  auto path = write_raw(dir / "bad_magic", bad_magic);
  CHECK_THROWS_WITH_AS(read_idx_images(path),
                       ("IDX file '" + path +
                        "': expected the IDX magic number 0x00000803 (images: count, rows, "
                        "columns), got 0x12340803; not an IDX file")
                           .c_str(),
                       Error);

  Bytes floats = idx_images(1, 2, 2);
  floats[2] = 0x0D;
  path = write_raw(dir / "floats", floats);
  CHECK_THROWS_WITH_AS(
      read_idx_images(path),
      ("IDX file '" + path + "': expected IDX element type 0x08 (unsigned byte), got 0x0D").c_str(),
      Error);

  // A labels file (1 dimension) where images (3 dimensions) are expected, and the reverse.
  const auto labels = write_raw(dir / "labels", idx_labels({1, 2, 3, 4, 5, 6, 7, 8}));
  CHECK_THROWS_WITH_AS(
      read_idx_images(labels),
      ("IDX file '" + labels + "': expected 3 dimensions (images: count, rows, columns), got 1")
          .c_str(),
      Error);
  const auto images = write_raw(dir / "images", idx_images(2, 2, 2));
  CHECK_THROWS_WITH_AS(
      read_idx_labels(images, 10),
      ("IDX file '" + images + "': expected 1 dimension (labels: count), got 3").c_str(), Error);

  const auto stub = write_raw(dir / "stub", Bytes(10, 0));
  CHECK_THROWS_WITH_AS(
      read_idx_images(stub),
      ("IDX file '" + stub + "': expected a 16-byte IDX header, got 10 bytes in the file").c_str(),
      Error);

  const auto empty_images = write_raw(dir / "zero_rows", idx_images(2, 0, 3));
  CHECK_THROWS_WITH_AS(
      read_idx_images(empty_images),
      ("IDX file '" + empty_images + "': expected images of at least 1 x 1 pixels, got 0 x 3")
          .c_str(),
      Error);

  const auto missing = dir / "missing";
  CHECK_THROWS_WITH_AS(
      read_idx_images(missing),
      ("IDX file '" + missing + "': expected an existing regular file, found none").c_str(), Error);
}

TEST_CASE("IDX refuses a file whose data is shorter or longer than its header claims") {
  TempDir dir;
  Bytes images = idx_images(3, 5, 4);  // 16 + 60 bytes
  Bytes truncated(images.begin(), images.end() - 10);
  Bytes padded = images;
  padded.push_back(0);
  for (bool gz : {false, true}) {
    CAPTURE(gz);
    const auto write = gz ? write_gz : write_raw;
    auto path = write(dir / (gz ? "short.gz" : "short"), truncated);
    CHECK_THROWS_WITH_AS(
        read_idx_images(path),
        ("IDX file '" + path + "': header claims 3 x 5 x 4 = 60 bytes of data, the file holds 50")
            .c_str(),
        Error);
    path = write(dir / (gz ? "long.gz" : "long"), padded);
    CHECK_THROWS_WITH_AS(
        read_idx_images(path),
        ("IDX file '" + path + "': header claims 3 x 5 x 4 = 60 bytes of data, the file holds 61")
            .c_str(),
        Error);
  }
}

TEST_CASE("IDX refuses a gzip file cut short or with a corrupt checksum") {
  TempDir dir;
  const auto whole = write_gz(dir / "whole.gz", idx_images(20, 28, 28));
  const Bytes gz = read_raw(whole);
  REQUIRE(gz.size() > 100);
  const auto cut = write_raw(dir / "cut.gz", Bytes(gz.begin(), gz.begin() + gz.size() / 2));
  CHECK_THROWS_WITH_AS(read_idx_images(cut),
                       ("IDX file '" + cut +
                        "': expected a complete gzip stream, got one cut short (truncated file)")
                           .c_str(),
                       Error);
  // The gzip trailer is CRC-32 then size, 4 bytes each; a wrong CRC is detected after inflating.
  Bytes bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 0xFF;
  const auto corrupt = write_raw(dir / "corrupt.gz", bad_crc);
  CHECK_THROWS_WITH_AS(
      read_idx_images(corrupt),
      ("IDX file '" + corrupt + "': corrupt gzip data (zlib: incorrect data check)").c_str(),
      Error);
}

TEST_CASE("IDX refuses a header claiming 2^31 images in a tiny file without allocating them") {
  TempDir dir;
  const Bytes header = idx_header(0x00000803, {0x80000000u, 28, 28});
  for (bool gz : {false, true}) {
    CAPTURE(gz);
    const auto path = (gz ? write_gz : write_raw)(dir / (gz ? "huge.gz" : "huge"), header);
    largest_allocation = 0;
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(read_idx_images(path),
                         ("IDX file '" + path +
                          "': header claims 2147483648 x 28 x 28 = 1683627180032 bytes of data, "
                          "the file holds 0")
                             .c_str(),
                         Error);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed.count() < 0.5);
    CHECK(largest_allocation < (std::size_t{1} << 20));  // zlib's buffers, never the claim
  }
  // Extents whose product does not fit in 64 bits must not wrap around to a small number.
  const auto path =
      write_raw(dir / "overflow", idx_header(0x00000803, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}));
  CHECK_THROWS_WITH_AS(read_idx_images(path),
                       ("IDX file '" + path +
                        "': header claims 4294967295 x 4294967295 x 4294967295 = more than 2^63 "
                        "bytes of data, the file holds 0")
                           .c_str(),
                       Error);
}

TEST_CASE("IDX labels must lie below the class count and match the images in number") {
  TempDir dir;
  const auto labels = write_raw(dir / "labels", idx_labels({3, 9, 10, 1}));
  CHECK_THROWS_WITH_AS(
      read_idx_labels(labels, 10),
      ("IDX file '" + labels + "': expected labels in [0, 10), got 10 at index 2").c_str(), Error);
  CHECK(read_idx_labels(labels, 11)[2] == 10);

  const auto images = write_raw(dir / "images", idx_images(3, 2, 2));
  CHECK_THROWS_WITH_AS(read_idx(images, labels, 11),
                       ("IDX files '" + images + "' and '" + labels +
                        "': expected as many labels as images (3), got 4")
                           .c_str(),
                       Error);
}
