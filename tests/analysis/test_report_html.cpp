// Specification of a training run's report (visual/run_report.hpp): report.html holds every
// section, refers to nothing outside itself (the curves inline SVG, every other picture an inline
// PNG that decodes), and its figures come from one predict() over the test set; the PNG files
// beside it are the same pictures.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "minicnn/minicnn.hpp"
#include "minicnn/visual/run_report.hpp"
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

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// RFC 4648 base64 back to bytes; an empty result for any character outside the alphabet.
std::vector<std::uint8_t> base64_decode(const std::string& text) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<std::uint8_t> bytes;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    const std::size_t value = alphabet.find(c);
    if (value == std::string::npos) return {};
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes.push_back(static_cast<std::uint8_t>((bits >> count) & 0xFF));
    }
  }
  return bytes;
}

struct Decoded {
  int width = 0, height = 0;
};

// Decodes PNG bytes with the reference decoder after checking the 8-byte PNG signature.
Decoded decode_png(const std::vector<std::uint8_t>& bytes) {
  const std::vector<std::uint8_t> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  REQUIRE(bytes.size() > signature.size());
  REQUIRE(std::equal(signature.begin(), signature.end(), bytes.begin()));
  Decoded d;
  int channels = 0;
  unsigned char* pixels = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()),
                                                &d.width, &d.height, &channels, 0);
  REQUIRE(pixels != nullptr);
  stbi_image_free(pixels);
  return d;
}

// Checks that the page is self-contained and returns the size of each of its pictures, in
// order: every <img src> is a data: URI of a PNG that decodes, and outside those payloads there
// is no URL, link, script or style import.
std::vector<Decoded> check_self_contained(const std::string& html) {
  const std::string prefix = "data:image/png;base64,";
  std::vector<Decoded> pictures;
  std::string outside;  // the page without the base64 payloads
  std::size_t from = 0;
  for (std::size_t at = html.find("<img"); at != std::string::npos;
       at = html.find("<img", at + 1)) {
    const std::size_t src = html.find("src=\"", at);
    REQUIRE(src != std::string::npos);
    REQUIRE(src < html.find('>', at));
    const std::size_t value = src + 5;
    REQUIRE(html.compare(value, prefix.size(), prefix) == 0);
    const std::size_t payload = value + prefix.size(), end = html.find('"', payload);
    const std::string text = html.substr(payload, end - payload);
    CHECK(text.size() % 4 == 0);
    pictures.push_back(decode_png(base64_decode(text)));
    outside += html.substr(from, payload - from);
    from = end;
  }
  outside += html.substr(from);
  for (const std::string forbidden : {"http://", "https://", "//", "href", "<script", "<link",
                                      "url(", "@import", "src=\"/", "src=\"file"}) {
    CAPTURE(forbidden);
    CHECK(outside.find(forbidden) == std::string::npos);
  }
  return pictures;
}

// The page's inline <svg> elements, each from "<svg" to "</svg>", in order.
std::vector<std::string> svg_elements(const std::string& html) {
  std::vector<std::string> found;
  for (std::size_t at = html.find("<svg"); at != std::string::npos;
       at = html.find("<svg", at + 1)) {
    const std::size_t end = html.find("</svg>", at);
    REQUIRE(end != std::string::npos);
    found.push_back(html.substr(at, end + 6 - at));
  }
  return found;
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++count;
  return count;
}

// The <h2> headings of the page, in order.
std::vector<std::string> headings(const std::string& html) {
  std::vector<std::string> found;
  for (std::size_t at = html.find("<h2>"); at != std::string::npos; at = html.find("<h2>", at + 1))
    found.push_back(html.substr(at + 4, html.find("</h2>", at) - at - 4));
  return found;
}

