// Decoding JPEG and PNG files into 8-bit grey or RGB rasters (visual/image.hpp's Image: row-major,
// channels interleaved), with stb_image from Debian's libstb-dev (public domain).
//
//   Image photo = read_image("cats/001.jpg", 3);        // RGB, whatever the file stores
//   Image same = decode_image(bytes, size, 3, "name");   // the same from memory
//
// Colour conversion is stb_image's: grey is copied into R, G and B; grey+alpha and RGBA lose
// their alpha channel (no compositing: TensorFlow's decode_image(channels=3) does the same); 16-bit
// PNGs are reduced to 8 bits; 1 channel asks for grey, (77 R + 150 G + 29 B) / 256. The EXIF
// orientation of a JPEG is ignored, as TensorFlow and Keras ignore it.
//
// Every size a file claims is checked before anything is allocated for it: the file size first
// (stb_image takes an int length, so at most 2^31 - 1 bytes), then the width and height from the
// header alone (stbi_info_from_memory), whose product must not exceed `max_pixels` (default
// PIL's decompression-bomb limit, 89,478,485 pixels: a 2^30-byte RGBA image). Only then is the
// image decoded, with every allocation of stb_image capped by that size (stb_allocation_limit
// below), after the two faults of stb_image 2.27 that fuzzing found are ruled out (jpeg_problem
// below). Any failure, including an empty, truncated or non-image file, is a minicnn::Error that
// begins with "image file 'PATH'" and says what failed.
//
// Why stb_image is compiled into this header: minicnn is header-only with no link dependency, so
// the implementation is compiled in every translation unit that includes this header, as static
// functions (STB_IMAGE_STATIC): no symbol is exported, several translation units never clash,
// and a program that compiles stb_image itself keeps its own copy. Only the JPEG and PNG decoders
// are compiled (STBI_ONLY_JPEG, STBI_ONLY_PNG): the formats this library promises, and the
// smallest amount of parsing code exposed to outside files (fuzz/fuzz_image.cpp fuzzes it).
// stb_image keeps its failure reason in a thread-local variable, so files may be decoded in
// parallel.
#pragma once

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/shape.hpp"
#include "minicnn/visual/image.hpp"

#include <zlib.h>

namespace minicnn::detail {

// stb_image's allocator. It bounds every allocation, so that a corrupt file cannot make stb_image
// allocate more than its image needs: a PNG chunk may claim 2 GB, and a PNG's zlib stream may
// inflate to 4 GB before stb_image compares the result with the image size. decode_image() sets
// the limit of one allocation from the size the header claims (see there); a request above it
// fails, as if memory had run out, and is remembered for the error message. And it zeroes every
// new block: stb_image 2.27 returns pixels it never wrote for a JPEG without scan data (found by
// fuzz/fuzz_image.cpp: two decodes of one file differed), which would otherwise be whatever the
// heap held.
inline thread_local std::size_t stb_allocation_limit = 0;
inline thread_local std::size_t stb_refused_allocation = 0;

inline void* stb_reallocate(void* block, std::size_t size) {
  if (size > stb_allocation_limit) {
    stb_refused_allocation = size;
    return nullptr;
  }
  return block == nullptr ? std::calloc(1, size) : std::realloc(block, size);
}

}  // namespace minicnn::detail

#if !defined(MINICNN_STB_IMAGE_INCLUDED)
#define MINICNN_STB_IMAGE_INCLUDED
#if defined(STB_IMAGE_IMPLEMENTATION) || defined(STBI_INCLUDE_STB_IMAGE_H)
#error "minicnn/data/image_file.hpp compiles its own static stb_image; include it before stb's"
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_MALLOC(size) minicnn::detail::stb_reallocate(nullptr, size)
#define STBI_REALLOC(block, size) minicnn::detail::stb_reallocate(block, size)
#define STBI_FREE(block) std::free(block)
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO  // minicnn reads the bytes itself, after checking the file's size
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#include <stb/stb_image.h>
#undef STB_IMAGE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#endif

