// The geometry of a 2-D sliding window over one (C, H, W) sample, and the im2col lowering that
// turns a convolution into one matrix product.
//
// im2col copies every window of the sample into one column of a matrix:
//
//   columns (C*KH*KW, OH*OW),   columns[(c*KH + i)*KW + j, oh*OW + ow] = x[c, ih, iw]
//   with ih = oh*SH + i*DH - pad_top,  iw = ow*SW + j*DW - pad_left   (0 where ih, iw fall in
//   the padding; DH, DW the dilation, 1 but for dilated convolutions)
//
// so that a convolution with a kernel W (F, C, KH, KW), read as an F x C*KH*KW matrix, is the
// product W * columns (F, OH*OW). col2im is the adjoint (transpose) of im2col: it adds every
// column entry back onto the input element it was copied from (entries of the padding are
// dropped), which is exactly how the gradient flows back from the columns to the input.
//
// Conv2D, MaxPool2D and AvgPool2D share WindowGeometry, so the three agree on shapes, padding
// and error messages.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "minicnn/error.hpp"
#include "minicnn/layers/window.hpp"
#include "minicnn/shape.hpp"

namespace minicnn {

// Throws unless both extents of a kernel or stride are positive; `kind` is the layer type (the
// layer has no name yet at construction) and `what` the argument ("kernel_size", "strides").
inline void check_window_argument(const std::string& kind, const char* what, Size2 size) {
  if (size.height <= 0 || size.width <= 0)
    fail(kind, ": expected ", what, " > 0 in both axes, got ", size.str());
}

// Where a KH x KW window with strides (SH, SW) and dilation (DH, DW) sits on a (C, H, W) sample:
// output size and the padding on each side. Tap (i, j) of output (oh, ow)'s window reads input
// row oh*SH + i*DH - pad_top and column ow*SW + j*DW - pad_left (input_row, input_col). See
// window.hpp for the 'valid', 'same' and explicit padding rules. The pooling layers have no
// dilation (DH = DW = 1).
struct WindowGeometry {
  Index channels = 0, height = 0, width = 0;  // the input sample (C, H, W)
  Index kernel_h = 0, kernel_w = 0;
  Index stride_h = 0, stride_w = 0;
  Index dilation_h = 1, dilation_w = 1;
  Index pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  Index out_h = 0, out_w = 0;

  // Validates a sample shape for a layer labelled `label` whose window is called `window`
  // ("kernel", "pool") and lays the window out on it with Keras's 'valid' or 'same' rule.
  static WindowGeometry of(const std::string& label, const char* window, const Shape& sample,
                           Size2 kernel, Size2 strides, Padding padding, Size2 dilation = 1) {
    check_sample(label, sample);
    const Size2 span = dilated_span(label, window, kernel, dilation);
    const WindowAxis rows = window_axis(sample[1], span.height, strides.height, padding);
    const WindowAxis cols = window_axis(sample[2], span.width, strides.width, padding);
    if ((rows.output == 0 || cols.output == 0) && dilation == Size2(1))
      fail(label, ": the ", kernel.str(), " ", window, " does not fit the ", sample[1], "x",
           sample[2], " input with 'valid' padding; use 'same' padding or a smaller ", window);
    return laid_out(label, window, sample, kernel, strides, dilation, span, rows, cols,
                    "'" + to_string(padding) + "' padding");
  }

  // The same with explicit pads (Conv2D): the 'valid' rule on the padded input.
  static WindowGeometry of(const std::string& label, const char* window, const Shape& sample,
                           Size2 kernel, Size2 strides, Pads pads, Size2 dilation = 1) {
    check_sample(label, sample);
    if (!padded_extent_fits(sample[1], pads.top, pads.bottom) ||
        !padded_extent_fits(sample[2], pads.left, pads.right))
      fail(label, ": expected the padded input to have at most ", kLargestIndex,
           " rows and columns, got the ", sample[1], "x", sample[2], " input with pads ",
           pads.str());
    const Size2 span = dilated_span(label, window, kernel, dilation);
    const WindowAxis rows =
        window_axis(sample[1], span.height, strides.height, pads.top, pads.bottom);
    const WindowAxis cols =
        window_axis(sample[2], span.width, strides.width, pads.left, pads.right);
    return laid_out(label, window, sample, kernel, strides, dilation, span, rows, cols,
                    "pads " + pads.str());
  }

