// Line charts without a plotting tool: training curves such as loss and accuracy per epoch, with
// axes and their titles, "nice" ticks (1, 2 or 5 times a power of ten) and their labels, a title
// and a legend placed where it hides no data. One layout (line_chart_layout: where every piece
// goes, in the chart's pixels) is drawn two ways: as an RGB Image in the built-in font, for PNG
// files (line_chart), and as SVG with real text, for report.html (line_chart_svg).
//
//   ChartOptions options;
//   options.title = "Loss";
//   options.y_label = "loss";
//   const std::vector<Series> curves = {{"train", history.metric("loss")},
//                                       {"validation", history.metric("val_loss")}};
//   Image png = line_chart(curves, options);
//   Svg svg = line_chart_svg(curves, options);  // the same chart, text and legend in place
//
// Point i of a series is drawn at x = i + 1 (epochs count from 1, as Keras prints them). A value
// that is not finite (NaN, inf) leaves a gap in its line. Text is the built-in font at twice its
// size (lines of 18 pixels, capitals of 14): at 100 % zoom it reads like the page's own text.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/visual/font.hpp"
#include "minicnn/visual/image.hpp"
#include "minicnn/visual/legend.hpp"
#include "minicnn/visual/svg.hpp"

namespace minicnn {

struct Series {
  std::string name;
  std::vector<double> values;
};

struct ChartOptions {
  std::string title;
  std::string x_label = "epoch";  // the x axis's title
  std::string y_label;            // the y axis's title, e.g. "loss"; none when empty
  Index width = 640;
  Index height = 400;
};

// Distinguishable line colours (Matplotlib's tab10 order), used in turn.
inline Rgb series_colour(std::size_t i) {
  static const Rgb kColours[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                 {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127}};
  return kColours[i % (sizeof(kColours) / sizeof(kColours[0]))];
}

// A line of text in a chart. Level text has its box's top at `top` and is aligned on `x` (its
// left edge, centre or right edge); text turned to read upwards (`up`) is centred on (x, top).
struct ChartText {
  enum class Align { left, centre, right };
  std::string text;
  double x = 0.0, top = 0.0;
  Align align = Align::left;
  Rgb colour;
  bool up = false;
  bool bold = false;
};

// Where every piece of a line chart goes, in the chart's pixels (x to the right, y down).
struct ChartLayout {
  double width = 0.0, height = 0.0;
  Box plot;                // the plot area: the y axis on its left edge, the x axis on its bottom
  std::vector<Box> grid;   // light grid lines through the ticks, 1 pixel wide
  std::vector<Box> rules;  // the axes and the tick marks, in black
  std::vector<ChartText> texts;  // title, axis titles, tick labels, legend names
  // Per series, its runs of consecutive finite points (a value that is not finite ends a run).
  std::vector<std::vector<std::vector<Point>>> lines;
  std::vector<Rgb> colours;  // per series
  Box legend;                // inside the plot where it meets no line, else right of the plot
  bool legend_inside = true;
  std::vector<Point> swatches;  // per series, the middle of its sample line in the legend
};

namespace detail {

// The built-in font's scale for every text of a chart, the line height it gives, and how far
// below a line's top the middle of its capitals is.
constexpr Index kChartTextScale = 2;
inline double chart_line_height() {
  return static_cast<double>(text_height(kChartTextScale));
}
constexpr double kChartCapMiddle = 3.5 * kChartTextScale;
// The SVG's font sizes: 16 (the page's own text size) takes about the built-in font's width at
// scale 2 in DejaVu Sans, and less in narrower fonts; its capitals' middle is 0.36 em above the
// baseline.
constexpr double kChartFontSize = 16.0, kChartTitleFontSize = 17.0, kCapMiddleEm = 0.36;
// Room kept for a text: the built-in font's width and 10 % more, since the SVG's font (the
// browser's sans-serif at kChartFontSize) may be a little wider.
inline double chart_text_room(const std::string& text) {
  return 1.1 * static_cast<double>(text_width(text, kChartTextScale));
}
// Line width and marker size (the side of the PNG's square, the diameter of the SVG's disc).
constexpr double kChartLineWidth = 2.0, kChartMarker = 6.0;
// Sample line of a legend row, gaps around it and inside the legend's frame.
constexpr double kSwatchLength = 24.0, kLegendPadding = 8.0;
constexpr Rgb kGridGrey{225, 225, 225}, kLegendFrameGrey{160, 160, 160};

// Ticks covering [low, high]: multiples of a step of 1, 2 or 5 times a power of ten, chosen so
// that there are about `target` of them. Returns the step; first and last ticks in the range.
inline double nice_step(double low, double high, int target) {
  const double raw = (high - low) / std::max(target, 1);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * power) return m * power;
  return 10.0 * power;
}

// A tick label: the shortest of %g with up to 4 significant digits, "0" for rounding noise.
inline std::string tick_label(double value, double step) {
  if (std::abs(value) < step * 1e-9) value = 0.0;
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

// The tick values k * step in [low, high].
inline std::vector<double> tick_values(double low, double high, double step) {
  std::vector<double> values;
  for (double k = std::ceil(low / step - 1e-9); k * step <= high + step * 1e-9; k += 1.0)
    values.push_back(k * step);
  return values;
}

}  // namespace detail

// The layout of a chart of `series`: the data ranges (y over the finite values padded by 5 %,
// x from epoch 1 to the last padded by 3 %), the ticks, the margins their labels and the titles
// need, and the legend: in the first free spot inside the plot (free_legend_spot), or, when each
// spot would cover data, right of a plot made narrower for it.
inline ChartLayout line_chart_layout(const std::vector<Series>& series,
                                     const ChartOptions& options = {}) {
  if (options.width < 240 || options.height < 180)
    fail("line_chart: expected a size of at least 240x180 pixels, got ", options.width, "x",
         options.height);
  if (series.empty()) fail("line_chart: expected at least one series, got none");
  using detail::chart_line_height;
  using detail::chart_text_room;
  using Align = ChartText::Align;
  const Rgb black{0, 0, 0}, text_grey{60, 60, 60};
  const double line = chart_line_height(), gap = 8.0, tick = 5.0;

  std::size_t points = 0;
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (const Series& s : series) {
    points = std::max(points, s.values.size());
    for (double v : s.values)
      if (std::isfinite(v)) {
        low = std::min(low, v);
        high = std::max(high, v);
      }
  }
  if (!(low <= high)) low = 0.0, high = 1.0;  // nothing finite to draw
  if (high - low < 1e-12 * std::max(1.0, std::abs(high))) {
    const double half = std::max(std::abs(high) * 0.1, 0.5);
    low -= half;
    high += half;
  }
  const double margin = 0.05 * (high - low);
  low -= margin;
  high += margin;
  const double x_last = std::max<double>(2.0, static_cast<double>(points));
  const double x_pad = 0.03 * (x_last - 1.0);
  const double x_low = 1.0 - x_pad, x_high = x_last + x_pad;

  ChartLayout c;
  c.width = static_cast<double>(options.width);
  c.height = static_cast<double>(options.height);

  // Ticks: about one per 50 pixels of height (labels 18 pixels high), at most 8 along x.
  const double y_step =
      detail::nice_step(low, high, std::clamp(static_cast<int>(c.height / 50.0), 3, 8));
  const std::vector<double> y_values = detail::tick_values(low, high, y_step);
  const double x_step = std::max(1.0, detail::nice_step(1.0, x_last, 8));
  std::vector<double> x_values;
  for (double t = x_step == 1.0 ? 1.0 : x_step; t <= x_last + 1e-9; t += x_step)
    x_values.push_back(t);

  // Margins: the title above; the y axis's title and tick labels on the left; the x tick labels
  // and the x axis's title below; on the right, half the last x label.
  double label_width = 0.0;
  for (double t : y_values)
    label_width = std::max(label_width, chart_text_room(detail::tick_label(t, y_step)));
  const double y_title_room = options.y_label.empty() ? 0.0 : line + gap;
  const double x_title_room = options.x_label.empty() ? 0.0 : line + gap / 2;
  c.plot.x = gap + y_title_room + label_width + gap;
  c.plot.y = options.title.empty() ? 2 * gap : gap + line + gap;
  const double right_room =
      std::max(2 * gap, chart_text_room(detail::tick_label(x_values.back(), x_step)) / 2 + gap / 2);
  c.plot.width = c.width - right_room - c.plot.x;
  c.plot.height = c.height - (tick + gap / 2 + line + x_title_room + gap) - c.plot.y;

  // The legend's size, then its place: a free spot for the plot as it is, or room on the right.
  double names_width = 0.0;
  for (const Series& s : series)
    names_width = std::max(names_width, chart_text_room(s.name));
  const double row = line + 6.0, pad = detail::kLegendPadding;
  const double legend_width = pad + detail::kSwatchLength + pad + names_width + pad;
  const double legend_height = static_cast<double>(series.size()) * row + pad;
  const auto place_points = [&]() {
    const auto px = [&](double x) {
      return c.plot.x + (x - x_low) / (x_high - x_low) * c.plot.width;
    };
    const auto py = [&](double y) {
      return c.plot.bottom() - (y - low) / (high - low) * c.plot.height;
    };
    c.lines.assign(series.size(), {});
    for (std::size_t k = 0; k < series.size(); ++k) {
      std::vector<Point> run;
      const std::vector<double>& v = series[k].values;
      for (std::size_t i = 0; i <= v.size(); ++i) {
        if (i < v.size() && std::isfinite(v[i])) {
          run.push_back({px(static_cast<double>(i + 1)), py(v[i])});
        } else if (!run.empty()) {
          c.lines[k].push_back(run);
          run.clear();
        }
      }
    }
  };
  place_points();
  std::vector<std::vector<Point>> all_runs;
  for (const auto& runs : c.lines)
    all_runs.insert(all_runs.end(), runs.begin(), runs.end());
  const double clearance = detail::kChartMarker / 2 + detail::kChartLineWidth / 2 + 4.0;
  if (const std::optional<Box> spot =
          free_legend_spot(c.plot, legend_width, legend_height, all_runs, clearance)) {
    c.legend = *spot;
  } else {
    c.legend_inside = false;
    c.plot.width -= legend_width + 2 * gap;
    c.legend = {c.plot.right() + 2 * gap, c.plot.y, legend_width, legend_height};
    place_points();
  }
  for (std::size_t k = 0; k < series.size(); ++k) {
    const double row_top = c.legend.y + pad / 2 + static_cast<double>(k) * row;
    c.swatches.push_back({c.legend.x + pad + detail::kSwatchLength / 2, row_top + row / 2});
    c.texts.push_back({series[k].name, c.legend.x + pad + detail::kSwatchLength + pad,
                       row_top + row / 2 - detail::kChartCapMiddle, Align::left, black});
    c.colours.push_back(series_colour(k));
  }

  // Grid, axes and ticks with their labels. Pixel rows and columns are whole numbers, so that
  // 1-pixel lines stay sharp.
  const double x0 = std::round(c.plot.x), y0 = std::round(c.plot.bottom());
  for (double t : y_values) {
    const double y = std::round(c.plot.bottom() - (t - low) / (high - low) * c.plot.height);
    c.grid.push_back({x0, y, std::round(c.plot.right()) - x0, 1.0});
    c.rules.push_back({x0 - tick, y, tick, 1.0});
    c.texts.push_back({detail::tick_label(t, y_step), x0 - tick - 3.0, y - detail::kChartCapMiddle,
                       Align::right, text_grey});
  }
  for (double t : x_values) {
    const double x = std::round(c.plot.x + (t - x_low) / (x_high - x_low) * c.plot.width);
    c.grid.push_back({x, std::round(c.plot.y), 1.0, y0 - std::round(c.plot.y)});
    c.rules.push_back({x, y0, 1.0, tick});
    c.texts.push_back(
        {detail::tick_label(t, x_step), x, y0 + tick + gap / 2, Align::centre, text_grey});
  }
  c.rules.push_back({x0, std::round(c.plot.y), 1.0, y0 - std::round(c.plot.y) + 1.0});  // y axis
  c.rules.push_back({x0, y0, std::round(c.plot.right()) - x0 + 1.0, 1.0});              // x axis

  // Titles: the chart's centred over the picture, the axes' centred on their axis.
  if (!options.title.empty())
    c.texts.push_back({options.title, c.width / 2, gap, Align::centre, black, false, true});
  if (!options.x_label.empty())
    c.texts.push_back({options.x_label, c.plot.x + c.plot.width / 2, c.height - gap - line,
                       Align::centre, black});
  if (!options.y_label.empty())
    c.texts.push_back({options.y_label, gap + line / 2, c.plot.y + c.plot.height / 2, Align::centre,
                       black, true});
  return c;
}

// The chart as an RGB Image of options.width x options.height pixels: lines 2 pixels wide,
// a square dot on every point (a single epoch is a dot), text in the built-in font.
inline Image line_chart(const std::vector<Series>& series, const ChartOptions& options = {}) {
  const ChartLayout c = line_chart_layout(series, options);
  const auto pixel = [](double v) { return static_cast<Index>(std::lround(v)); };
  const auto fill = [&](Image& image, const Box& b, Rgb colour) {
    image.fill_rect(pixel(b.x), pixel(b.y), pixel(b.width), pixel(b.height), colour);
  };
  Image image(options.width, options.height, 3);
  for (const Box& b : c.grid)
    fill(image, b, detail::kGridGrey);
  for (const Box& b : c.rules)
    fill(image, b, {0, 0, 0});

  const Index marker = static_cast<Index>(detail::kChartMarker) - 1;  // odd: centred on the point
  const auto dot = [&](Point p, Rgb colour) {
    image.fill_rect(pixel(p.x) - marker / 2, pixel(p.y) - marker / 2, marker, marker, colour);
  };
  for (std::size_t k = 0; k < c.lines.size(); ++k)
    for (const std::vector<Point>& run : c.lines[k])
      for (std::size_t i = 0; i < run.size(); ++i) {
        dot(run[i], c.colours[k]);
        if (i + 1 < run.size())
          image.draw_line(pixel(run[i].x), pixel(run[i].y), pixel(run[i + 1].x),
                          pixel(run[i + 1].y), c.colours[k],
                          static_cast<Index>(detail::kChartLineWidth));
      }

  const Box& l = c.legend;
  fill(image, l, {255, 255, 255});
  image.draw_rect(pixel(l.x), pixel(l.y), pixel(l.width), pixel(l.height),
                  detail::kLegendFrameGrey);
  for (std::size_t k = 0; k < c.swatches.size(); ++k) {
    const Point s = c.swatches[k];
    fill(image, {s.x - detail::kSwatchLength / 2, s.y - 1.0, detail::kSwatchLength, 2.0},
         c.colours[k]);
    dot(s, c.colours[k]);
  }

  const Index scale = detail::kChartTextScale;
  for (const ChartText& t : c.texts) {
    const Index width = text_width(t.text, scale);
    if (t.up) {
      draw_text_up(image, pixel(t.x) - text_height(scale) / 2, pixel(t.top) - width / 2, t.text,
                   t.colour, scale);
      continue;
    }
    const Index left = t.align == ChartText::Align::left     ? pixel(t.x)
                       : t.align == ChartText::Align::centre ? pixel(t.x) - width / 2
                                                             : pixel(t.x) - width;
    draw_text(image, left, pixel(t.top), t.text, t.colour, scale);
    if (t.bold) draw_text(image, left + 1, pixel(t.top), t.text, t.colour, scale);
  }
  return image;
}

// The chart as SVG (for report.html): the layout of line_chart, so the same ticks, titles and
// legend spot, with the lines as polylines, a disc on every point and the text as <text>
// elements in the browser's sans-serif, centred where the PNG's is.
inline Svg line_chart_svg(const std::vector<Series>& series, const ChartOptions& options = {}) {
  const ChartLayout c = line_chart_layout(series, options);
  Svg svg(c.width, c.height, options.title.empty() ? "line chart" : options.title);
  svg.rect({0, 0, c.width, c.height}, Rgb{255, 255, 255});
  for (const Box& b : c.grid)
    svg.rect(b, detail::kGridGrey);
  for (const Box& b : c.rules)
    svg.rect(b, Rgb{0, 0, 0});

  const double radius = detail::kChartMarker / 2;
  for (std::size_t k = 0; k < c.lines.size(); ++k)
    for (const std::vector<Point>& run : c.lines[k]) {
      if (run.size() > 1) svg.polyline(run, c.colours[k], detail::kChartLineWidth);
      for (const Point& p : run)
        svg.circle(p, radius, c.colours[k]);
    }

  // The frame's 1-unit stroke on half units, so that it covers whole pixels.
  const Box& l = c.legend;
  svg.rect({std::round(l.x) + 0.5, std::round(l.y) + 0.5, std::round(l.width) - 1,
            std::round(l.height) - 1},
           Rgb{255, 255, 255}, detail::kLegendFrameGrey);
  for (std::size_t k = 0; k < c.swatches.size(); ++k) {
    const Point s = c.swatches[k];
    const double half = detail::kSwatchLength / 2;
    svg.polyline({{s.x - half, s.y}, {s.x + half, s.y}}, c.colours[k], detail::kChartLineWidth)
        .circle(s, radius, c.colours[k]);
  }

  using Anchor = SvgText::Anchor;
  for (const ChartText& t : c.texts) {
    const double size = t.bold ? detail::kChartTitleFontSize : detail::kChartFontSize;
    const Anchor anchor = t.align == ChartText::Align::left     ? Anchor::start
                          : t.align == ChartText::Align::centre ? Anchor::middle
                                                                : Anchor::end;
    // Level text: capitals centred kChartCapMiddle below the top, as the built-in font's; text
    // turned upwards: centred on (x, top), its baseline left of x once turned.
    const double middle = t.up ? t.top : t.top + detail::kChartCapMiddle;
    const double baseline_offset = detail::kCapMiddleEm * size;
    const Point at =
        t.up ? Point{t.x + baseline_offset, middle} : Point{t.x, middle + baseline_offset};
    svg.text(at, t.text, {size, t.up ? Anchor::middle : anchor, t.colour, t.bold, t.up});
  }
  return svg;
}

}  // namespace minicnn
