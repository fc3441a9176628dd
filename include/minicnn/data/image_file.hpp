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
// image decoded. Any failure, including an empty, truncated or non-image file, is a
// minicnn::Error that begins with "image file 'PATH'" and says what failed.
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

#include <atomic>
#include <climits>
#include <cstdint>
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
#pragma GCC diagnostic ignored "-Wduplicated-branches"
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
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

}  // namespace detail

// How many images decode_image() has started decoding in this process (those whose header passed
// the checks), successfully or not: how a test checks that training from an image folder decodes
// nothing after loading (tests/test_image_folder.cpp).
// How many images decode_image() has started decoding in this process (those whose header passed
// the checks), successfully or not: how a test checks that training from an image folder decodes
// nothing after loading (tests/test_image_folder.cpp).
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
  if (stbi_info_from_memory(bytes, length, &width, &height, &stored) == 0)
    fail(file, ": expected a JPEG or PNG image, got ", size,
         " bytes that are neither (stb_image: ", stbi_failure_reason(), ")");
  // Both are positive ints (stb checks), so the product cannot overflow 64 bits.
  const auto pixels = static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height);
  if (width < 1 || height < 1 || pixels > max_pixels)
    fail(file, ": expected at most ", max_pixels, " pixels, the header claims ", width, "x", height,
         " = ", pixels, " (a corrupt file or a decompression bomb)");

  ++detail::image_decode_counter();
  int got_width = 0, got_height = 0;
  const std::unique_ptr<stbi_uc, detail::StbFree> decoded(
      stbi_load_from_memory(bytes, length, &got_width, &got_height, &stored, channels));
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
