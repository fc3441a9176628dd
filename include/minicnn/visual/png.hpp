// PNG encoding of an Image through stb_image_write (Debian's libstb-dev, public domain).
//
//   std::vector<std::uint8_t> bytes = encode_png(image);   // the file's bytes
//   write_png("filters.png", image);                       // written atomically
//
// minicnn is header-only, so stb's implementation is compiled here, in every translation unit
// that includes this header, as static functions (STB_IMAGE_WRITE_STATIC): no symbol is
// exported and several translation units never clash. Its warnings are silenced locally. A
// program that also compiles stb_image_write itself keeps its own copy: this one is private.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "minicnn/atomic_file.hpp"
#include "minicnn/error.hpp"
#include "minicnn/visual/image.hpp"

#if !defined(MINICNN_STB_IMAGE_WRITE_INCLUDED)
#define MINICNN_STB_IMAGE_WRITE_INCLUDED
#if defined(STB_IMAGE_WRITE_IMPLEMENTATION) || defined(INCLUDE_STB_IMAGE_WRITE_H)
#error "minicnn/visual/png.hpp compiles its own static stb_image_write; include it before stb's"
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
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO  // minicnn writes the bytes itself (atomically)
#include <stb/stb_image_write.h>
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#endif

namespace minicnn {

// The PNG file of `image` (8-bit grey or RGB, zlib-compressed by stb).
inline std::vector<std::uint8_t> encode_png(const Image& image) {
  if (image.empty())
    fail("encode_png: expected an image of at least 1x1 pixels, got ", image.width(), "x",
         image.height());
  std::vector<std::uint8_t> bytes;
  const auto append = [](void* context, void* data, int size) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(context);
    const auto* first = static_cast<const std::uint8_t*>(data);
    out->insert(out->end(), first, first + size);
  };
  const int stride = static_cast<int>(image.width()) * image.channels();
  if (stbi_write_png_to_func(append, &bytes, static_cast<int>(image.width()),
                             static_cast<int>(image.height()), image.channels(), image.data(),
                             stride) == 0)
    fail("encode_png: stb_image_write failed on a ", image.width(), "x", image.height(),
         " image of ", image.channels(), " channels");
  return bytes;
}

// Writes the PNG file atomically: a crash leaves the previous file or none, never half of one.
inline void write_png(const std::string& path, const Image& image) {
  const std::vector<std::uint8_t> bytes = encode_png(image);
  write_file_atomically(path, std::string(bytes.begin(), bytes.end()), "write_png");
}

}  // namespace minicnn
