// Specification of image files: JPEG and PNG decoding in every colour mode and the errors of bad
// files (data/image_file.hpp), and resizing against a reference written independently from the
// definitions (data/image_resize.hpp). Every file is written by the test (stb_image_write).
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "minicnn/data/image_file.hpp"
#include "minicnn/data/image_resize.hpp"
#include "support/image_files.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;
using namespace minicnn::testing;

namespace {

// The reference of the resizing tests, written from the definitions rather than from
// image_resize.hpp: the weight of input pixel j in output pixel i along an axis of n -> m pixels.
// Area: the length of [j, j+1) inside the real interval [i n/m, (i+1) n/m), over its length.
double area_weight(Index n, Index m, Index i, Index j) {
  const double scale = static_cast<double>(n) / static_cast<double>(m);
  const double low = static_cast<double>(i) * scale, high = static_cast<double>(i + 1) * scale;
  const double overlap =
      std::min(high, static_cast<double>(j + 1)) - std::max(low, static_cast<double>(j));
  return std::max(overlap, 0.0) / scale;
}
// Bilinear: the tent max(0, 1 - |x - j|) around the sample point x, clamped into the image.
double tent_weight(Index n, Index m, Index i, Index j) {
  const double x = std::clamp(
      (static_cast<double>(i) + 0.5) * static_cast<double>(n) / static_cast<double>(m) - 0.5, 0.0,
      static_cast<double>(n - 1));
  return std::max(0.0, 1.0 - std::abs(x - static_cast<double>(j)));
}
double reference_weight(Index n, Index m, Index i, Index j) {
  return m <= n ? area_weight(n, m, i, j) : tent_weight(n, m, i, j);
}

// out (C, h, w) by the double sum over every input pixel of weight_y * weight_x * pixel.
std::vector<double> reference_resize(const Image& image, Index h, Index w) {
  const Index H = image.height(), W = image.width(), C = image.channels();
  std::vector<double> out(static_cast<std::size_t>(C * h * w), 0.0);
  for (Index c = 0; c < C; ++c)
    for (Index r = 0; r < h; ++r)
      for (Index i = 0; i < w; ++i) {
        double sum = 0;
        for (Index y = 0; y < H; ++y)
          for (Index x = 0; x < W; ++x)
            sum += reference_weight(H, h, r, y) * reference_weight(W, w, i, x) *
                   image.at(x, y, static_cast<int>(c));
        out[static_cast<std::size_t>((c * h + r) * w + i)] = sum;
      }
  return out;
}

Image random_image(Index width, Index height, int channels, std::uint64_t seed) {
  Image image(width, height, channels);
  const auto bytes = noise(width * height * channels, seed);
  std::copy(bytes.begin(), bytes.end(), image.data());
  return image;
}

std::vector<std::uint8_t> resized(const Image& image, Index h, Index w) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(image.channels() * h * w));
  resize_image(image, h, w, out.data());
  return out;
}

// Every byte is the rounding of the reference's exact value: within 1/2 of it.
void check_against_reference(const Image& image, Index h, Index w) {
  CAPTURE(image.width());
  CAPTURE(image.height());
  CAPTURE(w);
  CAPTURE(h);
  const auto out = resized(image, h, w);
  const auto expected = reference_resize(image, h, w);
  double worst = 0;
  for (std::size_t k = 0; k < out.size(); ++k)
    worst = std::max(worst, std::abs(out[k] - expected[k]));
  CHECK(worst <= 0.5 + 1e-9);
}

}  // namespace

