// Specification of the pictures (include/minicnn/visual/): PNG files that decode to the pixels
// written, grids, charts and heat maps laid out as documented (a chart's legend clear of its
// data), SVG drawings of the same charts, and a report.html that refers to nothing outside
// itself.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "minicnn/analysis/confusion_matrix.hpp"
#include "minicnn/visual/heatmap.hpp"
#include "minicnn/visual/image_grid.hpp"
#include "minicnn/visual/plots.hpp"
#include "minicnn/visual/png.hpp"
#include "minicnn/visual/report_html.hpp"
#include "minicnn/visual/svg.hpp"
#include "support/temp_files.hpp"

// The reference decoder, compiled privately into this test.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

using namespace minicnn;

namespace {

std::uint32_t big_endian(const std::vector<std::uint8_t>& bytes, std::size_t at) {
  return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
         (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
}

// CRC-32 as PNG defines it (ISO 3309, polynomial 0xEDB88320 reflected), bit by bit.
std::uint32_t crc32(const std::uint8_t* data, std::size_t size) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// Checks the PNG signature, that IHDR comes first with the given size, that every chunk's CRC
// holds and that IEND ends the file; returns the number of chunks.
int check_png_structure(const std::vector<std::uint8_t>& png, Index width, Index height) {
  const std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  REQUIRE(png.size() > 8);
  CHECK(std::equal(signature, signature + 8, png.begin()));
  std::size_t at = 8;
  int chunks = 0;
  std::string last;
  while (at + 12 <= png.size()) {
    const std::uint32_t length = big_endian(png, at);
    REQUIRE(at + 12 + length <= png.size());
    last = std::string(png.begin() + static_cast<std::ptrdiff_t>(at + 4),
                       png.begin() + static_cast<std::ptrdiff_t>(at + 8));
    if (chunks == 0) {
      CHECK(last == "IHDR");
      CHECK(big_endian(png, at + 8) == width);
      CHECK(big_endian(png, at + 12) == height);
    }
    CHECK(crc32(png.data() + at + 4, length + 4) == big_endian(png, at + 8 + length));
    at += 12 + length;
    ++chunks;
  }
  CHECK(at == png.size());
  CHECK(last == "IEND");
  return chunks;
}

// The pixels stb_image decodes from a PNG, with the channels it found.
std::vector<std::uint8_t> decode(const std::vector<std::uint8_t>& png, int& width, int& height,
                                 int& channels) {
  unsigned char* pixels = stbi_load_from_memory(png.data(), static_cast<int>(png.size()), &width,
                                                &height, &channels, 0);
  REQUIRE(pixels != nullptr);
  std::vector<std::uint8_t> result(pixels, pixels + width * height * channels);
  stbi_image_free(pixels);
  return result;
}

Image gradient_image(Index width, Index height, int channels) {
  Image image(width, height, channels);
  for (Index y = 0; y < height; ++y)
    for (Index x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c)
        image.at(x, y, c) = static_cast<std::uint8_t>((x * 37 + y * 11 + c * 80) % 256);
  return image;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

// ---- Image, font, PNG
// ----------------------------------------------------------------------------

TEST_CASE("PNG files are well formed and decode to the pixels written") {
  for (int channels : {1, 3}) {
    for (auto [width, height] : {std::pair<Index, Index>{1, 1}, {7, 3}, {64, 33}}) {
      CAPTURE(channels);
      CAPTURE(width);
      const Image image = gradient_image(width, height, channels);
      const std::vector<std::uint8_t> png = encode_png(image);
      CHECK(check_png_structure(png, width, height) >= 3);  // IHDR, IDAT..., IEND
      int w = 0, h = 0, c = 0;
      const std::vector<std::uint8_t> pixels = decode(png, w, h, c);
      CHECK(w == width);
      CHECK(h == height);
      CHECK(c == channels);
      CHECK(std::equal(pixels.begin(), pixels.end(), image.data()));
    }
  }
  // A flipped byte in the image data no longer matches its chunk's CRC: the check can fail.
  std::vector<std::uint8_t> png = encode_png(gradient_image(4, 4, 3));
  const std::size_t idat = 8 + 25;  // after the signature and IHDR (13 bytes + 12)
  REQUIRE(std::string(png.begin() + idat + 4, png.begin() + idat + 8) == "IDAT");
  const std::uint32_t length = big_endian(png, idat);
  png[idat + 8] ^= 0x40;
  CHECK(crc32(png.data() + idat + 4, length + 4) != big_endian(png, idat + 8 + length));
}

TEST_CASE("write_png writes the file atomically and names what failed") {
  testing::TempDir dir;
  const std::string path = dir / "small.png";
  const Image image = gradient_image(5, 4, 3);
  write_png(path, image);
  const std::string text = read_file(path);
  const std::vector<std::uint8_t> bytes(text.begin(), text.end());
  CHECK(bytes == encode_png(image));
  CHECK_THROWS_WITH_AS(encode_png(Image(0, 3)),
                       "encode_png: expected an image of at least 1x1 pixels, got 0x3", Error);
  CHECK_THROWS_AS(write_png(dir / "missing/small.png", image), Error);
}

TEST_CASE("Images clip what is drawn outside them and refuse bad sizes") {
  Image image(4, 3, 3, 0);
  image.fill_rect(-2, -2, 4, 4, {255, 0, 0});
  CHECK(image.pixel(1, 1) == Rgb{255, 0, 0});
  CHECK(image.pixel(2, 2) == Rgb{0, 0, 0});
  image.draw_line(0, 2, 10, 2, {0, 255, 0});
  CHECK(image.pixel(3, 2) == Rgb{0, 255, 0});
  const Image big = image.scaled(2);
  CHECK(big.width() == 8);
  CHECK(big.pixel(3, 3) == Rgb{255, 0, 0});
  Image grey(2, 2, 1, 0);
  grey.set(0, 0, {30, 60, 90});
  CHECK(grey.at(0, 0) == 60);
  CHECK_THROWS_WITH_AS(Image(2, 2, 2), "Image: expected 1 (grey) or 3 (RGB) channels, got 2",
                       Error);
  CHECK_THROWS_WITH_AS(Image(-1, 2), "Image: expected a size of at least 0x0, got -1x2", Error);
  CHECK_THROWS_WITH_AS(image.scaled(0), "Image::scaled: expected a factor >= 1, got 0", Error);
}

TEST_CASE("The built-in font draws inside the box text_width and text_height give") {
  CHECK(text_width("") == 0);
  CHECK(text_width("1") < text_width("11"));
  CHECK(text_width("Epoch", 2) == 2 * text_width("Epoch"));
  Image image(60, 20, 3);
  draw_text(image, 5, 4, "Ag0%", {0, 0, 0});
  Index inked = 0;
  for (Index y = 0; y < image.height(); ++y)
    for (Index x = 0; x < image.width(); ++x)
      if (image.pixel(x, y) != Rgb{255, 255, 255}) {
        ++inked;
        CHECK(x >= 5);
        CHECK(x < 5 + text_width("Ag0%"));
        CHECK(y >= 4);
        CHECK(y < 4 + text_height());
      }
  CHECK(inked > 20);
  // Turned upwards: the level text's pixel (u, v) lands on (v, width - 1 - u).
  Image level(text_width("Ag0%", 2), text_height(2), 3),
      up(text_height(2), text_width("Ag0%", 2), 3);
  draw_text(level, 0, 0, "Ag0%", {0, 0, 0}, 2);
  draw_text_up(up, 0, 0, "Ag0%", {0, 0, 0}, 2);
  for (Index v = 0; v < level.height(); ++v)
    for (Index u = 0; u < level.width(); ++u)
      CHECK(up.pixel(v, level.width() - 1 - u) == level.pixel(u, v));
  // Outside printable ASCII: drawn as '?'.
  Image a(10, 10, 1), b(10, 10, 1);
  draw_text(a, 0, 0, "\x01", {0, 0, 0});
  draw_text(b, 0, 0, "?", {0, 0, 0});
  CHECK(std::equal(a.data(), a.data() + 100, b.data()));
}

// ---- Grids, charts, heat maps
// ---------------------------------------------------------------------

TEST_CASE("An image grid lays images out row by row and scales them as asked") {
  // Three 2x2 grey images: 0..3, 10..13, and a constant one.
  const auto x = Tensor<float>::of({3, 1, 2, 2}, {0, 1, 2, 3, 10, 11, 12, 13, 5, 5, 5, 5});
  GridOptions options;
  options.columns = 2;
  options.padding = 1;
  options.zoom = 2;
  const Image grid = image_grid(x, options);
  CHECK(grid.width() == 2 * (4 + 1) + 1);
  CHECK(grid.height() == 2 * (4 + 1) + 1);
  CHECK(grid.pixel(0, 0) == Rgb{255, 255, 255});  // padding
  CHECK(grid.pixel(1, 1) == Rgb{0, 0, 0});        // image 0's minimum
  CHECK(grid.pixel(4, 4) == Rgb{255, 255, 255});  // image 0's maximum (zoomed)
  CHECK(grid.pixel(6, 1) == Rgb{0, 0, 0});        // image 1's own minimum
  CHECK(grid.pixel(1, 6) == Rgb{128, 128, 128});  // a constant image is mid-grey

  options.scaling = Scaling::shared;  // 0..13 over all images
  const Image shared = image_grid(x, options);
  CHECK(shared.pixel(1, 1) == Rgb{0, 0, 0});
  CHECK(shared.pixel(6, 1).r == std::lround(10 * 255.0 / 13));
  options.scaling = Scaling::range;
  options.low = 0;
  options.high = 10;
  CHECK(image_grid(x, options).pixel(6, 1) == Rgb{255, 255, 255});  // 10 at the top, clamped
  options.scaling = Scaling::as_is;
  CHECK(image_grid(x, options).pixel(6, 1) == Rgb{10, 10, 10});

  const auto rgb = Tensor<double>::of({3, 1, 1}, {1, 0, 0.5});
  CHECK(to_image(rgb, GridOptions{}).pixel(0, 0) == Rgb{255, 0, 128});
  CHECK(to_image(rgb).width() == 1);

  CHECK_THROWS_WITH_AS(image_grid(Tensor<float>({2, 2, 3, 3})),
                       "image_grid: expected images of shape (N, 1 or 3, H, W), got (2, 2, 3, 3)",
                       Error);
  options.columns = 0;
  CHECK_THROWS_WITH_AS(image_grid(x, options),
                       "image_grid: expected columns >= 1, zoom >= 1 and padding >= 0, got 0, 2 "
                       "and 1",
                       Error);
  options.columns = 2;
  options.scaling = Scaling::range;
  options.high = options.low;
  CHECK_THROWS_WITH_AS(image_grid(x, options),
                       "image_grid: expected a range with low < high, got [0, 0]", Error);
  CHECK_THROWS_WITH_AS(
      to_image(x), "to_image: expected an image of shape (1 or 3, H, W), got (3, 1, 2, 2)", Error);
}

TEST_CASE("A line chart draws every series in its colour, with a legend") {
  const std::vector<double> loss{2.0, 1.2, 0.8, std::nan(""), 0.5};
  const std::vector<double> val_loss{1.8, 1.1, 0.9, 0.85, 0.9};
  ChartOptions options;
  options.title = "Loss";
  const Image chart = line_chart({{"loss", loss}, {"val_loss", val_loss}}, options);
  CHECK(chart.width() == 640);
  CHECK(chart.height() == 400);
  Index first = 0, second = 0;
  for (Index y = 0; y < chart.height(); ++y)
    for (Index x = 0; x < chart.width(); ++x) {
      first += chart.pixel(x, y) == series_colour(0);
      second += chart.pixel(x, y) == series_colour(1);
    }
  CHECK(first > 200);  // lines, dots and the legend swatch
  CHECK(second > 200);
  // One point, a constant series, and nothing finite still draw.
  CHECK(line_chart({{"accuracy", {0.9}}}).width() == 640);
  CHECK(line_chart({{"flat", {1.0, 1.0, 1.0}}}).height() == 400);
  CHECK(line_chart({{"empty", {std::nan("")}}}).height() == 400);
  CHECK_THROWS_WITH_AS(line_chart({}), "line_chart: expected at least one series, got none", Error);
  options.width = 200;
  CHECK_THROWS_WITH_AS(line_chart({{"loss", loss}}, options),
                       "line_chart: expected a size of at least 240x180 pixels, got 200x400",
                       Error);
}

TEST_CASE("A line chart's axes carry their titles and ticks, in text of 18-pixel lines") {
  ChartOptions options;
  options.title = "Loss";
  options.y_label = "loss";
  const ChartLayout c = line_chart_layout({{"train", {2.0, 1.0, 0.5, 0.4}}}, options);
  const auto find = [&](const std::string& text) {
    const auto at = std::find_if(c.texts.begin(), c.texts.end(),
                                 [&](const ChartText& t) { return t.text == text; });
    REQUIRE(at != c.texts.end());
    return *at;
  };
  const ChartText x_title = find("epoch"), y_title = find("loss"), title = find("Loss");
  CHECK(x_title.top > c.plot.bottom());  // below the x axis and its tick labels
  CHECK(x_title.x == doctest::Approx(c.plot.x + c.plot.width / 2));
  CHECK(y_title.up);  // reads upwards, left of the tick labels
  CHECK(y_title.x < c.plot.x - 30);
  CHECK(title.bold);
  CHECK(title.top + text_height(2) <= c.plot.y);  // above the plot
  for (const char* tick : {"1", "2", "3", "4", "0.5", "1", "1.5", "2"}) {
    CAPTURE(tick);
    find(tick);
  }
  // In the picture, the titles are drawn in black at twice the font's size.
  const Image image = line_chart({{"train", {2.0, 1.0, 0.5, 0.4}}}, options);
  Image expected(text_height(2), text_width("loss", 2), 3);
  draw_text_up(expected, 0, 0, "loss", {0, 0, 0}, 2);
  const Index left = static_cast<Index>(std::lround(y_title.x)) - text_height(2) / 2;
  const Index top = static_cast<Index>(std::lround(y_title.top)) - text_width("loss", 2) / 2;
  for (Index y = 0; y < expected.height(); ++y)
    for (Index x = 0; x < expected.width(); ++x)
      CHECK(image.pixel(left + x, top + y) == expected.pixel(x, y));
}

// ---- Legend placement
// ----------------------------------------------------------------------------

namespace {

// The plotted runs of a layout, as free_legend_spot sees them.
std::vector<std::vector<Point>> runs_of(const ChartLayout& c) {
  std::vector<std::vector<Point>> runs;
  for (const auto& series : c.lines)
    runs.insert(runs.end(), series.begin(), series.end());
  return runs;
}

}  // namespace

TEST_CASE("segment_meets_box finds segments crossing, touching or inside a box") {
  const Box box{10, 10, 20, 10};                               // [10, 30] x [10, 20]
  CHECK(segment_meets_box({0, 0}, {40, 30}, box));             // crosses, both ends outside
  CHECK(segment_meets_box({15, 15}, {15, 15}, box));           // a point inside
  CHECK(segment_meets_box({0, 20}, {10, 20}, box));            // ends on the corner
  CHECK(segment_meets_box({20, 0}, {20, 40}, box));            // vertical, through
  CHECK_FALSE(segment_meets_box({0, 0}, {9, 40}, box));        // passes left of it
  CHECK_FALSE(segment_meets_box({0, 25}, {40, 25}, box));      // horizontal, below
  CHECK_FALSE(segment_meets_box({0, 12}, {9.9, 12}, box));     // stops short of it
  CHECK_FALSE(segment_meets_box({0, 0}, {40, 8}, box));        // diagonal above it
  CHECK(polylines_meet_box({{{0, 25}, {40, 25}}}, box, 5.0));  // within the clearance
  CHECK_FALSE(polylines_meet_box({{{0, 25}, {40, 25}}}, box, 4.9));
}

TEST_CASE("The legend goes in the first corner the data leaves free, else outside the plot") {
  const Box plot{0, 0, 300, 200};
  const double width = 80, height = 40, clearance = 5;
  // A short stroke in each corner region of the plot: top right, top left, bottom right,
  // bottom left (free_legend_spot's order).
  const std::vector<std::vector<Point>> corner_strokes = {{{260, 20}, {290, 30}},
                                                          {{10, 20}, {40, 30}},
                                                          {{260, 170}, {290, 180}},
                                                          {{10, 170}, {40, 180}}};
  const std::vector<Point> expected = {{214, 6}, {6, 6}, {214, 154}, {6, 154}};
  for (std::size_t filled = 0; filled <= 4; ++filled) {
    // Corners 0 .. filled - 1 hold data: the legend takes the next one.
    const std::vector<std::vector<Point>> lines(corner_strokes.begin(),
                                                corner_strokes.begin() + filled);
    const std::optional<Box> spot = free_legend_spot(plot, width, height, lines, clearance);
    CAPTURE(filled);
    REQUIRE(spot.has_value());
    CHECK_FALSE(polylines_meet_box(lines, *spot, clearance));
    if (filled < 4) {
      CHECK(spot->x == expected[filled].x);
      CHECK(spot->y == expected[filled].y);
    } else {
      CHECK(spot->x == 214);  // the right side's middle
      CHECK(spot->y == 80);
    }
  }
  // Each corner alone: the legend avoids it.
  for (std::size_t corner = 0; corner < 4; ++corner) {
    CAPTURE(corner);
    const std::vector<std::vector<Point>> lines = {corner_strokes[corner]};
    const std::optional<Box> spot = free_legend_spot(plot, width, height, lines, clearance);
    REQUIRE(spot.has_value());
    CHECK_FALSE(polylines_meet_box(lines, *spot, clearance));
  }
  // A zigzag over the whole plot leaves no spot; nor does a legend bigger than the plot.
  std::vector<Point> zigzag;
  for (int i = 0; i <= 12; ++i)
    zigzag.push_back({i * 25.0, i % 2 == 0 ? 10.0 : 190.0});
  CHECK_FALSE(free_legend_spot(plot, width, height, {zigzag}, clearance).has_value());
  CHECK_FALSE(free_legend_spot(plot, 400, height, {}, clearance).has_value());
}

TEST_CASE("A chart's legend covers no plotted point or line, whatever corner the curves fill") {
  const double n = std::nan("");
  // Curves that fill the corners in turn: falling (top left, bottom right), rising (bottom
  // left, top right), a peak (top middle), a valley, a high plateau, a low one, a gap.
  const std::vector<std::vector<Series>> charts = {
      {{"train", {2.0, 1.0, 0.6, 0.45, 0.4}}, {"validation", {1.9, 1.1, 0.8, 0.7, 0.72}}},
      {{"train", {0.3, 0.6, 0.8, 0.9, 0.95}}, {"validation", {0.35, 0.55, 0.7, 0.75, 0.74}}},
      {{"train", {0.0, 0.8, 1.0, 0.8, 0.0}}},
      {{"train", {1.0, 0.2, 0.0, 0.2, 1.0}}},
      {{"train", {0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}}, {"validation", {1.0, 1.0, 1.0, 1.0, 0.0}}},
      {{"a long series name", {0.0, 0.1, 0.0, 0.1, 0.0, 0.1, 1.0}}},
      {{"train", {1.0, n, 0.2, 0.25, n, 0.9}}},
  };
  for (std::size_t i = 0; i < charts.size(); ++i) {
    CAPTURE(i);
    const ChartLayout c = line_chart_layout(charts[i]);
    // Clear of the lines' half-width and the markers' half-size.
    CHECK_FALSE(polylines_meet_box(runs_of(c), c.legend, 4.0));
    CHECK(c.legend_inside);
    CHECK(c.legend.x >= c.plot.x);
    CHECK(c.legend.right() <= c.plot.right());
    CHECK(c.legend.y >= c.plot.y);
    CHECK(c.legend.bottom() <= c.plot.bottom());
  }
  // Falling loss: top right; rising accuracy: top left (its top right is taken).
  const ChartLayout loss = line_chart_layout(charts[0]);
  CHECK(loss.legend.right() == doctest::Approx(loss.plot.right() - 6));
  CHECK(loss.legend.y == doctest::Approx(loss.plot.y + 6));
  const ChartLayout accuracy = line_chart_layout(charts[1]);
  CHECK(accuracy.legend.x == doctest::Approx(accuracy.plot.x + 6));

  // Curves over every spot: the legend moves right of a narrower plot, and the picture shows it
  // there: its frame's grey, right of the x axis's end.
  std::vector<double> zigzag;
  for (int i = 0; i < 30; ++i)
    zigzag.push_back(i % 2 == 0 ? 0.0 : 1.0);
  const ChartLayout full = line_chart_layout({{"train", zigzag}, {"validation", zigzag}});
  CHECK_FALSE(full.legend_inside);
  CHECK(full.legend.x > full.plot.right());
  CHECK(full.legend.right() <= full.width);
  CHECK_FALSE(polylines_meet_box(runs_of(full), full.legend, 4.0));
  const Image image = line_chart({{"train", zigzag}, {"validation", zigzag}});
  CHECK(image.pixel(std::lround(full.legend.x), std::lround(full.legend.y) + 3) ==
        Rgb{160, 160, 160});
}

// ---- SVG
// -------------------------------------------------------------------------------------------

TEST_CASE("Svg writes shapes and escaped text in drawing order, for an HTML page") {
  Svg svg(200, 100.5, "a <chart>");
  svg.rect({0, 0, 200, 100.5}, Rgb{255, 255, 255})
      .rect({10.25, 20, 30, 40}, std::nullopt, Rgb{160, 160, 160}, 1.5)
      .polyline({{1, 2}, {3.126, -4}}, {31, 119, 180}, 2)
      .circle({5, 6}, 3, {255, 127, 14})
      .text({7, 8}, "R&D <1>", {16, SvgText::Anchor::end, {0, 0, 0}, true, false})
      .text({9, 10}, "loss", {15, SvgText::Anchor::middle, {60, 60, 60}, false, true});
  CHECK(svg.markup() ==
        "<svg width=\"200\" height=\"100.5\" viewBox=\"0 0 200 100.5\" role=\"img\" "
        "aria-label=\"a &lt;chart&gt;\" font-family=\"sans-serif\">\n"
        "<rect x=\"0\" y=\"0\" width=\"200\" height=\"100.5\" fill=\"#ffffff\"/>\n"
        "<rect x=\"10.25\" y=\"20\" width=\"30\" height=\"40\" fill=\"none\" stroke=\"#a0a0a0\" "
        "stroke-width=\"1.5\"/>\n"
        "<polyline points=\"1,2 3.13,-4\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" "
        "stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n"
        "<circle cx=\"5\" cy=\"6\" r=\"3\" fill=\"#ff7f0e\"/>\n"
        "<text x=\"7\" y=\"8\" font-size=\"16\" text-anchor=\"end\" fill=\"#000000\" "
        "font-weight=\"bold\">R&amp;D &lt;1&gt;</text>\n"
        "<text x=\"9\" y=\"10\" font-size=\"15\" text-anchor=\"middle\" fill=\"#3c3c3c\" "
        "transform=\"rotate(-90 9 10)\">loss</text>\n"
        "</svg>");
  CHECK(Svg::number(-0.001) == "0");
  CHECK(Svg::number(100) == "100");
  CHECK(Svg::number(0.5) == "0.5");
  CHECK_THROWS_WITH_AS(Svg(0, 10, "x"), "Svg: expected a positive size, got 0x10", Error);
}

TEST_CASE("A chart's SVG draws the PNG's layout: its lines, legend and text") {
  const std::vector<Series> curves = {{"train", {2.0, 1.0, std::nan(""), 0.5, 0.4}},
                                      {"validation", {1.9, 1.2, 0.9, 0.8}}};
  ChartOptions options;
  options.title = "Loss";
  options.y_label = "loss";
  const ChartLayout c = line_chart_layout(curves, options);
  const std::string svg = line_chart_svg(curves, options).markup();
  CHECK(svg.rfind("<svg width=\"640\" height=\"400\" viewBox=\"0 0 640 400\"", 0) == 0);
  // Every run of two points or more is a polyline through the layout's points; the gap splits
  // train in two; each legend row adds its sample line.
  for (std::size_t k = 0; k < c.lines.size(); ++k)
    for (const std::vector<Point>& run : c.lines[k]) {
      std::string points;
      for (const Point& p : run)
        points += (points.empty() ? "" : " ") + Svg::number(p.x) + "," + Svg::number(p.y);
      CHECK(svg.find("<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" +
                     Svg::colour(series_colour(k))) != std::string::npos);
    }
  std::size_t polylines = 0, discs = 0, texts = 0;
  for (std::size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1))
    ++polylines;
  for (std::size_t at = svg.find("<circle"); at != std::string::npos;
       at = svg.find("<circle", at + 1))
    ++discs;
  for (std::size_t at = svg.find("<text"); at != std::string::npos; at = svg.find("<text", at + 1))
    ++texts;
  CHECK(polylines == 2 + 1 + 2);
  CHECK(discs == 4 + 4 + 2);  // the finite points and the legend's samples
  CHECK(texts == c.texts.size());
  // The legend's frame where the layout put it, on half units for a sharp 1-pixel stroke.
  CHECK(svg.find("<rect x=\"" + Svg::number(std::round(c.legend.x) + 0.5) + "\" y=\"" +
                 Svg::number(std::round(c.legend.y) + 0.5) + "\"") != std::string::npos);
  CHECK(svg.find(">validation</text>") != std::string::npos);
  CHECK(svg.find("font-weight=\"bold\">Loss</text>") != std::string::npos);
  CHECK(svg.find("transform=\"rotate(-90 ") != std::string::npos);  // the y axis's title
}

TEST_CASE("The confusion heat map colours by row share and writes the counts") {
  const ConfusionMatrix cm(2, {0, 0, 0, 1}, {0, 0, 1, 1});
  HeatmapOptions options;
  options.cell = 30;
  options.title = "M";  // narrower than the grid, which then ends 6 pixels from the right
  const Image image = confusion_heatmap(cm, {"cat", "dog"}, false, options);
  // The grid is the last 2 * 30 rows (plus the gap); the cells' corners are free of text.
  const Index top = image.height() - 6 - 60, left = image.width() - 6 - 60;
  const Rgb full = image.pixel(left + 60 - 3, top + 60 - 3);  // (dog, dog): row share 1
  CHECK(full == Rgb{8, 48, 107});
  CHECK(image.pixel(left + 30 + 3, top + 3) == mix({255, 255, 255}, {8, 48, 107}, 1.0 / 3.0));
  CHECK(image.pixel(left + 3, top + 30 + 3) == Rgb{255, 255, 255});  // (dog, cat): 0
  // Masked diagonal: hatched grey, not on the scale; the largest error share is darkest.
  const Image errors = confusion_heatmap(cm, {"cat", "dog"}, true, options);
  CHECK(errors.pixel(left + 30 + 3, top + 3) == Rgb{8, 48, 107});
  CHECK(errors.pixel(left + 1, top + 1) != Rgb{8, 48, 107});
  CHECK_THROWS_WITH_AS(confusion_heatmap(cm, {"cat"}),
                       "confusion_heatmap: expected 2 class names or none, got 1", Error);
  CHECK_THROWS_WITH_AS(heatmap(Eigen::MatrixXd(2, 2), {"a"}, {"a", "b"}, {}),
                       "heatmap: expected 2 row and 2 column labels, got 1 and 2", Error);
  CHECK_THROWS_WITH_AS(heatmap(Eigen::MatrixXd::Zero(1, 1), {"a"}, {"a"}, {"1", "2"}),
                       "heatmap: expected 1 cell texts or none, got 2", Error);
}

// ---- report.html
// ------------------------------------------------------------------------------------

TEST_CASE("base64 follows RFC 4648") {
  const auto encode = [](const std::string& text) {
    return base64(std::vector<std::uint8_t>(text.begin(), text.end()));
  };
  CHECK(encode("") == "");
  CHECK(encode("f") == "Zg==");
  CHECK(encode("fo") == "Zm8=");
  CHECK(encode("foo") == "Zm9v");
  CHECK(encode("foobar") == "Zm9vYmFy");
  CHECK(base64({0xFB, 0xFF}) == "+/8=");
}

TEST_CASE("report.html is self-contained: inline PNG images, inline SVG drawings and no URL") {
  HtmlReport report("Lab <3> & \"more\"");
  report.section("Model").preformatted("conv2d (Conv2D)   (None, 32, 26, 26)   320\n");
  report.section("Training").figure(line_chart({{"loss", {1.0, 0.5, 0.25}}}), "Loss per epoch");
  report.gallery(
      {line_chart_svg({{"loss", {1.0, 0.5, 0.25}}}), line_chart_svg({{"accuracy", {0.5, 0.9}}})},
      {"Loss, drawn", "Accuracy, drawn"});
  report.section("Confusion matrix")
      .figure(confusion_heatmap(ConfusionMatrix(2, {0, 1}, {0, 0})), "Counts");
  report.section("Worst examples")
      .gallery({gradient_image(8, 8, 1), gradient_image(8, 8, 3)},
               {"#12: 3 predicted as 5 (p = 0.01)", "#40: 7 predicted as 1"}, 4);
  report.section("Timings").table({"phase", "seconds"}, {{"fit", "12.5"}, {"evaluate", "0.8"}});
  report.paragraph("See <b>this</b>");
  const std::string html = report.html();

  // Every image is a data: URI holding a PNG that decodes.
  Index images = 0;
  std::string outside = html;  // the page without the base64 payloads
  for (std::size_t at = html.find("<img "); at != std::string::npos;
       at = html.find("<img ", at + 1)) {
    ++images;
    const std::size_t src = html.find("src=\"", at) + 5;
    const std::string prefix = "data:image/png;base64,";
    REQUIRE(html.compare(src, prefix.size(), prefix) == 0);
    const std::size_t end = html.find('"', src);
    const std::string payload = html.substr(src + prefix.size(), end - src - prefix.size());
    CHECK(payload.size() % 4 == 0);
    outside.replace(outside.find(payload), payload.size(), "");
  }
  CHECK(images == 4);
  // ... and nothing else points anywhere: no scheme, no protocol-relative URL, no link.
  for (const char* forbidden :
       {"http:", "https:", "//", "href", "url(", "@import", "<script", "<link"}) {
    CAPTURE(forbidden);
    CHECK(outside.find(forbidden) == std::string::npos);
  }
  CHECK(outside.find("src=") != std::string::npos);
  CHECK(outside.find("<title>Lab &lt;3&gt; &amp; &quot;more&quot;</title>") != std::string::npos);
  CHECK(outside.find("See &lt;b&gt;this&lt;/b&gt;") != std::string::npos);
  CHECK(outside.find("width=\"32\" height=\"32\"") != std::string::npos);  // zoom 4 of 8x8
  // The drawings are inline, each in its figure with its caption.
  CHECK(outside.find("<figure><svg width=\"640\" height=\"400\"") != std::string::npos);
  CHECK(outside.find("</svg><figcaption>Accuracy, drawn</figcaption></figure>") !=
        std::string::npos);

  testing::TempDir dir;
  report.write(dir / "report.html");
  CHECK(read_file(dir / "report.html") == html);
  CHECK_THROWS_WITH_AS(report.gallery({Image(1, 1)}, {}),
                       "HtmlReport::gallery: expected one caption per image, got 0 captions for 1 "
                       "images",
                       Error);
  CHECK_THROWS_WITH_AS(report.gallery(std::vector<Svg>{Svg(1, 1, "x")}, {}),
                       "HtmlReport::gallery: expected one caption per drawing, got 0 captions "
                       "for 1 drawings",
                       Error);
  CHECK_THROWS_WITH_AS(report.figure(Image(1, 1), "x", 0),
                       "HtmlReport: expected a zoom >= 1, got 0", Error);
}