  Index patch_size() const { return channels * kernel_h * kernel_w; }  // rows of the columns
  Index positions() const { return out_h * out_w; }                    // columns of the columns
  Index plane() const { return height * width; }
  Pads pads() const { return Pads(pad_top, pad_bottom, pad_left, pad_right); }
  // A one-pixel window with stride 1 and no padding (a pointwise convolution): im2col of a sample
  // is the sample itself, (C, H*W).
  bool lowers_to_itself() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pads() == Pads(0);
  }

  // The input row (column) that tap i (j) of output row oh (column ow) reads; outside
  // [0, height) ([0, width)) it is in the padding.
  Index input_row(Index oh, Index i) const { return oh * stride_h + i * dilation_h - pad_top; }
  Index input_col(Index ow, Index j) const { return ow * stride_w + j * dilation_w - pad_left; }

  // The output positions o in [begin, end) whose window tap at `offset` (the tap's index times
  // the dilation) lands inside the input: 0 <= o*stride + offset - pad < extent. Lets the copy
  // loops run without a bounds test per element. begin <= end <= outputs; with explicit pads a
  // tap may read nothing but padding (begin = end).
  struct Range {
    Index begin, end;
  };
  static Range inside(Index offset, Index pad, Index stride, Index extent, Index outputs) {
    const Index low = pad - offset;                // need o*stride >= low
    const Index high = extent - 1 + pad - offset;  // need o*stride <= high
    const Index begin = low <= 0 ? 0 : std::min(outputs, (low + stride - 1) / stride);
    const Index end = high < 0 ? 0 : std::min(outputs, high / stride + 1);
    return {begin, std::max(begin, end)};
  }
  Range inside_rows(Index i) const {
    return inside(i * dilation_h, pad_top, stride_h, height, out_h);
  }
  Range inside_cols(Index j) const {
    return inside(j * dilation_w, pad_left, stride_w, width, out_w);
  }

 private:
  static void check_sample(const std::string& label, const Shape& sample) {
    if (sample.rank() != 3)
      fail(label, ": expected input of rank 3 per sample (channels, height, width), got ", sample);
    if (sample.size() == 0) fail(label, ": expected a non-empty input, got ", sample);
  }

  // The rows and columns the dilated window spans, refused when they exceed an Index (a
  // checkpoint's config may hold any dilation).
  static Size2 dilated_span(const std::string& label, const char* window, Size2 kernel,
                            Size2 dilation) {
    if (!dilated_extent_fits(kernel.height, dilation.height) ||
        !dilated_extent_fits(kernel.width, dilation.width))
      fail(label, ": expected the ", kernel.str(), " ", window, " dilated by ", dilation.str(),
           " to span at most ", kLargestIndex, " rows and columns");
    return Size2(dilated_extent(kernel.height, dilation.height),
                 dilated_extent(kernel.width, dilation.width));
  }

  // The geometry, once the axes are known; refuses a window whose dilated span does not fit the
  // padded input, `padding` saying how it was padded.
  static WindowGeometry laid_out(const std::string& label, const char* window, const Shape& sample,
                                 Size2 kernel, Size2 strides, Size2 dilation, Size2 span,
                                 WindowAxis rows, WindowAxis cols, const std::string& padding) {
    if (rows.output == 0 || cols.output == 0)
      fail(label, ": the ", kernel.str(), " ", window,
           dilation == Size2(1) ? "" : " dilated by " + dilation.str(), " does not fit the ",
           sample[1], "x", sample[2], " input with ", padding,
           "; expected a padded input of at least ", span.str(), ", got ",
           Size2(sample[1] + rows.pad_before + rows.pad_after,
                 sample[2] + cols.pad_before + cols.pad_after)
               .str());
    WindowGeometry g;
    g.channels = sample[0];
    g.height = sample[1];
    g.width = sample[2];
    g.kernel_h = kernel.height;
    g.kernel_w = kernel.width;
    g.stride_h = strides.height;
    g.stride_w = strides.width;
    g.dilation_h = dilation.height;
    g.dilation_w = dilation.width;
    g.pad_top = rows.pad_before;
    g.pad_bottom = rows.pad_after;
    g.pad_left = cols.pad_before;
    g.pad_right = cols.pad_after;
    g.out_h = rows.output;
    g.out_w = cols.output;
    return g;
  }
};