TEST_CASE("PNG files of every colour mode decode to RGB exactly") {
  TempDir temp;
  const std::vector<std::uint8_t> grey = {0, 90, 255, 7, 128, 33};  // 3 x 2 pixels
  std::vector<std::uint8_t> grey_alpha, rgb, rgba;
  for (std::size_t p = 0; p < grey.size(); ++p) {
    const auto v = grey[p];
    grey_alpha.insert(grey_alpha.end(), {v, static_cast<std::uint8_t>(p * 40)});
    rgb.insert(rgb.end(), {v, static_cast<std::uint8_t>(255 - v), static_cast<std::uint8_t>(p)});
    rgba.insert(rgba.end(),
                {v, static_cast<std::uint8_t>(255 - v), static_cast<std::uint8_t>(p), 17});
  }
  const auto read = [&](const char* name, int stored, const std::vector<std::uint8_t>& pixels) {
    return read_image(write_raw(temp / name, encode("png", 3, 2, stored, pixels)), 3);
  };
  for (const auto& [name, stored, pixels] :
       {std::tuple{"grey.png", 1, grey}, std::tuple{"grey-alpha.png", 2, grey_alpha},
        std::tuple{"rgb.png", 3, rgb}, std::tuple{"rgba.png", 4, rgba}}) {
    CAPTURE(name);
    const Image image = read(name, stored, pixels);
    REQUIRE(image.width() == 3);
    REQUIRE(image.height() == 2);
    REQUIRE(image.channels() == 3);
    for (Index p = 0; p < 6; ++p) {
      const Index x = p % 3, y = p / 3;
      const auto v = grey[static_cast<std::size_t>(p)];
      const bool colour = stored >= 3;
      CHECK(image.at(x, y, 0) == v);  // alpha is dropped, not composited
      CHECK(image.at(x, y, 1) == (colour ? 255 - v : v));
      CHECK(image.at(x, y, 2) == (colour ? p : v));
    }
  }
  // Asked for 1 channel, RGB becomes stb_image's luma (77 R + 150 G + 29 B) / 256.
  const Image luma = read_image(temp / "rgb.png", 1);
  REQUIRE(luma.channels() == 1);
  CHECK(luma.at(1, 0) == (77 * 90 + 150 * 165 + 29 * 1) / 256);
}

TEST_CASE("JPEG files decode to RGB within the loss of the compression") {
  TempDir temp;
  const Image colour = read_image(
      write_raw(temp / "c.jpg", encode("jpg", 24, 16, 3, plain(24, 16, {200, 100, 50}))), 3);
  REQUIRE(colour.width() == 24);
  REQUIRE(colour.height() == 16);
  const Image grey =
      read_image(write_raw(temp / "g.jpg", encode("jpg", 8, 8, 1, plain(8, 8, {77}))), 3);
  for (Index y = 0; y < 16; ++y)
    for (Index x = 0; x < 24; ++x) {
      CHECK(std::abs(colour.at(x, y, 0) - 200) <= 3);
      CHECK(std::abs(colour.at(x, y, 1) - 100) <= 3);
      CHECK(std::abs(colour.at(x, y, 2) - 50) <= 3);
    }
  for (Index y = 0; y < 8; ++y)
    for (Index x = 0; x < 8; ++x) {
      CHECK(std::abs(grey.at(x, y, 0) - 77) <= 1);
      CHECK(grey.at(x, y, 1) == grey.at(x, y, 0));
      CHECK(grey.at(x, y, 2) == grey.at(x, y, 0));
    }
}