namespace minicnn {

// PIL's Image.MAX_IMAGE_PIXELS: 2^30 bytes / 4 bytes per pixel / 3.
constexpr std::uint64_t kDefaultMaxImagePixels = 89478485;

namespace detail {

inline std::atomic<std::uint64_t>& image_decode_counter() {
  static std::atomic<std::uint64_t> count{0};
  return count;
}

// Frees what stb_image allocated.
struct StbFree {
  void operator()(stbi_uc* pixels) const { stbi_image_free(pixels); }
};

// A third fault of stb_image 2.27, found by fuzzing: a palette PNG whose PLTE chunk has fewer
// than 256 entries leaves the rest of stb's palette (a stack array) uninitialised, and a pixel
// whose index points past the entries reads it, so the same file decodes to different pixels from
// one call to the next. The bytes are then copied with the PLTE chunk padded to 256 entries of
// black (its CRC recomputed), so such a pixel is black, every time. Returns the copy, or an empty
// vector when the bytes need none (not a PNG, no short palette, or chunks stb itself refuses).
inline std::vector<std::uint8_t> png_with_full_palette(const std::uint8_t* bytes,
                                                       std::size_t size) {
  static const std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size < 8 || std::memcmp(bytes, signature, 8) != 0) return {};
  const auto be32 = [&](std::size_t at) {
    return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
           (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
  };
  for (std::size_t at = 8; at + 12 <= size;) {
    const std::uint32_t length = be32(at);
    if (length > size - at - 12) return {};  // a truncated chunk: stb refuses the file
    if (std::memcmp(bytes + at + 4, "IDAT", 4) == 0 || std::memcmp(bytes + at + 4, "IEND", 4) == 0)
      return {};  // no PLTE before the image data: nothing to pad
    if (std::memcmp(bytes + at + 4, "PLTE", 4) == 0) {
      if (length >= 768 || length % 3 != 0) return {};  // full, or refused by stb
      std::vector<std::uint8_t> padded(bytes, bytes + at);
      const std::uint8_t full[4] = {0, 0, 3, 0};  // 768 = 0x300, big-endian
      padded.insert(padded.end(), full, full + 4);
      const std::size_t type = padded.size();
      padded.insert(padded.end(), bytes + at + 4, bytes + at + 8 + length);
      padded.resize(padded.size() + (768 - length), 0);
      const uLong crc = crc32(crc32(0L, Z_NULL, 0), padded.data() + type, 4 + 768);
      for (int shift = 24; shift >= 0; shift -= 8)
        padded.push_back(static_cast<std::uint8_t>((crc >> shift) & 0xff));
      padded.insert(padded.end(), bytes + at + 12 + length, bytes + size);
      return padded;
    }
    at += 12 + length;
  }
  return {};
}

// What is wrong with a JPEG that stb_image 2.27, the version of Debian 12's libstb-dev
// (0.0~git20220908), would mishandle rather than refuse; nullptr when nothing is (or when the
// file is no JPEG: stb_image judges those). Both were found by fuzz/fuzz_image.cpp:
//   - a Huffman table (DHT segment) of more than 256 codes: stb_image does not check that the 16
//     code counts sum to at most 256 and writes past its 257-entry size table (2.28 refuses such
//     a table with "bad DHT header");
//   - no scan (SOS segment) before the end: stb_image returns an image of pixels it never wrote.
// The file is walked the way stb_image parses it: from marker to marker (FF, any fill FFs, the
// marker byte), skipping bytes where no marker is (stb_image scans padding the same way), each
// segment by its length field (stb_image consumes exactly that or refuses the file), and after a
// scan header the entropy-coded bytes up to the next marker (stuffed FF 00 and restart markers
// FF D0-D7 belong to the data). Bytes past the end read as 0, as in stb_image. So every table
// stb_image can build is checked before it does.
inline const char* jpeg_problem(const std::uint8_t* bytes, std::size_t size) {
  const auto at = [&](std::size_t i) -> unsigned { return i < size ? bytes[i] : 0u; };
  // A JPEG to stb_image: FF, any fill FFs, then the start-of-image marker D8.
  std::size_t pos = 0;
  if (at(0) != 0xFF) return nullptr;
  while (pos < size && bytes[pos] == 0xFF)
    ++pos;
  if (at(pos++) != 0xD8) return nullptr;
  bool scanned = false;
  while (pos < size) {
    if (bytes[pos] != 0xFF) {
      ++pos;
      continue;
    }
    while (pos < size && bytes[pos] == 0xFF)
      ++pos;
    const unsigned marker = at(pos++);
    if (marker == 0xD9) break;                                                  // the end
    if (marker == 0x00 || marker == 0x01 || (marker & 0xF8) == 0xD0) continue;  // no length
    const std::size_t length = at(pos) << 8 | at(pos + 1);
    if (marker == 0xC4) {
      // As stb_image reads it: L = length - 2; per table a class byte, 16 counts, the values.
      std::size_t table = pos + 2;
      long left = static_cast<long>(length) - 2;
      while (left > 0) {
        if ((at(table) >> 4) > 1 || (at(table) & 15) > 3) break;  // stb_image refuses it
        unsigned codes = 0;
        for (std::size_t i = 1; i <= 16; ++i)
          codes += at(table + i);
        if (codes > 256) return "a Huffman table of more than 256 codes";
        table += 17 + codes;
        left -= 17 + static_cast<long>(codes);
      }
    }
    pos += std::max<std::size_t>(length, 2);
    scanned = scanned || marker == 0xDA;
    if (marker == 0xDA)
      while (pos + 1 < size &&
             (bytes[pos] != 0xFF || bytes[pos + 1] == 0x00 || (bytes[pos + 1] & 0xF8) == 0xD0))
        pos += bytes[pos] == 0xFF ? 2 : 1;
  }
  return scanned ? nullptr : "no image data (no scan)";
}

}  // namespace detail

// How many images decode_image() has started decoding in this process (those whose header passed
// the checks), successfully or not: how a test checks that training from an image folder decodes
// nothing after loading (tests/data/test_image_folder.cpp).
inline std::uint64_t image_decodes() {
  return detail::image_decode_counter().load();
}

// The JPEG or PNG image in bytes [0, size) with `channels` (1 grey, 3 RGB) per pixel. `path`
// names the image in error messages. At most `max_pixels` width x height.
inline Image decode_image(const std::uint8_t* bytes, std::size_t size, int channels,
                          const std::string& path,
                          std::uint64_t max_pixels = kDefaultMaxImagePixels) {
  const std::string file = "image file '" + path + "'";
  if (channels != 1 && channels != 3)
    fail(file, ": expected 1 (grey) or 3 (RGB) channels to decode into, got ", channels);
  if (size == 0) fail(file, ": expected a JPEG or PNG image, got an empty file (0 bytes)");
  if (size > static_cast<std::size_t>(INT_MAX))
    fail(file, ": expected at most ", INT_MAX, " bytes (stb_image's limit), got ", size);
  const int length = static_cast<int>(size);
  int width = 0, height = 0, stored = 0;
  // Reading the header allocates stb_image's decoder state (about 20 KB for a JPEG).
  detail::stb_allocation_limit = std::size_t{1} << 20;
  detail::stb_refused_allocation = 0;
  if (const char* problem = detail::jpeg_problem(bytes, size))
    fail(file, ": cannot decode it, a corrupt JPEG with ", problem);
  if (stbi_info_from_memory(bytes, length, &width, &height, &stored) == 0)
    fail(file, ": expected a JPEG or PNG image, got ", size,
         " bytes that are neither (stb_image: ", stbi_failure_reason(), ")");
  // Both are positive ints (stb checks), so the product cannot overflow 64 bits.
  const auto pixels = static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height);
  if (width < 1 || height < 1 || pixels > max_pixels)
    fail(file, ": expected at most ", max_pixels, " pixels, the header claims ", width, "x", height,
         " = ", pixels, " (a corrupt file or a decompression bomb)");

