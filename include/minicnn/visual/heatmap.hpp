// Heat maps of a matrix with labelled rows and columns and a number in every cell, and the one
// labs look at most: the confusion matrix (rows: true class, columns: predicted class).
//
//   Image image = confusion_heatmap(cm, {"airplane", "automobile", ...});
//
// Colour: white (0) to dark blue (the largest value). NaN cells (a masked diagonal) are drawn
// hatched grey: "not part of the scale". Text is black on light cells, white on dark ones.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "minicnn/analysis/confusion_matrix.hpp"
#include "minicnn/error.hpp"
#include "minicnn/visual/font.hpp"
#include "minicnn/visual/image.hpp"

namespace minicnn {

struct HeatmapOptions {
  std::string title;
  std::string row_title = "true";
  std::string column_title = "predicted";
  Index cell = 40;  // side of a cell, pixels
};

// values (R, C) >= 0 (NaN allowed), row_labels (R), column_labels (C), cell_text R*C strings in
// row-major order or none.
inline Image heatmap(const Eigen::MatrixXd& values, const std::vector<std::string>& row_labels,
                     const std::vector<std::string>& column_labels,
                     const std::vector<std::string>& cell_text,
                     const HeatmapOptions& options = {}) {
  const Index rows = values.rows(), cols = values.cols();
  if (rows < 1 || cols < 1) fail("heatmap: expected at least a 1x1 matrix, got ", rows, "x", cols);
  if (static_cast<Index>(row_labels.size()) != rows ||
      static_cast<Index>(column_labels.size()) != cols)
    fail("heatmap: expected ", rows, " row and ", cols, " column labels, got ", row_labels.size(),
         " and ", column_labels.size());
  if (!cell_text.empty() && static_cast<Index>(cell_text.size()) != rows * cols)
    fail("heatmap: expected ", rows * cols, " cell texts or none, got ", cell_text.size());
  if (options.cell < 12) fail("heatmap: expected cells of at least 12 pixels, got ", options.cell);

  double largest = 0.0;
  for (Index i = 0; i < values.size(); ++i)
    if (std::isfinite(values.data()[i])) largest = std::max(largest, values.data()[i]);

  // Layout: title, column title, column labels (stacked vertically in the cell width when
  // long: each label is cut to what fits), then the grid with the row labels on its left.
  const Index cell = options.cell, gap = 6;
  Index row_label_width = text_width(options.row_title);
  for (const std::string& label : row_labels)
    row_label_width = std::max(row_label_width, text_width(label));
  const Index left = gap + row_label_width + gap;
  Index top = gap;
  const Index title_top = top;
  if (!options.title.empty()) top += text_height(2) + gap;
  const Index column_title_top = top;
  top += text_height() + gap;
  const Index column_labels_top = top;
  top += text_height() + gap;
  const Index width = std::max(left + cols * cell + gap, text_width(options.title, 2) + 2 * gap);
  Image image(width, top + rows * cell + gap, 3);

  const Rgb black{0, 0, 0}, white{255, 255, 255}, dark{8, 48, 107}, grey{200, 200, 200};
  if (!options.title.empty())
    draw_text(image, (width - text_width(options.title, 2)) / 2, title_top, options.title, black,
              2);
  draw_text(image, left + (cols * cell - text_width(options.column_title)) / 2, column_title_top,
            options.column_title, black);
  draw_text(image, gap, column_labels_top, options.row_title, black);
  for (Index c = 0; c < cols; ++c) {
    std::string label = column_labels[static_cast<std::size_t>(c)];
    while (label.size() > 1 && text_width(label) > cell - 2)
      label.pop_back();
    draw_text(image, left + c * cell + (cell - text_width(label)) / 2, column_labels_top, label,
              black);
  }
  for (Index r = 0; r < rows; ++r) {
    const Index y = top + r * cell;
    draw_text(image, left - gap - text_width(row_labels[static_cast<std::size_t>(r)]),
              y + (cell - text_height()) / 2, row_labels[static_cast<std::size_t>(r)], black);
    for (Index c = 0; c < cols; ++c) {
      const Index x = left + c * cell;
      const double v = values(r, c);
      const bool masked = std::isnan(v);
      const double t = masked || largest <= 0.0 ? 0.0 : v / largest;
      const Rgb colour = mix(white, dark, t);
      image.fill_rect(x, y, cell, cell, masked ? Rgb{235, 235, 235} : colour);
      if (masked)
        for (Index k = 0; k < 2 * cell; k += 6)  // hatching: diagonal strokes
          image.draw_line(x + std::max<Index>(0, k - cell + 1), y + std::min(k, cell - 1),
                          x + std::min(k, cell - 1), y + std::max<Index>(0, k - cell + 1), grey);
      image.draw_rect(x, y, cell + 1, cell + 1, grey);
      if (cell_text.empty()) continue;
      const std::string& text = cell_text[static_cast<std::size_t>(r * cols + c)];
      draw_text(image, x + (cell - text_width(text)) / 2 + 1, y + (cell - 7) / 2, text,
                t > 0.5 ? white : black);
    }
  }
  return image;
}

// The confusion matrix as a heat map: counts in the cells, colours by row-normalised share. With
// mask_diagonal, the diagonal is hatched and the colour scale spans the errors only, so the
// confusions stand out instead of the (large) correct counts.
inline Image confusion_heatmap(const ConfusionMatrix& cm, std::vector<std::string> class_names = {},
                               bool mask_diagonal = false, HeatmapOptions options = {}) {
  const Index k = cm.classes();
  if (class_names.empty())
    for (Index c = 0; c < k; ++c)
      class_names.push_back(std::to_string(c));
  if (static_cast<Index>(class_names.size()) != k)
    fail("confusion_heatmap: expected ", k, " class names or none, got ", class_names.size());
  std::vector<std::string> text;
  for (Index r = 0; r < k; ++r)
    for (Index c = 0; c < k; ++c)
      text.push_back(std::to_string(cm.count(r, c)));
  if (options.title.empty())
    options.title = mask_diagonal ? "Confusion matrix (errors)" : "Confusion matrix";
  return heatmap(mask_diagonal ? cm.errors_only() : cm.row_normalized(), class_names, class_names,
                 text, options);
}

}  // namespace minicnn