// n grey 8x8 images of random pixels, labels n mod `classes` (or all 0): no model learns them
// perfectly, so there are misclassified images to show.
Dataset noise_images(Index n, Index classes, std::uint64_t seed, bool one_class = false) {
  Dataset data;
  data.classes = classes;
  data.images.resize({n, 1, 8, 8});
  data.labels.resize({n});
  Random random(seed);
  for (Index i = 0; i < data.images.size(); ++i)
    data.images[i] = static_cast<std::uint8_t>(random.below(256));
  for (Index i = 0; i < n; ++i)
    data.labels[i] = one_class ? 0 : static_cast<std::int32_t>(i % classes);
  return data;
}

struct TrainedRun {
  Sequential<float> model;
  History history;
};

// Trains `model` (already given its layers) 3 epochs on `train` with a validation split.
TrainedRun train(Sequential<float> model, const Dataset& train) {
  model.build(train.sample_shape(), 7);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  Adam<float> adam(1e-2);
  FitOptions<float> options;
  options.epochs = 3;
  options.batch_size = 8;
  options.seed = 3;
  options.validation_split = 0.25;
  options.verbose = Verbose::silent;
  TrainedRun run;
  run.history = model.fit(train, Normalization<float>::scale(), adam, options);
  run.model = std::move(model);
  return run;
}

RunSummary summary_of(const std::string& title) {
  RunSummary summary;
  summary.title = title;
  summary.setup = {{"command", "mnist --model <tiny> --epochs 3"}, {"machine", "test machine"}};
  summary.test_loss = 1.0986;
  summary.test_accuracy = 0.3333;
  summary.epochs = 3;
  summary.training_seconds = 1.5;
  summary.wall_seconds = 2.4;
  summary.timings = {{"training", 1.5}, {"evaluation", 0.25}};
  return summary;
}

}  // namespace