  // One allocation of stb_image holds at most: the compressed data (PNG, grown by doubling: twice
  // the file), the inflated scanlines (PNG: up to 8 bytes per pixel, 16-bit RGBA, plus a filter
  // byte per row, grown by doubling), a component or its coefficients padded to whole 8x8 blocks
  // of the largest sampling (JPEG: 2 bytes per coefficient), or the image itself: 16 bytes per
  // pixel of the image padded by 32 on each side, plus twice the file, plus 1 MiB, is above all.
  detail::stb_allocation_limit =
      static_cast<std::size_t>(16 * (static_cast<std::uint64_t>(width) + 32) *
                               (static_cast<std::uint64_t>(height) + 32)) +
      2 * size + (std::size_t{1} << 20);
  ++detail::image_decode_counter();
  int got_width = 0, got_height = 0;
  const std::vector<std::uint8_t> padded = detail::png_with_full_palette(bytes, size);
  const std::unique_ptr<stbi_uc, detail::StbFree> decoded(
      padded.empty()
          ? stbi_load_from_memory(bytes, length, &got_width, &got_height, &stored, channels)
          : stbi_load_from_memory(padded.data(), static_cast<int>(padded.size()), &got_width,
                                  &got_height, &stored, channels));
  if (decoded == nullptr && detail::stb_refused_allocation > 0)
    fail(file, ": cannot decode its ", width, "x", height, " image: stb_image asked for ",
         detail::stb_refused_allocation, " bytes at once, more than such an image needs (at most ",
         detail::stb_allocation_limit, "; a corrupt file)");
  if (decoded == nullptr)
    fail(file, ": cannot decode its ", width, "x", height,
         " image (stb_image: ", stbi_failure_reason(), "; a truncated or corrupt file)");
  if (got_width != width || got_height != height)
    fail(file, ": the header claims ", width, "x", height, " but the image decodes to ", got_width,
         "x", got_height);
  Image image(width, height, channels, 0);
  std::memcpy(image.data(), decoded.get(), static_cast<std::size_t>(pixels) * channels);
  return image;
}

// The same from a file, read whole into memory once its size has been checked.
inline Image read_image(const std::string& path, int channels,
                        std::uint64_t max_pixels = kDefaultMaxImagePixels) {
  const std::string file = "image file '" + path + "'";
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    fail(file, ": expected an existing regular file, found none");
  const auto size = std::filesystem::file_size(path, error);
  if (error) fail(file, ": cannot read its size (", error.message(), ")");
  if (size > static_cast<std::uintmax_t>(INT_MAX))
    fail(file, ": expected at most ", INT_MAX, " bytes (stb_image's limit), got ", size);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(file, ": cannot open it for reading");
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size)
    fail(file, ": expected ", size, " bytes, read ", in.gcount(),
         " (the file changed while it was read)");
  return decode_image(bytes.data(), bytes.size(), channels, path, max_pixels);
}

}  // namespace minicnn
