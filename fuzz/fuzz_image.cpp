// libFuzzer target: the image decoder (data/image_file.hpp, stb_image's JPEG and PNG) and the
// resizing that follows it in an image folder (data/image_resize.hpp).
//
// Each input is written as a file and read with read_image() as RGB, then decoded from memory
// with decode_image() as RGB and as grey. The invariants: an Error names the file; the file and
// the memory read agree exactly, down to the error message; a decoded image is at least 1x1
// within the pixel limit, and the grey and RGB decodes of one input have the same size and
// succeed or fail together. Every decoded image is then resized to 5x7 (shrinking or enlarging
// whatever its size). The pixel limit is lowered to 2^20 here so that a header claiming a large
// image is decoded quickly when its data is there, as the real limit would be.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "minicnn/data/image_file.hpp"
#include "minicnn/data/image_resize.hpp"

namespace {

using minicnn::fuzz::require;

constexpr std::uint64_t kMaxPixels = 1 << 20;

// What one decode produced: the image, or the message of the Error that refused it.
struct Outcome {
  minicnn::Image image;
  std::string error;
  bool failed = false;

  friend bool operator==(const Outcome& a, const Outcome& b) {
    if (a.failed || b.failed) return a.failed == b.failed && a.error == b.error;
    const auto bytes =
        static_cast<std::size_t>(a.image.width() * a.image.height() * a.image.channels());
    return a.image.width() == b.image.width() && a.image.height() == b.image.height() &&
           a.image.channels() == b.image.channels() &&
           std::equal(a.image.data(), a.image.data() + bytes, b.image.data());
  }
};

template <typename Decode>
Outcome attempt(const std::string& path, int channels, Decode decode) {
  Outcome outcome;
  try {
    outcome.image = decode();
  } catch (const minicnn::Error& error) {
    outcome.failed = true;
    outcome.error = error.what();
    require(minicnn::fuzz::names(outcome.error, path), "an image error does not name the file");
    return outcome;
  }
  const minicnn::Image& image = outcome.image;
  require(image.width() >= 1 && image.height() >= 1 &&
              static_cast<std::uint64_t>(image.width() * image.height()) <= kMaxPixels,
          "a decoded image is empty or above the pixel limit");
  require(image.channels() == channels, "a decoded image has other channels than asked for");
  std::vector<std::uint8_t> resized(static_cast<std::size_t>(channels * 5 * 7));
  minicnn::resize_image(image, 5, 7, resized.data());
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = minicnn::fuzz::write_raw("input", data, size);
  const Outcome from_file =
      attempt(path, 3, [&] { return minicnn::read_image(path, 3, kMaxPixels); });
  const Outcome rgb =
      attempt(path, 3, [&] { return minicnn::decode_image(data, size, 3, path, kMaxPixels); });
  require(rgb == from_file, "decoding from the file and from memory differ");
  const Outcome grey =
      attempt(path, 1, [&] { return minicnn::decode_image(data, size, 1, path, kMaxPixels); });
  require(grey.failed == rgb.failed, "the grey and the RGB decode of an input disagree");
  if (!grey.failed)
    require(grey.image.width() == rgb.image.width() && grey.image.height() == rgb.image.height(),
            "the grey and the RGB decode of an input differ in size");
  return 0;
}