TEST_CASE("Bad image files give an Error naming the file and what failed") {
  TempDir temp;
  const Bytes png = encode("png", 16, 16, 3, noise(16 * 16 * 3, 1));
  const Bytes jpeg = encode("jpg", 16, 16, 3, noise(16 * 16 * 3, 2));
  const auto error = [&](const std::string& name, const Bytes& bytes) {
    const std::string path = write_raw(temp / name, bytes);
    const std::string message = message_of([&] { read_image(path, 3); });
    CHECK(contains(message, "image file '" + path + "'"));
    return message;
  };
  CHECK(contains(error("empty.png", {}), "got an empty file (0 bytes)"));
  CHECK(contains(error("text.jpg", {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'}),
                 "expected a JPEG or PNG image, got 12 bytes that are neither"));
  CHECK(contains(error("half.png", Bytes(png.begin(), png.begin() + png.size() / 2)),
                 "cannot decode its 16x16 image"));
  // A JPEG cut inside its entropy-coded data, and one cut before its scan header (FF DA).
  const unsigned char scan[] = {0xFF, 0xDA};
  const auto data = std::search(jpeg.begin(), jpeg.end(), std::begin(scan), std::end(scan));
  REQUIRE(data != jpeg.end());
  CHECK(contains(error("half.jpg", Bytes(jpeg.begin(), data + (jpeg.end() - data) / 2)),
                 "cannot decode its 16x16 image"));
  CHECK(contains(error("header-only.jpg", Bytes(jpeg.begin(), data)),
                 "cannot decode it, a corrupt JPEG with no image data (no scan)"));
  // A PNG whose header claims 10000 x 10000 pixels (bytes 16-23 of the file; stb_image does not
  // check the chunk's CRC) is refused before anything that size is allocated.
  Bytes bomb = png;
  for (const std::size_t at : {16, 20}) {
    bomb[at] = 0;
    bomb[at + 1] = 0;
    bomb[at + 2] = 0x27;
    bomb[at + 3] = 0x10;
  }
  CHECK(contains(error("bomb.png", bomb),
                 "expected at most 89478485 pixels, the header claims 10000x10000 = 100000000"));
  CHECK(contains(message_of([&] { read_image(temp / "missing.png", 3); }),
                 "image file '" + temp / "missing.png" + "': expected an existing regular file"));
  const std::string small = write_raw(temp / "small.png", png);
  CHECK(contains(message_of([&] { read_image(small, 3, 255); }),
                 "expected at most 255 pixels, the header claims 16x16 = 256"));
  CHECK(contains(message_of([&] { decode_image(png.data(), png.size(), 4, "x.png"); }),
                 "image file 'x.png': expected 1 (grey) or 3 (RGB) channels"));
}

TEST_CASE("Corrupt files that would make stb_image overrun or over-allocate are refused") {
  TempDir temp;
  // A Huffman table of more than 256 codes: stb_image 2.27 writes past its tables on it.
  Bytes jpeg = encode("jpg", 16, 16, 3, noise(16 * 16 * 3, 3));
  const unsigned char marker[] = {0xFF, 0xC4};
  const auto dht = std::search(jpeg.begin(), jpeg.end(), std::begin(marker), std::end(marker));
  REQUIRE(dht != jpeg.end());
  std::fill(dht + 5, dht + 21, 0x20);  // after FF C4, the length and the class: 16 counts of 32
  const std::string corrupt = write_raw(temp / "dht.jpg", jpeg);
  CHECK(message_of([&] { read_image(corrupt, 3); }) ==
        "image file '" + corrupt +
            "': cannot decode it, a corrupt JPEG with a Huffman table of more than 256 codes");

  // A 1x1 PNG whose zlib stream inflates to 4 MB: stb_image would grow its buffer to hold it all.
  const auto chunk = [](const char* type, const Bytes& data) {
    Bytes out = {static_cast<unsigned char>(data.size() >> 24),
                 static_cast<unsigned char>(data.size() >> 16),
                 static_cast<unsigned char>(data.size() >> 8),
                 static_cast<unsigned char>(data.size())};
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    const auto crc = crc32(crc32(0, reinterpret_cast<const Bytef*>(type), 4), data.data(),
                           static_cast<uInt>(data.size()));
    for (const int shift : {24, 16, 8, 0})
      out.push_back(static_cast<unsigned char>(crc >> shift));
    return out;
  };
  const Bytes zeros(4 << 20, 0);
  Bytes deflated(compressBound(static_cast<uLong>(zeros.size())));
  uLongf deflated_size = static_cast<uLongf>(deflated.size());
  REQUIRE(compress2(deflated.data(), &deflated_size, zeros.data(), static_cast<uLong>(zeros.size()),
                    9) == Z_OK);
  deflated.resize(deflated_size);
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  for (const Bytes& part : {chunk("IHDR", {0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0}),
                            chunk("IDAT", deflated), chunk("IEND", {})})
    png.insert(png.end(), part.begin(), part.end());
  const std::string bomb = write_raw(temp / "zlib-bomb.png", png);
  const std::string message = message_of([&] { read_image(bomb, 3); });
  CHECK(contains(message, "image file '" + bomb +
                              "': cannot decode its 1x1 image: stb_image "
                              "asked for "));
  CHECK(contains(message, "bytes at once, more than such an image needs"));
}

TEST_CASE("Resampling weights: exact box averages when shrinking, bilinear when enlarging") {
  const auto half = resampling_weights(4, 2);
  CHECK(half[1].first == 2);
  CHECK(half[1].weights == std::vector<double>{0.5, 0.5});
  const auto thirds = resampling_weights(5, 3);  // each output covers 5/3 input pixels
  CHECK(thirds[1].first == 1);
  CHECK(thirds[1].weights == std::vector<double>{1.0 / 5, 3.0 / 5, 1.0 / 5});
  const auto double_size = resampling_weights(2, 4);  // samples at -0.25, 0.25, 0.75, 1.25
  CHECK(double_size[0].weights == std::vector<double>{1.0, 0.0});
  CHECK(double_size[1].weights == std::vector<double>{0.75, 0.25});
  CHECK(double_size[3].first == 1);
  CHECK(double_size[3].weights == std::vector<double>{1.0});  // clamped to the last pixel
  for (const auto& [in, out] : {std::pair<Index, Index>{7, 3}, {3, 7}, {5, 5}, {1, 4}, {9, 1}})
    for (const auto& taps : resampling_weights(in, out)) {
      double sum = 0;
      for (const double w : taps.weights)
        sum += w;
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
    }
  CHECK(contains(message_of([] { resampling_weights(0, 3); }), "expected sizes of at least 1"));
}

TEST_CASE("Resizing by integer factors gives the plain mean of each block") {
  const Image image = random_image(12, 9, 3, 5);
  const auto out = resized(image, 3, 4);  // blocks of 3 x 3
  for (Index c = 0; c < 3; ++c)
    for (Index r = 0; r < 3; ++r)
      for (Index i = 0; i < 4; ++i) {
        int sum = 0;
        for (Index y = 3 * r; y < 3 * r + 3; ++y)
          for (Index x = 3 * i; x < 3 * i + 3; ++x)
            sum += image.at(x, y, static_cast<int>(c));
        CHECK(out[static_cast<std::size_t>((c * 3 + r) * 4 + i)] ==
              static_cast<int>(std::lround(sum / 9.0)));
      }
}

TEST_CASE("Resizing matches the reference for any factors, shrinking or enlarging") {
  check_against_reference(random_image(12, 9, 3, 6), 3, 4);     // integer factors
  check_against_reference(random_image(13, 11, 3, 7), 4, 5);    // non-integer factors
  check_against_reference(random_image(50, 37, 1, 8), 16, 16);  // a photo to a thumbnail
  check_against_reference(random_image(3, 2, 3, 9), 5, 7);      // enlarging: bilinear
  check_against_reference(random_image(12, 3, 3, 10), 8, 5);    // width shrinks, height grows
  check_against_reference(random_image(1, 1, 3, 11), 4, 4);     // one pixel fills the image
  const Image same = random_image(6, 5, 3, 12);
  const auto copy = resized(same, 5, 6);  // the identity, as planes
  for (Index c = 0; c < 3; ++c)
    for (Index y = 0; y < 5; ++y)
      for (Index x = 0; x < 6; ++x)
        CHECK(copy[static_cast<std::size_t>((c * 5 + y) * 6 + x)] ==
              same.at(x, y, static_cast<int>(c)));
}
