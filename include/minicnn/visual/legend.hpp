// Where a chart's legend goes: a pure function from the plot's geometry (its area and the
// polylines drawn in it) to the legend's rectangle, shared by the PNG and the SVG renderers of
// visual/plots.hpp so that both put it in the same place.
//
//   std::optional<Box> spot = free_legend_spot(plot, 140, 50, lines, 6.0);
//   // none: every spot inside the plot touches the data; the chart puts the legend outside.
//
// Coordinates as in visual/geometry.hpp. A legend reads well only where it hides nothing: it must
// keep `clearance` away from every point and segment of the data, so the clearance covers the
// lines' half-width and the markers' radius plus a gap.
#pragma once

#include <algorithm>
#include <optional>
#include <vector>

#include "minicnn/visual/geometry.hpp"

namespace minicnn {

// True when a point of the segment [a, b] lies in `box` (edges included): Liang-Barsky clipping.
// The segment is a + t (b - a) for t in [0, 1]; each of the box's four sides keeps the t on its
// inner side, and the segment meets the box when some t is kept by all four.
inline bool segment_meets_box(Point a, Point b, const Box& box) {
  double enter = 0.0, leave = 1.0;
  // Side k keeps the t with p t <= q: left (-dx, a.x - x), right (dx, right - a.x), top, bottom.
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {a.x - box.x, box.right() - a.x, a.y - box.y, box.bottom() - a.y};
  for (int k = 0; k < 4; ++k) {
    if (p[k] == 0.0) {
      if (q[k] < 0.0) return false;  // parallel to this side and outside it
      continue;
    }
    const double t = q[k] / p[k];
    if (p[k] < 0.0)
      enter = std::max(enter, t);
    else
      leave = std::min(leave, t);
    if (enter > leave) return false;
  }
  return true;
}

// True when a point or segment of a polyline lies within `clearance` of `box`. A polyline of one
// point is a marker.
inline bool polylines_meet_box(const std::vector<std::vector<Point>>& polylines, const Box& box,
                               double clearance) {
  const Box zone = box.grown(clearance);
  for (const std::vector<Point>& line : polylines) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      const Point next = i + 1 < line.size() ? line[i + 1] : line[i];
      if (segment_meets_box(line[i], next, zone)) return true;
    }
  }
  return false;
}

// The first spot inside `plot` for a legend of width x height, `inset` from the plot's edges,
// that keeps `clearance` from every polyline: the four corners (top right, top left, bottom
// right, bottom left: where Matplotlib's "best" looks first), then the middles of the right,
// left, top and bottom sides. None when each spot touches the data or the legend does not fit
// in the plot.
inline std::optional<Box> free_legend_spot(const Box& plot, double width, double height,
                                           const std::vector<std::vector<Point>>& polylines,
                                           double clearance, double inset = 6.0) {
  if (width + 2 * inset > plot.width || height + 2 * inset > plot.height) return std::nullopt;
  const double left = plot.x + inset, right = plot.right() - inset - width;
  const double top = plot.y + inset, bottom = plot.bottom() - inset - height;
  const double centre_x = plot.x + (plot.width - width) / 2;
  const double middle_y = plot.y + (plot.height - height) / 2;
  const Point spots[] = {{right, top},      {left, top},      {right, bottom}, {left, bottom},
                         {right, middle_y}, {left, middle_y}, {centre_x, top}, {centre_x, bottom}};
  for (const Point& spot : spots) {
    const Box box{spot.x, spot.y, width, height};
    if (!polylines_meet_box(polylines, box, clearance)) return box;
  }
  return std::nullopt;
}

}  // namespace minicnn