// to[o] += from[o] for o in [begin, end): one row of col2im with unit stride, added in blocks of
// 64, 32, 16, 8 and 4 bytes (vectors of those sizes), as copy_run copies: a plain loop, which the
// compiler vectorises with a scalar remainder and overlap checks, took twice as long on rows of
// a few dozen elements.
template <std::size_t kBytes, typename T>
void add_block(const T* from, T* to) {
  typedef T Vector __attribute__((vector_size(kBytes)));
  Vector addend, sum;
  std::memcpy(&addend, from, kBytes);
  std::memcpy(&sum, to, kBytes);
  sum += addend;
  std::memcpy(to, &sum, kBytes);
}
template <typename T>
void add_run(const T* from, Index begin, Index end, T* to) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "add_run adds floats or doubles");
  if (end <= begin) return;
  from += begin;
  to += begin;
  std::size_t bytes = static_cast<std::size_t>(end - begin) * sizeof(T);
  constexpr std::size_t kStep = 64 / sizeof(T);
  for (; bytes >= 64; bytes -= 64, from += kStep, to += kStep)
    add_block<64>(from, to);
  if (bytes & 32) {
    add_block<32>(from, to);
    from += 32 / sizeof(T);
    to += 32 / sizeof(T);
  }
  if (bytes & 16) {
    add_block<16>(from, to);
    from += 16 / sizeof(T);
    to += 16 / sizeof(T);
  }
  if (bytes & 8) {
    add_block<8>(from, to);  // one double, or two floats
    from += 8 / sizeof(T);
    to += 8 / sizeof(T);
  }
  if (bytes & 4) *to += *from;  // one float
}

// to[o] = from[o] for o in [begin, end): one row of im2col with unit stride. Copied in blocks of
// 64, 32, 16, 8 and 4 bytes by fixed-size memcpy calls, which the compiler turns into single
// vector loads and stores: a plain loop or std::copy becomes one call to memmove per row, and for
// rows of a few dozen elements the calls cost more than the copying.
template <typename T>
void copy_run(const T* from, Index begin, Index end, T* to) {
  static_assert(sizeof(T) % 4 == 0, "copy_run copies whole 4-byte words");
  if (end <= begin) return;
  const char* source = reinterpret_cast<const char*>(from + begin);
  char* target = reinterpret_cast<char*>(to + begin);
  std::size_t bytes = static_cast<std::size_t>(end - begin) * sizeof(T);
  for (; bytes >= 64; bytes -= 64, source += 64, target += 64)
    std::memcpy(target, source, 64);
  for (std::size_t block = 32; block >= 4; block /= 2)
    if (bytes & block) {
      std::memcpy(target, source, block);
      source += block;
      target += block;
    }
}

// [begin, end) = 0: im2col's padding entries. std::fill of zeros becomes a call to memset even
// for an empty range, and most rows of the columns have no padding at all.
template <typename T>
void clear(T* begin, T* end) {
  if (begin < end) std::fill(begin, end, T(0));
}

// The runs of one row of the columns whose every value lies inside the input (a window offset
// (i, j) that never reaches the padding, stride 1 across columns): `runs` runs of OW values, the
// r-th from from + r * from_step to to + r * OW. With kBytes > 0, a run is copied as one block of
// kBytes >= OW * sizeof(T) bytes (a pair of vector load and store): its excess lands where the
// next run of the row goes, and that run, copied after it, overwrites it. Blocks are used only
// while they end before `to_end` (the end of the sample's block of the row) and read before
// `from_end` (the end of the sample); the last runs are copied exactly.
template <std::size_t kBytes, typename T>
void copy_runs(const T* from, Index from_step, const T* from_end, T* to, const T* to_end,
               Index length, Index runs) {
  Index r = 0;
  if constexpr (kBytes > 0) {
    constexpr Index kBlock = static_cast<Index>(kBytes / sizeof(T));
    for (; r < runs; ++r) {
      const T* source = from + r * from_step;
      T* target = to + r * length;
      if (from_end - source < kBlock || to_end - target < kBlock) break;  // runs only move on
      std::memcpy(target, source, kBytes);
    }
  }
  for (; r < runs; ++r)
    copy_run(from + r * from_step, 0, length, to + r * length);
}

