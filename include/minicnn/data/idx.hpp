// IDX: the file format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), raw or
// gzip-compressed (read transparently).
//
//   magic     4 bytes, big-endian: 0x00, 0x00, element type (0x08 = unsigned byte), dimensions
//   extents   one 4-byte big-endian count per dimension
//   data      the elements, row-major
//
// Images are 0x00000803: (count, rows, columns) bytes, returned as (count, 1, rows, columns).
// Labels are 0x00000801: (count) bytes, returned as int32 class indices.
// Every check happens before the data is allocated: the header's claim is compared with the
// file's actual content size (input_file.hpp), with the products guarded against overflow.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "minicnn/data/dataset.hpp"
#include "minicnn/data/input_file.hpp"
#include "minicnn/error.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

namespace detail {

inline std::uint32_t big_endian_u32(const unsigned char* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

inline std::string to_hex(std::uint32_t value, int digits) {
  char text[9];
  std::snprintf(text, sizeof text, "%0*X", digits, value);
  return text;
}

template <std::size_t n>
std::string shape_text(const std::array<Index, n>& extents) {
  std::string text;
  for (std::size_t i = 0; i < n; ++i)
    text += (i == 0 ? "" : " x ") + std::to_string(extents[i]);
  return text;
}

// The extents of an IDX file of unsigned bytes with `dimensions` dimensions, after checking the
// magic number and that the content holds exactly header + product(extents) bytes.
template <int dimensions>
std::array<Index, dimensions> read_idx_header(InputFile& file, const char* what) {
  constexpr std::uint64_t header_size = 4 + 4 * dimensions;
  const std::uint64_t content = file.content_size();
  if (content < header_size)
    fail(file.describe(), ": expected a ", header_size, "-byte IDX header, got ", content,
         " bytes in the file");
  unsigned char header[header_size];
  file.read_exactly(header, header_size);

  const std::uint32_t magic = big_endian_u32(header);
  const std::uint32_t expected_magic = 0x0800u + dimensions;
  if ((magic >> 16) != 0)
    fail(file.describe(), ": expected the IDX magic number 0x", to_hex(expected_magic, 8), " (",
         what, "), got 0x", to_hex(magic, 8), "; not an IDX file");
  if (header[2] != 0x08)
    fail(file.describe(), ": expected IDX element type 0x08 (unsigned byte), got 0x",
         to_hex(header[2], 2));
  if (header[3] != dimensions)
    fail(file.describe(), ": expected ", dimensions,
         dimensions == 1 ? " dimension (" : " dimensions (", what, "), got ", int{header[3]});

  // Each extent is below 2^32; the product is computed with an overflow check so that a corrupt
  // header cannot wrap around to a small, plausible size.
  std::array<Index, dimensions> extents{};
  std::uint64_t elements = 1;
  bool overflow = false;
  for (int d = 0; d < dimensions; ++d) {
    const std::uint32_t extent = big_endian_u32(header + 4 + 4 * d);
    extents[static_cast<std::size_t>(d)] = static_cast<Index>(extent);
    if (extent != 0 && elements > std::numeric_limits<std::uint64_t>::max() / 2 / extent)
      overflow = true;
    else
      elements *= extent;
  }
  if (overflow || header_size + elements != content)
    fail(file.describe(), ": header claims ", shape_text(extents), " = ",
         overflow ? std::string("more than 2^63") : std::to_string(elements),
         " bytes of data, the file holds ", content - header_size);
  return extents;
}

}  // namespace detail

// Images of an IDX file (0x00000803), as (count, 1, rows, columns).
inline Tensor<std::uint8_t> read_idx_images(const std::string& path) {
  InputFile file(path, "IDX file");
  const auto extents = detail::read_idx_header<3>(file, "images: count, rows, columns");
  if (extents[1] == 0 || extents[2] == 0)
    fail(file.describe(), ": expected images of at least 1 x 1 pixels, got ", extents[1], " x ",
         extents[2]);
  Tensor<std::uint8_t> images({extents[0], 1, extents[1], extents[2]});
  file.read_exactly(images.data(), static_cast<std::uint64_t>(images.size()));
  return images;
}

// Labels of an IDX file (0x00000801), each checked to lie in [0, classes).
inline Tensor<std::int32_t> read_idx_labels(const std::string& path, Index classes) {
  InputFile file(path, "IDX file");
  const auto extents = detail::read_idx_header<1>(file, "labels: count");
  Tensor<std::uint8_t> bytes({extents[0]});
  file.read_exactly(bytes.data(), static_cast<std::uint64_t>(bytes.size()));
  Tensor<std::int32_t> labels({extents[0]});
  for (Index i = 0; i < labels.size(); ++i) {
    if (bytes[i] >= classes)
      fail(file.describe(), ": expected labels in [0, ", classes, "), got ", int{bytes[i]},
           " at index ", i);
    labels[i] = bytes[i];
  }
  return labels;
}

// An images file and its labels file as a Dataset; the two must hold as many samples.
inline Dataset read_idx(const std::string& images_path, const std::string& labels_path,
                        Index classes) {
  Dataset data;
  data.images = read_idx_images(images_path);
  data.labels = read_idx_labels(labels_path, classes);
  data.classes = classes;
  if (data.labels.size() != data.images.dim(0))
    fail("IDX files '", images_path, "' and '", labels_path,
         "': expected as many labels as images (", data.images.dim(0), "), got ",
         data.labels.size());
  return data;
}

}  // namespace minicnn
