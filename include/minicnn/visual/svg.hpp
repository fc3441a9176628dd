// Svg: a drawing written as SVG markup to inline in an HTML page (report.html): crisp at any zoom,
// its text real text (selectable, searchable, in the browser's font), and nothing outside the
// page. Shapes are added in drawing order, later ones on top.
//
//   Svg svg(540, 360, "Loss per epoch");
//   svg.rect({0, 0, 540, 360}, Rgb{255, 255, 255})
//       .polyline({{10, 10}, {100, 80}}, {31, 119, 180}, 2)
//       .text({270, 20}, "Loss", {17, Anchor::middle, {0, 0, 0}, true});
//   report.figure(svg, "Loss per epoch");
//
// Coordinates as in visual/geometry.hpp: the SVG's user units, one CSS pixel each at the size
// given. The root <svg> carries no xmlns: HTML's parser puts inline SVG in the SVG namespace
// itself, and the attribute's URL would be the page's only one (report.html refers to nothing).
// So the markup is for HTML pages, not a standalone .svg file.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/visual/escape.hpp"
#include "minicnn/visual/geometry.hpp"
#include "minicnn/visual/image.hpp"

namespace minicnn {

// How a text is set: size in user units (the font's em), anchored at its start, middle or end,
// bold or not, and turned a quarter turn anticlockwise about its anchor when `up` (reading
// upwards, as a y axis's title). The anchor point is on the baseline.
struct SvgText {
  enum class Anchor { start, middle, end };
  double size = 16.0;
  Anchor anchor = Anchor::start;
  Rgb colour;
  bool bold = false;
  bool up = false;
};

class Svg {
 public:
  Svg() = default;
  // A drawing of width x height user units, shown that many CSS pixels wide and high (a page's
  // style may shrink it); `label` names it for screen readers (role="img").
  Svg(double width, double height, const std::string& label) : width_(width), height_(height) {
    if (!(width > 0.0 && height > 0.0))
      fail("Svg: expected a positive size, got ", width, "x", height);
    label_ = html_escape(label);
  }

  double width() const { return width_; }
  double height() const { return height_; }

  // A rectangle filled with `fill` and/or outlined with `stroke` (centred on its edges).
  Svg& rect(const Box& box, std::optional<Rgb> fill, std::optional<Rgb> stroke = std::nullopt,
            double stroke_width = 1.0) {
    shapes_ += "<rect x=\"" + number(box.x) + "\" y=\"" + number(box.y) + "\" width=\"" +
               number(box.width) + "\" height=\"" + number(box.height) + "\" fill=\"" +
               (fill ? colour(*fill) : "none") + "\"" + stroke_attributes(stroke, stroke_width) +
               "/>\n";
    return *this;
  }
  // Segments through `points` in turn, with round joins and ends.
  Svg& polyline(const std::vector<Point>& points, Rgb stroke, double width) {
    shapes_ += "<polyline points=\"";
    for (std::size_t i = 0; i < points.size(); ++i)
      shapes_ += (i ? " " : "") + number(points[i].x) + "," + number(points[i].y);
    shapes_ += "\" fill=\"none\"" + stroke_attributes(stroke, width) +
               " stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
    return *this;
  }
  Svg& circle(Point centre, double radius, Rgb fill) {
    shapes_ += "<circle cx=\"" + number(centre.x) + "\" cy=\"" + number(centre.y) + "\" r=\"" +
               number(radius) + "\" fill=\"" + colour(fill) + "\"/>\n";
    return *this;
  }
  // `text` with its anchor at `at` (on the baseline), escaped.
  Svg& text(Point at, const std::string& text, const SvgText& style) {
    static const char* const kAnchors[] = {"start", "middle", "end"};
    shapes_ +=
        "<text x=\"" + number(at.x) + "\" y=\"" + number(at.y) + "\" font-size=\"" +
        number(style.size) + "\" text-anchor=\"" + kAnchors[static_cast<int>(style.anchor)] +
        "\" fill=\"" + colour(style.colour) + "\"" + (style.bold ? " font-weight=\"bold\"" : "") +
        (style.up ? " transform=\"rotate(-90 " + number(at.x) + " " + number(at.y) + ")\"" : "") +
        ">" + html_escape(text) + "</text>\n";
    return *this;
  }

  // The <svg> element: viewBox in user units, displayed at that size in CSS pixels.
  std::string markup() const {
    return "<svg width=\"" + number(width_) + "\" height=\"" + number(height_) +
           "\" viewBox=\"0 0 " + number(width_) + " " + number(height_) +
           "\" role=\"img\" aria-label=\"" + label_ + "\" font-family=\"sans-serif\">\n" + shapes_ +
           "</svg>";
  }

  // A coordinate with at most two decimals and no trailing zeros ("12", "12.5", "-0.25").
  static std::string number(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", value);
    std::string s = text;
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
    return s == "-0" ? "0" : s;
  }
  // "#rrggbb".
  static std::string colour(Rgb c) {
    char text[8];
    std::snprintf(text, sizeof text, "#%02x%02x%02x", c.r, c.g, c.b);
    return text;
  }

 private:
  static std::string stroke_attributes(std::optional<Rgb> stroke, double width) {
    if (!stroke) return "";
    return " stroke=\"" + colour(*stroke) + "\" stroke-width=\"" + number(width) + "\"";
  }

  double width_ = 0.0, height_ = 0.0;
  std::string label_;   // escaped
  std::string shapes_;  // the elements inside <svg>, in drawing order
};

}  // namespace minicnn