// copy_runs for a window offset (i, j) whose outputs [0, begin) and [end, OW) of every run fall
// in the left and right padding ('same' padding): each run gets its zeros and the copy of its
// middle part from from + r * from_step (the input element of output column `begin`), as one
// block of kBytes where bounds allow. The block's excess lands on the rest of the run and on the
// next run, which are written after it: the run's trailing zeros, then the next run's leading
// zeros and block. Kept apart from copy_runs: rows without padding, the most common, ran
// measurably slower through this loop (docs/performance.md).
template <std::size_t kBytes, typename T>
void copy_padded_runs(const T* from, Index from_step, const T* from_end, T* to, const T* to_end,
                      Index length, Index begin, Index end, Index runs) {
  constexpr Index kBlock = static_cast<Index>(kBytes / sizeof(T));
  for (Index r = 0; r < runs; ++r) {
    const T* source = from + r * from_step;
    T* target = to + r * length;
    clear(target, target + begin);
    if (kBytes > 0 && from_end - source >= kBlock && to_end - (target + begin) >= kBlock)
      std::memcpy(target + begin, source, kBytes);
    else
      copy_run(source, 0, end - begin, target + begin);
    clear(target + end, target + length);
  }
}

// im2col with runs copied in blocks of kBytes (0: exactly); see im2col below.
// The geometry is copied into a local: the copies' memcpy stores could otherwise be taken to
// change the caller's `geometry`, whose fields would then be reloaded for every run (which the
// dilation's two extra fields per tap made measurable).
template <std::size_t kBytes, typename T>
void im2col_in_blocks(const WindowGeometry& geometry, const T* image, T* columns,
                      Index row_stride) {
  const WindowGeometry g = geometry;
  const Index positions = g.positions();
  const T* image_end = image + g.channels * g.plane();
  for (Index c = 0; c < g.channels; ++c) {
    const T* plane = image + c * g.plane();
    for (Index i = 0; i < g.kernel_h; ++i) {
      const auto rows = g.inside_rows(i);
      for (Index j = 0; j < g.kernel_w; ++j) {
        const auto cols = g.inside_cols(j);
        T* row = columns + ((c * g.kernel_h + i) * g.kernel_w + j) * row_stride;
        clear(row, row + rows.begin * g.out_w);
        if (g.stride_w == 1 && cols.begin == 0 && cols.end == g.out_w && rows.begin < rows.end) {
          const Index base = g.input_row(rows.begin, i) * g.width + g.input_col(0, j);
          copy_runs<kBytes>(plane + base, g.stride_h * g.width, image_end,
                            row + rows.begin * g.out_w, row + positions, g.out_w,
                            rows.end - rows.begin);
        } else if (g.stride_w == 1 && rows.begin < rows.end && cols.begin < cols.end) {
          // The input element of output (rows.begin, cols.begin), inside the input.
          const Index first = g.input_row(rows.begin, i) * g.width + g.input_col(cols.begin, j);
          copy_padded_runs<kBytes>(plane + first, g.stride_h * g.width, image_end,
                                   row + rows.begin * g.out_w, row + positions, g.out_w, cols.begin,
                                   cols.end, rows.end - rows.begin);
        } else {  // strides across columns, or no output of the row reads inside the input
          for (Index oh = rows.begin; oh < rows.end; ++oh) {
            T* out = row + oh * g.out_w;
            // x[c, ih, iw] sits at plane[base + ow*SW]; base alone may be negative (padding).
            const Index base = g.input_row(oh, i) * g.width + g.input_col(0, j);
            clear(out, out + cols.begin);
            for (Index ow = cols.begin; ow < cols.end; ++ow)
              out[ow] = plane[base + ow * g.stride_w];
            clear(out + cols.end, out + g.out_w);
          }
        }
        clear(row + rows.end * g.out_w, row + positions);
      }
    }
  }
}

// columns (C*KH*KW, OH*OW) <- the windows of one sample `image` (C, H, W); see the top of the file.
// Every entry is written (padding as 0), so `columns` needs no clearing. Row r of the columns
// starts at columns + r * row_stride: with row_stride = S*OH*OW and columns advanced by s*OH*OW,
// S samples fill one wide matrix (C*KH*KW, S*OH*OW) side by side, for one larger product. Writes
// nothing outside the sample's block of each row, reads nothing outside the sample.
// Output rows of up to 256 bytes are copied in blocks of the smallest power of two, 16 to 256
// bytes, that holds one (copy_runs): on mnist_model4's convolutions that halves the time of a
// copy per run.
template <typename T>
void im2col(const WindowGeometry& g, const T* image, T* columns, Index row_stride) {
  const auto bytes = static_cast<std::size_t>(g.out_w) * sizeof(T);
  if (bytes <= 16)
    im2col_in_blocks<16>(g, image, columns, row_stride);
  else if (bytes <= 32)
    im2col_in_blocks<32>(g, image, columns, row_stride);
  else if (bytes <= 64)
    im2col_in_blocks<64>(g, image, columns, row_stride);
  else if (bytes <= 128)
    im2col_in_blocks<128>(g, image, columns, row_stride);
  else if (bytes <= 256)
    im2col_in_blocks<256>(g, image, columns, row_stride);
  else
    im2col_in_blocks<0>(g, image, columns, row_stride);
}