TEST_CASE("a run's report.html is self-contained and has every section, from one predict()") {
  Dataset train_set = noise_images(48, 3, 1), test = noise_images(30, 3, 2);
  test.class_names = {"cat", "dog", "bird"};
  Sequential<float> layers;
  layers.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>().add<Dense>(3).add<Softmax>();
  const TrainedRun run = train(std::move(layers), train_set);

  testing::TempDir dir;
  const RunReportFiles files =
      write_run_report(dir.path.string(), summary_of("Tiny <set>: conv"), run.model, run.history,
                       test, Normalization<float>::scale());
  const std::vector<std::string> expected = {
      "report.html",          "loss.png",           "accuracy.png", "confusion_matrix.png",
      "confusion_errors.png", "worst_examples.png", "filters.png"};
  CHECK(files.names == expected);
  CHECK(files.seconds > 0.0);
  // Every file is there, written atomically: no temporary left beside them.
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path))
    on_disk.insert(entry.path().filename().string());
  CHECK(on_disk == std::set<std::string>(expected.begin(), expected.end()));

  const std::string html = read_text(dir / "report.html");
  CHECK(headings(html) == std::vector<std::string>{"Run", "Result", "Model", "Training curves",
                                                   "Confusion matrix", "Per-class figures",
                                                   "Worst-classified test images",
                                                   "First-layer filters", "Epochs", "Timings"});
  CHECK(html.find("<title>Tiny &lt;set&gt;: conv</title>") != std::string::npos);
  CHECK(html.find("<th>command</th><td>mnist --model &lt;tiny&gt; --epochs 3</td>") !=
        std::string::npos);
  CHECK(html.find("<td>33.33 %</td><td>1.0986</td><td>3</td><td>30</td><td>1.5</td><td>2.4</td>") !=
        std::string::npos);
  CHECK(html.find(html_escape(run.model.summary())) != std::string::npos);

  // The figures are those of one predict() over the test set.
  Tensor<float> x, y;
  to_tensors(test, Normalization<float>::scale(), x, y);
  const Tensor<float> p = run.model.predict(x, 256);
  const TestSetAnalysis<float> analysis =
      analyse_test_set(run.model, test, Normalization<float>::scale());
  CHECK(
      std::equal(p.begin(), p.end(), analysis.probabilities.begin(), analysis.probabilities.end()));
  CHECK(analysis.confusion.total() == 30);
  const Index wrong = 30 - static_cast<Index>(analysis.confusion.counts().trace());
  REQUIRE(wrong >= 10);  // random pixels: the tiny model cannot get 20 of 30 right
  REQUIRE(analysis.worst.size() == 10);
  REQUIRE(analysis.auc.has_value());
  CHECK(html.find("Macro ROC AUC (one class against the rest, mean over the classes): " +
                  detail::fixed(analysis.auc->macro, 4)) != std::string::npos);
  const ClassFigures& dog = analysis.classes[1];
  CHECK(html.find("<td>dog</td><td>10</td><td>" + detail::percent(dog.accuracy) + "</td><td>" +
                  detail::fixed(dog.mean_loss, 4) + "</td><td>" +
                  detail::percent(dog.predicted_share) + "</td><td>33.33 %</td><td>" +
                  detail::fixed(analysis.auc->per_class[1], 4) + "</td>") != std::string::npos);
  const WorstExample<float>& worst = analysis.worst.front();
  CHECK(html.find("#" + std::to_string(worst.index) + ": true " +
                  test.class_names[static_cast<std::size_t>(worst.actual)] + ", predicted " +
                  test.class_names[static_cast<std::size_t>(worst.predicted)] + ", p(true) " +
                  detail::probability(worst.probability)) != std::string::npos);
  for (const EpochLogs& e : run.history.epochs)
    CHECK(html.find("<td>" + std::to_string(e.epoch + 1) + "</td><td>" + detail::fixed(e.loss, 4) +
                    "</td>") != std::string::npos);
  for (const std::string phase :
       {"<td>training</td><td>1.50</td>", "<td>evaluation</td><td>0.25</td>",
        "<td>report: test-set predictions and analyses</td>",
        "<td>report: pictures and PNG files</td>"}) {
    CAPTURE(phase);
    CHECK(html.find(phase) != std::string::npos);
  }

  // The curves: two inline SVG drawings of 540x360 in the "Training curves" section, with their
  // titles as text; every line of a 3-epoch history is a polyline (2 in the plot, 2 in the
  // legend).
  const std::vector<std::string> drawings = svg_elements(html);
  REQUIRE(drawings.size() == 2);
  const std::size_t curves = html.find("<h2>Training curves</h2>");
  const std::size_t after = html.find("<h2>", curves + 1);
  for (const std::string& svg : drawings) {
    CHECK(svg.rfind("<svg width=\"540\" height=\"360\" viewBox=\"0 0 540 360\"", 0) == 0);
    CHECK(html.find(svg) > curves);
    CHECK(html.find(svg) < after);
    CHECK(occurrences(svg, "<polyline ") == 4);
    CHECK(svg.find(">epoch</text>") != std::string::npos);
  }
  CHECK(drawings[0].find(">Loss</text>") != std::string::npos);
  CHECK(drawings[0].find(">loss</text>") != std::string::npos);
  CHECK(drawings[1].find(">accuracy</text>") != std::string::npos);
  // 2 heat maps, the 10 worst images (8x8 at zoom 16), the filters: inline PNGs that decode.
  const std::vector<Decoded> pictures = check_self_contained(html);
  REQUIRE(pictures.size() == 2 + 10 + 1);
  CHECK(pictures[2].width == 128);
  CHECK(pictures[2].height == 128);
  // filters: 4 filters of 1 channel, 3x3 at zoom 10 with 3 pixels of padding, 8 per row
  CHECK(pictures[12].width == 4 * (30 + 3) + 3);
  // The PNG files decode: the curves at the drawings' size, the heat maps as on the page.
  for (std::size_t i = 1; i < expected.size(); ++i) {
    CAPTURE(expected[i]);
    const std::string bytes = read_text(dir / expected[i]);
    const Decoded d = decode_png(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    if (i <= 2) {
      CHECK(d.width == 540);
      CHECK(d.height == 360);
    } else if (i <= 4) {
      CHECK(d.width == pictures[i - 3].width);
      CHECK(d.height == pictures[i - 3].height);
    }
  }
}

