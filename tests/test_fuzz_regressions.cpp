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
