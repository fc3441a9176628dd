// The inputs the fuzz targets (fuzz/, scripts/fuzz.sh) found, each with the exact outcome of the
// fixed reader: a regression brings the crash, the sanitizer report or the wrong answer back here,
// where every test run sees it.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "minicnn/data/image_file.hpp"

using namespace minicnn;

namespace {

std::string decode_error(const std::vector<std::uint8_t>& bytes) {
  try {
    decode_image(bytes.data(), bytes.size(), 3, "finding.jpg");
  } catch (const Error& error) {
    return error.what();
  }
  return "(decoded)";
}

}  // namespace

TEST_CASE("fuzz_image: JPEG Huffman tables of more than 256 codes are refused") {
  // stb_image 2.27 wrote past its Huffman size table on these (UBSan: index 257 out of bounds
  // for type 'stbi_uc[257]'): a Huffman table whose 16 counts, which run over what would be the
  // scan header and past the end of the file (read as zeros), sum above 256; and one after a fill
  // byte before the start-of-image marker (FF FF D8), which stb_image accepts.
  std::vector<std::uint8_t> after_quantisation = {0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00};
  after_quantisation.insert(after_quantisation.end(), 77, 0x01);  // a table and 13 bytes more
  for (const std::uint8_t b :
       {0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00, 0xff,
        0xc4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00,
        0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x3f, 0xff, 0xd9})
    after_quantisation.push_back(b);
  REQUIRE(after_quantisation.size() == 138);
  CHECK(decode_error(after_quantisation) ==
        "image file 'finding.jpg': cannot decode it, a corrupt JPEG with a Huffman table of more "
        "than 256 codes");

  std::vector<std::uint8_t> after_fill = {0xff, 0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00};
  after_fill.insert(after_fill.end(), 34, 0x01);
  after_fill.push_back(0xff);
  after_fill.insert(after_fill.end(), 14, 0x01);
  for (const std::uint8_t b :
       {0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10, 0x03, 0x01, 0x22, 0x00,
        0x02, 0x11, 0x00, 0x03, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01, 0x43, 0x67, 0x42, 0x49, 0x01,
        0x01, 0x01, 0xc0, 0x00, 0x11, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01})
    after_fill.push_back(b);
  REQUIRE(after_fill.size() == 107);
  CHECK(decode_error(after_fill) ==
        "image file 'finding.jpg': cannot decode it, a corrupt JPEG with a Huffman table of more "
        "than 256 codes");
}

TEST_CASE("fuzz_image: a JPEG without a scan is refused, not decoded to unwritten pixels") {
  // stb_image 2.27 returned a 4621x7 image of bytes it never wrote (two decodes differed): a frame
  // header (SOF0) and no scan before the end-of-image marker.
  std::vector<std::uint8_t> no_scan = {0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x2c};
  no_scan.insert(no_scan.end(), 25, 0x01);
  for (const std::uint8_t b : {0x11, 0x08, 0x00, 0x07, 0x00, 0x0d, 0x03, 0x01, 0x21, 0x00, 0x02,
                               0x11, 0x00, 0x03, 0x11, 0x00, 0xff})
    no_scan.push_back(b);
  no_scan.insert(no_scan.end(), 28, 0x01);
  no_scan.push_back(0xae);
  no_scan.insert(no_scan.end(), 10, 0x01);
  for (const std::uint8_t b : {0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x07, 0x12, 0x0d, 0x03, 0x01,
                               0x21, 0x00, 0x02, 0x11, 0x00, 0x03, 0x11, 0x00, 0xff, 0xd9})
    no_scan.push_back(b);
  REQUIRE(no_scan.size() == 111);
  CHECK(decode_error(no_scan) ==
        "image file 'finding.jpg': cannot decode it, a corrupt JPEG with no image data (no scan)");
}

TEST_CASE("fuzz_image: a palette PNG's pixel past the palette is black, every time") {
  // A 3x2 palette PNG with 3 entries (red, green, blue) whose first row holds the indices 4, 49
  // and 2. stb_image 2.27 left palette entries past the PLTE chunk's uninitialised (a stack
  // array), so indices 4 and 49 read whatever was there: the same bytes decoded to different
  // pixels from one call to the next (fuzz_image: "decoding from the file and from memory
  // differ"). Padded to 256 black entries first, they decode to black.
  const std::vector<std::uint8_t> png = {
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49,
      0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x03,
      0x00, 0x00, 0x00, 0xaa, 0xaa, 0x96, 0x28, 0x00, 0x00, 0x00, 0x09, 0x50, 0x4c,
      0x54, 0x45, 0xff, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0xff, 0x2d, 0x4a,
      0xcd, 0x8a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63,
      0x60, 0x31, 0x64, 0x02, 0x21, 0x00, 0x00, 0x1f, 0x00, 0x07, 0x09, 0xb7, 0x43,
      0x76, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
  REQUIRE(png.size() == 91);
  const Image first = decode_image(png.data(), png.size(), 3, "finding.png");
  REQUIRE(first.width() == 3);
  REQUIRE(first.height() == 2);
  const std::vector<std::uint8_t> pixels(first.data(), first.data() + 18);
  CHECK(pixels[0] == 0);  // index 4: black
  CHECK(pixels[1] == 0);
  CHECK(pixels[2] == 0);
  CHECK(pixels[3] == 0);  // index 49: black
  CHECK(pixels[4] == 0);
  CHECK(pixels[5] == 0);
  CHECK(pixels[6] == 0);  // index 2: blue
  CHECK(pixels[7] == 0);
  CHECK(pixels[8] == 255);
  for (int call = 0; call < 3; ++call) {
    const Image again = decode_image(png.data(), png.size(), 3, "finding.png");
    CHECK(std::vector<std::uint8_t>(again.data(), again.data() + 18) == pixels);
  }
}