TEST_CASE("a run's report leaves out what the run does not have") {
  // A Dense first layer: no filters. A test set of one class: no ROC AUC. No class names: the
  // class numbers.
  const Dataset train_set = noise_images(24, 3, 3), test = noise_images(12, 3, 4, true);
  Sequential<float> layers;
  layers.add<Flatten>().add<Dense>(3).add<Softmax>();
  const TrainedRun run = train(std::move(layers), train_set);

  testing::TempDir dir;
  const RunReportFiles files = write_run_report(dir.path.string(), summary_of("Dense"), run.model,
                                                run.history, test, Normalization<float>::scale());
  CHECK(std::count(files.names.begin(), files.names.end(), "filters.png") == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "filters.png"));
  const std::string html = read_text(dir / "report.html");
  const std::vector<std::string> sections = headings(html);
  CHECK(std::count(sections.begin(), sections.end(), "First-layer filters") == 0);
  CHECK(html.find("ROC AUC: not defined, the test set holds a single class.") != std::string::npos);
  CHECK(html.find("<td>0</td><td>12</td>") != std::string::npos);  // class 0 by number
  check_self_contained(html);
}

TEST_CASE("analyse_test_set refuses a model that does not fit the data set") {
  const Dataset test = noise_images(6, 3, 5);
  Sequential<float> two;
  two.add<Flatten>().add<Dense>(2).add<Softmax>();
  two.build({1, 8, 8}, 1);
  CHECK_THROWS_WITH_AS(
      analyse_test_set(two, test, Normalization<float>::scale()),
      "analyse_test_set: expected a model with one output per class of the data set, (3), got (2)",
      Error);
  Sequential<float> three;
  three.add<Flatten>().add<Dense>(3).add<Softmax>();
  three.build({1, 8, 8}, 1);
  CHECK_THROWS_WITH_AS(analyse_test_set(three, take(test, 0), Normalization<float>::scale()),
                       "analyse_test_set: expected a test set with samples, got none", Error);
}

TEST_CASE("HtmlReport::facts lists names and escaped values") {
  HtmlReport report("Facts");
  report.facts({{"command", "mnist --out <dir>"}, {"threads", "2"}});
  CHECK(report.html().find("<table class=\"facts\">\n"
                           "<tr><th>command</th><td>mnist --out &lt;dir&gt;</td></tr>\n"
                           "<tr><th>threads</th><td>2</td></tr>\n"
                           "</table>\n") != std::string::npos);
}

TEST_CASE("the report writes probabilities with 4 decimals, tiny ones with 2 digits") {
  CHECK(detail::probability(0.25) == "0.2500");
  CHECK(detail::probability(0.001) == "0.0010");
  CHECK(detail::probability(0.00021) == "2.1e-04");
  CHECK(detail::probability(0.0) == "0.0e+00");
  CHECK(detail::fixed(std::nan(""), 2) == "-");
  CHECK(detail::percent(0.9713) == "97.13 %");
}

// ---- In a browser
// -------------------------------------------------------------------------------

