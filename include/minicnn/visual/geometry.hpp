// Points and rectangles of a picture, in its coordinates: x to the right, y downwards, in pixels
// (a PNG's, or an SVG's user units), as doubles so that layouts keep fractions until drawn.
#pragma once

namespace minicnn {

struct Point {
  double x = 0.0, y = 0.0;
};

// The rectangle [x, x + width] x [y, y + height].
struct Box {
  double x = 0.0, y = 0.0, width = 0.0, height = 0.0;
  double right() const { return x + width; }
  double bottom() const { return y + height; }
  // The same rectangle with `margin` more on every side.
  Box grown(double margin) const {
    return {x - margin, y - margin, width + 2 * margin, height + 2 * margin};
  }
};

}  // namespace minicnn
