// HtmlReport: one self-contained report.html of a training run, built section by section:
// model summary, curves, confusion matrix, worst images, filters, timings... A chart is inline
// SVG (visual/svg.hpp: crisp at any zoom, its text selectable), every other picture a PNG
// embedded as a data: URI (base64); the style sheet is inline, and the page refers to no
// external URL at all, so the file can be mailed, archived or opened offline as it is.
//
//   HtmlReport report("CIFAR-10, simple CNN");
//   report.section("Model").preformatted(model.summary());
//   report.section("Training").figure(line_chart_svg(...), "Loss per epoch");
//   report.section("Filters").figure(filter_grid(...), "conv2d", 4);
//   report.section("Timings").table({"phase", "seconds"}, {{"fit", "12.3"}});
//   report.write("report.html");
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/atomic_file.hpp"
#include "minicnn/visual/escape.hpp"
#include "minicnn/visual/png.hpp"
#include "minicnn/visual/svg.hpp"

namespace minicnn {

// Standard base64 (RFC 4648) with '=' padding.
inline std::string base64(const std::vector<std::uint8_t>& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t a = bytes[i];
    const std::uint32_t b = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    const std::uint32_t c = i + 2 < bytes.size() ? bytes[i + 2] : 0;
    const std::uint32_t triple = (a << 16) | (b << 8) | c;
    text += kAlphabet[(triple >> 18) & 63];
    text += kAlphabet[(triple >> 12) & 63];
    text += i + 1 < bytes.size() ? kAlphabet[(triple >> 6) & 63] : '=';
    text += i + 2 < bytes.size() ? kAlphabet[triple & 63] : '=';
  }
  return text;
}

// An image as the value of an <img src>: "data:image/png;base64,...".
inline std::string png_data_uri(const Image& image) {
  return "data:image/png;base64," + base64(encode_png(image));
}

class HtmlReport {
 public:
  explicit HtmlReport(std::string title) : title_(std::move(title)) {}

  // Starts a new section with a heading; what follows goes into it.
  HtmlReport& section(const std::string& heading) {
    body_ += "<h2>" + html_escape(heading) + "</h2>\n";
    return *this;
  }
  HtmlReport& paragraph(const std::string& text) {
    body_ += "<p>" + html_escape(text) + "</p>\n";
    return *this;
  }
  // Monospaced text kept as it is: the model summary, a classification report.
  HtmlReport& preformatted(const std::string& text) {
    body_ += "<pre>" + html_escape(text) + "</pre>\n";
    return *this;
  }
  // Name-value lines such as the command and the machine, names on the left.
  HtmlReport& facts(const std::vector<std::pair<std::string, std::string>>& lines) {
    body_ += "<table class=\"facts\">\n";
    for (const auto& [name, value] : lines)
      body_ += "<tr><th>" + html_escape(name) + "</th><td>" + html_escape(value) + "</td></tr>\n";
    body_ += "</table>\n";
    return *this;
  }
  // A table of numbers: right-aligned, except the first column (row names).
  HtmlReport& table(const std::vector<std::string>& header,
                    const std::vector<std::vector<std::string>>& rows) {
    body_ += "<table>\n<tr>";
    for (const std::string& cell : header)
      body_ += "<th>" + html_escape(cell) + "</th>";
    body_ += "</tr>\n";
    for (const auto& row : rows) {
      body_ += "<tr>";
      for (const std::string& cell : row)
        body_ += "<td>" + html_escape(cell) + "</td>";
      body_ += "</tr>\n";
    }
    body_ += "</table>\n";
    return *this;
  }
  // One picture with a caption, shown `zoom` times its size with sharp pixels.
  HtmlReport& figure(const Image& image, const std::string& caption, Index zoom = 1) {
    begin_figures();
    add_figure(image, caption, zoom);
    return end_figures();
  }
  // Pictures side by side (e.g. the worst examples), each with its caption.
  HtmlReport& gallery(const std::vector<Image>& images, const std::vector<std::string>& captions,
                      Index zoom = 1) {
    if (images.size() != captions.size())
      fail("HtmlReport::gallery: expected one caption per image, got ", captions.size(),
           " captions for ", images.size(), " images");
    begin_figures();
    for (std::size_t i = 0; i < images.size(); ++i)
      add_figure(images[i], captions[i], zoom);
    return end_figures();
  }

  // A drawing (a chart) with a caption, inline, at its size.
  HtmlReport& figure(const Svg& svg, const std::string& caption) {
    begin_figures();
    add_figure(svg, caption);
    return end_figures();
  }
  // Drawings side by side (e.g. the loss and accuracy curves), each with its caption.
  HtmlReport& gallery(const std::vector<Svg>& drawings, const std::vector<std::string>& captions) {
    if (drawings.size() != captions.size())
      fail("HtmlReport::gallery: expected one caption per drawing, got ", captions.size(),
           " captions for ", drawings.size(), " drawings");
    begin_figures();
    for (std::size_t i = 0; i < drawings.size(); ++i)
      add_figure(drawings[i], captions[i]);
    return end_figures();
  }

  std::string html() const {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
           html_escape(title_) + "</title>\n<style>\n" + kStyle +
           "</style>\n</head>\n<body>\n<h1>" + html_escape(title_) + "</h1>\n" + body_ +
           "</body>\n</html>\n";
  }

  // Written atomically: a crash leaves the previous report or none.
  void write(const std::string& path) const {
    write_file_atomically(path, html(), "HtmlReport::write");
  }

 private:
  static constexpr const char* kStyle =
      "body { font-family: sans-serif; margin: 2em auto; max-width: 70em; color: #222; }\n"
      "h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.5em; }\n"
      "pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }\n"
      "table { border-collapse: collapse; }\n"
      "th, td { border: 1px solid #ccc; padding: 0.25em 0.8em; text-align: right; }\n"
      "th:first-child, td:first-child, .facts td { text-align: left; }\n"
      ".facts td { font-family: monospace; }\n"
      ".figures { display: flex; flex-wrap: wrap; gap: 1em; }\n"
      "figure { margin: 0; display: table; }\n"
      // The caption wraps at its picture's width.
      "figcaption { display: table-caption; caption-side: bottom; }\n"
      "figcaption { font-size: 0.85em; color: #555; }\n"
      // A picture or drawing wider than the page (CIFAR-100's 100-class heat map) shrinks to
      // fit it.
      "img { image-rendering: pixelated; max-width: 100%; height: auto; }\n"
      "svg { display: block; max-width: 100%; height: auto; }\n";

  void begin_figures() { body_ += "<div class=\"figures\">\n"; }
  HtmlReport& end_figures() {
    body_ += "</div>\n";
    return *this;
  }
  void add_figure(const Image& image, const std::string& caption, Index zoom) {
    if (zoom < 1) fail("HtmlReport: expected a zoom >= 1, got ", zoom);
    body_ += "<figure><img src=\"" + png_data_uri(image) + "\" width=\"" +
             std::to_string(image.width() * zoom) + "\" height=\"" +
             std::to_string(image.height() * zoom) + "\" alt=\"" + html_escape(caption) +
             "\"><figcaption>" + html_escape(caption) + "</figcaption></figure>\n";
  }

  void add_figure(const Svg& svg, const std::string& caption) {
    body_ += "<figure>" + svg.markup() + "<figcaption>" + html_escape(caption) +
             "</figcaption></figure>\n";
  }

  std::string title_;
  std::string body_;
};

}  // namespace minicnn