namespace {

struct Screenshot {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  // row-major, 3 bytes a pixel
  Rgb at(int x, int y) const {
    const std::size_t i = 3 * (static_cast<std::size_t>(y) * width + x);
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

// Renders `page` in headless Chromium (Debian's `chromium`) into a PNG of 1200x2000 CSS pixels,
// one screen pixel each, in sRGB, and decodes it. About 4 s, most of it Chromium's start.
Screenshot screenshot(const std::string& page, const testing::TempDir& dir) {
  REQUIRE_MESSAGE(std::system("command -v chromium >/dev/null 2>&1") == 0,
                  "this test needs headless Chromium: install Debian's chromium "
                  "(bash scripts/install_deps.sh chromium; scripts/test.sh does)");
  const std::string png = dir / "screenshot.png", log = dir / "chromium.log";
  const std::string command =
      "timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--hide-scrollbars --force-device-scale-factor=1 --force-color-profile=srgb "
      "--user-data-dir='" +
      dir / "profile" + "' --window-size=1200,2000 --screenshot='" + png + "' 'file://" + page +
      "' >'" + log + "' 2>&1";
  REQUIRE_MESSAGE(std::system(command.c_str()) == 0, "chromium failed: ", read_text(log));
  const std::string bytes = read_text(png);
  Screenshot s;
  int channels = 0;
  unsigned char* pixels =
      stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()), &s.width, &s.height, &channels, 3);
  REQUIRE(pixels != nullptr);
  s.rgb.assign(pixels, pixels + 3 * s.width * s.height);
  stbi_image_free(pixels);
  return s;
}

// Where a colour is on the screen: the pixels within 24 of it in every channel (a line's
// anti-aliased core included, its faint edges not; no shade of the heat maps' blue scale),
// grouped by columns into regions that more than 20 columns without it separate. Per region: its
// columns and rows, and its pixels.
struct ColourRegion {
  int left = 0, right = 0, top = 0, bottom = 0;
  Index pixels = 0;
};

std::vector<ColourRegion> colour_regions(const Screenshot& s, Rgb colour) {
  const auto near = [&](Rgb p) {
    return std::abs(p.r - colour.r) <= 24 && std::abs(p.g - colour.g) <= 24 &&
           std::abs(p.b - colour.b) <= 24;
  };
  std::vector<ColourRegion> regions;
  int last_column = -1000;
  for (int x = 0; x < s.width; ++x)
    for (int y = 0; y < s.height; ++y) {
      if (!near(s.at(x, y))) continue;
      if (x - last_column > 21) regions.push_back({x, x, y, y, 0});
      ColourRegion& r = regions.back();
      r.right = x;
      r.top = std::min(r.top, y);
      r.bottom = std::max(r.bottom, y);
      ++r.pixels;
      last_column = x;
    }
  return regions;
}

}  // namespace

TEST_CASE("headless Chromium draws report.html's two charts, each with both curves") {
  Dataset train_set = noise_images(48, 3, 1), test = noise_images(30, 3, 2);
  Sequential<float> layers;
  layers.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>().add<Dense>(3).add<Softmax>();
  const TrainedRun run = train(std::move(layers), train_set);
  testing::TempDir dir;
  write_run_report(dir.path.string(), summary_of("In a browser"), run.model, run.history, test,
                   Normalization<float>::scale());
  const Screenshot s = screenshot(dir / "report.html", dir);
  REQUIRE(s.width == 1200);

  // The page's other pictures are grey (the images, the filters) or blue-grey (the heat maps):
  // the curves' colours are the charts' alone. Each colour must be in two regions, the loss
  // chart's and the accuracy chart's side by side, each a curve across its plot (3 epochs: more
  // than 300 columns) drawn as a line (more than 300 pixels: its 3 discs and legend sample
  // alone give about 100).
  for (std::size_t k = 0; k < 2; ++k) {
    CAPTURE(k);
    const std::vector<ColourRegion> regions = colour_regions(s, series_colour(k));
    REQUIRE(regions.size() == 2);
    for (const ColourRegion& r : regions) {
      CAPTURE(r.left);
      CHECK(r.right - r.left > 300);
      CHECK(r.bottom - r.top < 360);
      CHECK(r.pixels > 300);
    }
    CHECK(regions[0].right < 600);  // the loss chart on the left, the accuracy chart right
    CHECK(regions[1].left > 600);
    MESSAGE("series ", k, ": ", regions[0].pixels, " and ", regions[1].pixels, " pixels");
  }
}
