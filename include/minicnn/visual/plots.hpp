// Line charts drawn straight into an RGB Image (no plotting tool): training curves such as loss
// and accuracy per epoch, with axes, "nice" ticks (1, 2 or 5 times a power of ten), tick labels,
// a title and a legend, all in the built-in font.
//
//   Image chart = line_chart({{"loss", history.metric("loss")},
//                             {"val_loss", history.metric("val_loss")}},
//                            {"Loss", "epoch"});
//
// Point i of a series is drawn at x = i + 1 (epochs count from 1, as Keras prints them). A value
// that is not finite (NaN, inf) leaves a gap in its line.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/visual/font.hpp"
#include "minicnn/visual/image.hpp"

namespace minicnn {

struct Series {
  std::string name;
  std::vector<double> values;
};

struct ChartOptions {
  std::string title;
  std::string x_label = "epoch";
  Index width = 640;
  Index height = 400;
};

// Distinguishable line colours (Matplotlib's tab10 order), used in turn.
inline Rgb series_colour(std::size_t i) {
  static const Rgb kColours[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                 {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127}};
  return kColours[i % (sizeof(kColours) / sizeof(kColours[0]))];
}

namespace detail {

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

}  // namespace detail

inline Image line_chart(const std::vector<Series>& series, const ChartOptions& options = {}) {
  if (options.width < 160 || options.height < 120)
    fail("line_chart: expected a size of at least 160x120 pixels, got ", options.width, "x",
         options.height);
  if (series.empty()) fail("line_chart: expected at least one series, got none");

  // Data range: y over the finite values, padded by 5%.
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
  // x from epoch 1 to the last, padded by 3% so that the end points clear the axes.
  const double x_last = std::max<double>(2.0, static_cast<double>(points));
  const double x_pad = 0.03 * (x_last - 1.0);
  const double x_low = 1.0 - x_pad, x_high = x_last + x_pad;

  const Rgb black{0, 0, 0}, grid_grey{225, 225, 225}, text_grey{60, 60, 60};
  Image image(options.width, options.height, 3);

  // Plot area: room on the left for the y tick labels, below for the x ticks and label, above
  // for the title.
  const double y_step = detail::nice_step(low, high, 6);
  Index label_width = 0;
  for (double t = std::ceil(low / y_step) * y_step; t <= high; t += y_step)
    label_width = std::max(label_width, text_width(detail::tick_label(t, y_step)));
  const Index left = label_width + 14, right = options.width - 12;
  const Index top = options.title.empty() ? 12 : 12 + text_height(2) + 8;
  const Index bottom = options.height - (text_height() * 2 + 16);
  const auto px = [&](double x) {
    return left + static_cast<Index>(std::lround((x - x_low) / (x_high - x_low) * (right - left)));
  };
  const auto py = [&](double y) {
    return bottom - static_cast<Index>(std::lround((y - low) / (high - low) * (bottom - top)));
  };

  // Grid lines and tick labels.
  for (double t = std::ceil(low / y_step) * y_step; t <= high; t += y_step) {
    const Index y = py(t);
    image.fill_rect(left, y, right - left, 1, grid_grey);
    image.fill_rect(left - 4, y, 4, 1, black);
    const std::string label = detail::tick_label(t, y_step);
    draw_text(image, left - 6 - text_width(label), y - 4, label, text_grey);
  }
  const double x_step = std::max(1.0, detail::nice_step(1.0, x_last, 8));
  for (double t = x_step == 1.0 ? 1.0 : x_step; t <= x_last + 1e-9; t += x_step) {
    const Index x = px(t);
    image.fill_rect(x, top, 1, bottom - top, grid_grey);
    image.fill_rect(x, bottom, 1, 4, black);
    const std::string label = detail::tick_label(t, x_step);
    draw_text(image, x - text_width(label) / 2, bottom + 6, label, text_grey);
  }
  image.fill_rect(left, top, 1, bottom - top + 1, black);     // y axis
  image.fill_rect(left, bottom, right - left + 1, 1, black);  // x axis
  draw_text(image, (left + right - text_width(options.x_label)) / 2,
            options.height - text_height() - 4, options.x_label, text_grey);
  if (!options.title.empty())
    draw_text(image, (options.width - text_width(options.title, 2)) / 2, 10, options.title, black,
              2);

  // The lines, 2 pixels wide, with a dot on every point (a single epoch is a dot).
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Rgb colour = series_colour(k);
    const std::vector<double>& v = series[k].values;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!std::isfinite(v[i])) continue;
      const Index x = px(static_cast<double>(i + 1)), y = py(v[i]);
      image.fill_rect(x - 2, y - 2, 5, 5, colour);
      if (i + 1 < v.size() && std::isfinite(v[i + 1]))
        image.draw_line(x, y, px(static_cast<double>(i + 2)), py(v[i + 1]), colour, 2);
    }
  }

  // Legend, top right inside the plot: a swatch and the name of each series on white.
  Index legend_width = 0;
  for (const Series& s : series)
    legend_width = std::max(legend_width, text_width(s.name));
  legend_width += 30;
  const Index row = text_height() + 5;
  const Index legend_height = static_cast<Index>(series.size()) * row + 6;
  const Index lx = right - legend_width - 6, ly = top + 6;
  image.fill_rect(lx, ly, legend_width, legend_height, {255, 255, 255});
  image.draw_rect(lx, ly, legend_width, legend_height, {160, 160, 160});
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Index y = ly + 4 + static_cast<Index>(k) * row;
    image.fill_rect(lx + 6, y + 3, 16, 3, series_colour(k));
    draw_text(image, lx + 26, y, series[k].name, black);
  }
  return image;
}

}  // namespace minicnn
