// Image files for tests: PNG and JPEG bytes written with stb_image_write (the private copy that
// minicnn/visual/png.hpp compiles), flat and random pixels, and the message of an Error.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/random.hpp"
#include "minicnn/shape.hpp"
#include "minicnn/visual/png.hpp"
#include "support/temp_files.hpp"

namespace minicnn::testing {

// An image file's bytes: `pixels` holds width x height pixels of `channels` (1 grey, 2 grey +
// alpha, 3 RGB, 4 RGBA) interleaved bytes.
inline Bytes encode(const std::string& format, Index width, Index height, int channels,
                    const std::vector<std::uint8_t>& pixels) {
  REQUIRE(pixels.size() == static_cast<std::size_t>(width * height * channels));
  Bytes bytes;
  const auto append = [](void* context, void* data, int size) {
    auto* out = static_cast<Bytes*>(context);
    const auto* first = static_cast<const unsigned char*>(data);
    out->insert(out->end(), first, first + size);
  };
  const int w = static_cast<int>(width), h = static_cast<int>(height);
  const int ok =
      format == "png"
          ? stbi_write_png_to_func(append, &bytes, w, h, channels, pixels.data(), w * channels)
          : stbi_write_jpg_to_func(append, &bytes, w, h, channels, pixels.data(), 95);
  REQUIRE(ok != 0);
  return bytes;
}

// width x height pixels, each the bytes of `pixel` (one per channel).
inline std::vector<std::uint8_t> plain(Index width, Index height, std::vector<std::uint8_t> pixel) {
  std::vector<std::uint8_t> pixels;
  for (Index i = 0; i < width * height; ++i)
    pixels.insert(pixels.end(), pixel.begin(), pixel.end());
  return pixels;
}

// `count` random bytes, the same for the same seed.
inline std::vector<std::uint8_t> noise(Index count, std::uint64_t seed) {
  Random random(seed);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(count));
  for (auto& b : bytes)
    b = static_cast<std::uint8_t>(random.below(256));
  return bytes;
}

// The message of the Error `action` throws, or "(no error)".
inline std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace minicnn::testing