// image (C, H, W) += the adjoint of im2col applied to `columns` (C*KH*KW, OH*OW): each entry is
// added to the input element im2col copied it from; entries from the padding are dropped. Since
// windows overlap, one input element receives several entries, so this ACCUMULATES: clear
// `image` first to get col2im alone. Rows of `columns` are row_stride apart, as in im2col.
template <typename T>
void col2im(const WindowGeometry& geometry, const T* columns, T* image, Index row_stride) {
  const WindowGeometry g = geometry;  // a local, as in im2col_in_blocks
  for (Index c = 0; c < g.channels; ++c) {
    T* plane = image + c * g.plane();
    for (Index i = 0; i < g.kernel_h; ++i) {
      const auto rows = g.inside_rows(i);
      for (Index j = 0; j < g.kernel_w; ++j) {
        const auto cols = g.inside_cols(j);
        const T* row = columns + ((c * g.kernel_h + i) * g.kernel_w + j) * row_stride;
        // Entry ow of output row oh goes to plane[base + ow*SW], base moving SH input rows per
        // output row (base alone may be negative: padding).
        const Index step = g.stride_h * g.width;
        Index base = g.input_row(rows.begin, i) * g.width + g.input_col(0, j);
        for (Index oh = rows.begin; oh < rows.end; ++oh, base += step) {
          const T* in = row + oh * g.out_w;
          if (g.stride_w == 1) {
            add_run(in, cols.begin, cols.end, plane + base);
          } else {
            for (Index ow = cols.begin; ow < cols.end; ++ow)
              plane[base + ow * g.stride_w] += in[ow];
          }
        }
      }
    }
  }
}

// One sample's columns alone: rows of OH*OW entries.
// Row r of a lowered matrix, columns [first_column, first_column + count), from `values`, into
// panels of `panel_width` columns over `rows` rows (gemm::multiply_packed's layout: element
// (r, j) at panels + (j / panel_width * rows + r) * panel_width + j % panel_width), in runs that
// stop at the panels' edges.
template <typename T>
void copy_into_panels(const T* values, Index count, Index first_column, Index r, Index rows,
                      Index panel_width, T* panels) {
  for (Index done = 0; done < count;) {
    const Index column = first_column + done, lane = column % panel_width;
    const Index run = std::min(panel_width - lane, count - done);
    copy_run(values + done, 0, run,
             panels + (column / panel_width * rows + r) * panel_width + lane);
    done += run;
  }
}

// The columns of one sample (im2col above) written straight into panels of `panel_width` columns
// (copy_into_panels), the sample's block starting at column first_column of a lowered matrix of
// C*KH*KW rows: a product that reads packed panels (gemm::multiply_packed) then needs no packing
// pass over a lowered matrix written just before. One channel's KH*KW rows at a time go through
// `scratch` (KH*KW x OH*OW values, a few kB to tens of kB: cache-resident); a one-pixel window
// with stride 1 and no padding reads the channel's plane itself.
template <typename T>
void im2col_panels(const WindowGeometry& g, const T* image, Index first_column, Index panel_width,
                   T* panels, T* scratch) {
  const Index positions = g.positions(), taps = g.kernel_h * g.kernel_w, rows = g.patch_size();
  const bool itself = g.lowers_to_itself();
  WindowGeometry channel = g;
  channel.channels = 1;
  for (Index c = 0; c < g.channels; ++c) {
    const T* plane = image + c * g.plane();
    if (!itself) im2col(channel, plane, scratch, positions);
    const T* lowered = itself ? plane : scratch;
    for (Index t = 0; t < taps; ++t)
      copy_into_panels(lowered + t * positions, positions, first_column, c * taps + t, rows,
                       panel_width, panels);
  }
}

template <typename T>
void im2col(const WindowGeometry& g, const T* image, T* columns) {
  im2col(g, image, columns, g.positions());
}
template <typename T>
void col2im(const WindowGeometry& g, const T* columns, T* image) {
  col2im(g, columns, image, g.positions());
}

}  // namespace minicnn
