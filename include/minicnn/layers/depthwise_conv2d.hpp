// DepthwiseConv2D: every input channel convolved on its own with depth_multiplier (M) kernels of
// its own (Keras's DepthwiseConv2D; PyTorch's conv2d with groups = C; ONNX's Conv with
// group = C). Input (N, C, H, W), output (N, C*M, OH, OW); kernel (C*M, 1, KH, KW) in PyTorch's
// grouped layout, bias (C*M). Output channel k = c*M + m reads input channel c alone: the channel
// order of Keras's DepthwiseConv2D and of PyTorch's groups = C.
//
// Padding is Keras's 'valid' or 'same' rule (window.hpp: 'same' puts the odd extra row or column
// at the bottom/right) or explicit widths per side (Pads: ONNX's `pads`). The dilation
// (Keras's dilation_rate, D) spreads the kernel's taps D apart, so that a window spans
// D*(K-1)+1 inputs per axis. Keras refuses strides > 1 with dilation > 1; minicnn computes that
// case as PyTorch and ONNX define it.
//
// Computed directly, not by im2col: an output channel has only KH*KW weights, so im2col would copy
// KH*KW times the input to feed products of one row. The forward pass copies each input row once
// into a zero-padded row split by stride phase, after which every tap of a vector of outputs is
// one contiguous vector load, at any stride, dilation and padding; each output vector sums its
// taps in a register and is stored once, through a gemm::Epilogue (a bias, or a BatchNorm and a
// ReLU6 folded in). The backward passes add each tap (i, j) times a shifted, strided row. One
// output plane (or input plane, or kernel) is computed by one thread in a fixed order, so every
// result is bit-identical whatever the thread count. The kernels are free functions (namespace
// depthwise) that SeparableConv2D shares.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/gemm.hpp"
#include "minicnn/initializers.hpp"
#include "minicnn/layer.hpp"
#include "minicnn/layers/im2col.hpp"
#include "minicnn/layers/window.hpp"
#include "minicnn/layers/zero_padding2d.hpp"

namespace minicnn {

// How DepthwiseConv2D and SeparableConv2D pad: Keras's rule ('valid' or 'same'), or explicit
// widths per side. Converts implicitly from either, so that both read naturally as an argument.
class DepthwisePadding {
 public:
  DepthwisePadding(Padding rule) : rule_(rule) {}  // NOLINT: implicit on purpose
  DepthwisePadding(Pads widths) : rule_(Padding::valid), widths_(widths) {}  // NOLINT

  // "valid", "same", or the widths as Pads writes them: "1,1,0,2" (top,bottom,left,right).
  std::string str() const { return widths_ ? widths_->str() : to_string(rule_); }
  static DepthwisePadding parse(const std::string& text) {
    if (text.find_first_of("0123456789") != std::string::npos) return Pads::parse(text);
    return padding_from_string(text);
  }

  const std::optional<Pads>& widths() const { return widths_; }
  Padding rule() const { return rule_; }

 private:
  Padding rule_;
  std::optional<Pads> widths_;
};

// The constructor checks DepthwiseConv2D and SeparableConv2D share; `kind` names the layer.
inline void check_depthwise_arguments(const std::string& kind, Size2 kernel_size, Size2 strides,
                                      const DepthwisePadding& padding, Index depth_multiplier,
                                      Size2 dilation_rate) {
  check_window_argument(kind, "kernel_size", kernel_size);
  check_window_argument(kind, "strides", strides);
  check_window_argument(kind, "dilation_rate", dilation_rate);
  if (depth_multiplier <= 0) fail(kind, ": expected depth_multiplier > 0, got ", depth_multiplier);
  if (padding.widths() && padding.widths()->any_negative())
    fail(kind, ": expected padding >= 0 on every side, got ", padding.str());
}

// Where the windows of a depthwise convolution sit on a (C, H, W) sample.
struct DepthwiseGeometry {
  Index channels = 0, height = 0, width = 0, multiplier = 0;
  Index kernel_h = 0, kernel_w = 0;
  Index stride_h = 0, stride_w = 0;
  Index dilation_h = 0, dilation_w = 0;
  Index pad_top = 0, pad_left = 0;  // the padding after is whatever the last window reaches past
  Index out_h = 0, out_w = 0;

  // Validates a sample shape for a layer labelled `label` and lays its windows out on it. Every
  // extent is checked against `limit` (the layer's kMaxElements) before it is multiplied, so that
  // arguments from any checkpoint's config can neither overflow nor allocate absurdly.
  static DepthwiseGeometry of(const std::string& label, const Shape& sample, Index multiplier,
                              Size2 kernel, Size2 strides, Size2 dilation,
                              const DepthwisePadding& padding, Index limit) {
    if (sample.rank() != 3)
      fail(label, ": expected input of rank 3 per sample (channels, height, width), got ", sample);
    if (sample.size() == 0) fail(label, ": expected a non-empty input, got ", sample);
    if (multiplier > limit / sample[0])
      fail(label, ": expected at most ", limit, " output channels, got ", sample[0], " x ",
           multiplier);
    DepthwiseGeometry g;
    g.channels = sample[0];
    g.height = sample[1];
    g.width = sample[2];
    g.multiplier = multiplier;
    g.kernel_h = kernel.height;
    g.kernel_w = kernel.width;
    g.stride_h = strides.height;
    g.stride_w = strides.width;
    g.dilation_h = dilation.height;
    g.dilation_w = dilation.width;
    const Index span_h = span(kernel.height, dilation.height, limit);
    const Index span_w = span(kernel.width, dilation.width, limit);
    WindowAxis rows{0, 0, 0}, cols{0, 0, 0};
    if (const auto& w = padding.widths()) {
      rows = explicit_axis(label, g.height, span_h, g.stride_h, w->top, w->bottom, limit);
      cols = explicit_axis(label, g.width, span_w, g.stride_w, w->left, w->right, limit);
    } else if (span_h > 0 && span_w > 0) {
      rows = window_axis(g.height, span_h, g.stride_h, padding.rule());
      cols = window_axis(g.width, span_w, g.stride_w, padding.rule());
    }
    if (rows.output == 0 || cols.output == 0)
      fail(label, ": the ", kernel.str(), " kernel dilated ", dilation.str(), " does not fit the ",
           g.height, "x", g.width, " input with padding ", padding.str(),
           "; use more padding, a smaller kernel or a smaller dilation");
    g.pad_top = rows.pad_before;
    g.pad_left = cols.pad_before;
    g.out_h = rows.output;
    g.out_w = cols.output;
    return g;
  }

  Index out_channels() const { return channels * multiplier; }
  Index taps() const { return kernel_h * kernel_w; }
  Index plane() const { return height * width; }
  Index positions() const { return out_h * out_w; }

 private:
  // D*(K-1)+1, the inputs one window spans; -1 when it exceeds `limit` (it then fits no input).
  static Index span(Index kernel, Index dilation, Index limit) {
    if (kernel > 1 && dilation > (limit - 1) / (kernel - 1)) return -1;
    return dilation * (kernel - 1) + 1;
  }

  // The axis with explicit padding: before + input + after inputs, windows `stride` apart:
  // output = floor((before + input + after - span) / stride) + 1, or 0 when no window fits.
  static WindowAxis explicit_axis(const std::string& label, Index input, Index span, Index stride,
                                  Index before, Index after, Index limit) {
    const Index padded = padded_extent(input, before, after, limit);
    if (padded < 0)
      fail(label, ": expected padded extents of at most ", limit, ", got ", before, " + ", input,
           " + ", after);
    if (span < 0 || padded < span) return {0, 0, 0};
    return {(padded - span) / stride + 1, before, after};
  }
};

// The kernels, on raw (N, C, H, W) and (N, C*M, OH, OW) buffers; the kernel is (C*M, KH*KW).
namespace depthwise {

namespace detail {

// Where the kernels keep one input plane (or its gradient): each input row zero-padded on both
// sides and split into SW phases (phase p holds padded columns p, p + SW, p + 2 SW, ...), so
// that tap j of outputs ow, ow + 1, ... reads (or, for dx, adds into) the consecutive elements
//   phase (j*DW) % SW, from element ow + (j*DW) / SW
// whatever the stride: every tap is a vector load, and the padding needs no test. Rows of the
// vertical padding read a row of zeros (or add into a row that is discarded). A row holds the
// padded columns that the output's vectors reach (OW rounded up to whole vectors), so that the
// last vector stays in bounds.
struct PaddedRows {
  Index phases = 0;                // SW
  Index phase_width = 0;           // padded columns per phase
  Index columns = 0;               // padded columns read, from the first one of the left padding
  std::vector<Index> tap_offsets;  // where tap j of output column 0 reads in a padded row
  std::vector<std::pair<Index, Index>> inputs;  // per phase, the elements that hold input columns
  Index row_length() const { return phases * phase_width; }

  // Computed once per call: the kernels need these per row, and a division per tap per row cost
  // as much as the multiply-adds of a 7-wide row.
  static PaddedRows of(const DepthwiseGeometry& g, Index lanes) {
    PaddedRows r;
    const Index vectors = (g.out_w + lanes - 1) / lanes;
    r.phases = g.stride_w;
    r.columns = (vectors * lanes - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1;
    r.phase_width = (r.columns + r.phases - 1) / r.phases;
    for (Index j = 0; j < g.kernel_w; ++j) {
      const Index column = j * g.dilation_w;
      r.tap_offsets.push_back(column % r.phases * r.phase_width + column / r.phases);
    }
    // Padded column c = q*SW + p is input column c - pad_left, for 0 <= c - pad_left < W (and
    // c < columns): elements [first, last) of phase p.
    const Index end = std::min(r.columns, g.pad_left + g.width);
    for (Index p = 0; p < r.phases; ++p) {
      const Index first = g.pad_left > p ? (g.pad_left - p + r.phases - 1) / r.phases : 0;
      const Index last = end > p ? (end - p + r.phases - 1) / r.phases : 0;
      r.inputs.emplace_back(first, std::max(first, last));
    }
    return r;
  }

  // Copies an input row (W values) into its padded row, leaving the padding as it is (zero).
  template <typename T>
  void copy(const DepthwiseGeometry& g, const T* __restrict in, T* __restrict row) const {
    if (phases == 1) {
      std::copy(in + inputs[0].first - g.pad_left, in + inputs[0].second - g.pad_left,
                row + inputs[0].first);
    } else if (phases == 2) {  // a stride known at compile time: the loads vectorise
      for (Index p = 0; p < 2; ++p)
        for (Index q = inputs[p].first; q < inputs[p].second; ++q)
          row[p * phase_width + q] = in[q * 2 + p - g.pad_left];
    } else {
      for (Index p = 0; p < phases; ++p)
        for (Index q = inputs[p].first; q < inputs[p].second; ++q)
          row[p * phase_width + q] = in[q * phases + p - g.pad_left];
    }
  }

  // The inverse: an input row (W values) = the input columns of its padded row; columns that no
  // window reaches are 0.
  template <typename T>
  void extract(const DepthwiseGeometry& g, const T* __restrict row, T* __restrict in) const {
    std::fill(in, in + g.width, T(0));
    for (Index p = 0; p < phases; ++p)
      for (Index q = inputs[p].first; q < inputs[p].second; ++q)
        in[q * phases + p - g.pad_left] = row[p * phase_width + q];
  }
};

// The pointers of output row oh's taps into the padded rows `rows` (row_length apart):
// tap[i*KW + j] is where tap (i, j) of output (oh, 0) reads; rows of the vertical padding are
// `outside` (zeros for the forward pass, a discarded row for dx).
template <typename T>
void tap_pointers(const DepthwiseGeometry& g, const PaddedRows& padded, Index oh, T* rows,
                  T* outside, T** tap) {
  for (Index i = 0; i < g.kernel_h; ++i) {
    const Index ih = oh * g.stride_h + i * g.dilation_h - g.pad_top;
    T* row = ih >= 0 && ih < g.height ? rows + ih * padded.row_length() : outside;
    for (Index j = 0; j < g.kernel_w; ++j)
      tap[i * g.kernel_w + j] = row + padded.tap_offsets[j];
  }
}

// The epilogue of one output channel on a vector: clamp(scale * v + shift, low, high). The
// comparisons are false for NaN, which passes through.
template <typename T>
struct ChannelEpilogue {
  using Vector = typename gemm::Kernel<T>::Vector;
  T scale, shift, low, high;

  // A null row_scale is a scale of 1 and a null row_bias a shift of -0: 1*v + -0 is v exactly,
  // for v = -0 too (where +0 would give +0), as gemm::Epilogue::apply leaves it.
  ChannelEpilogue(const gemm::Epilogue<T>& e, Index k)
      : scale(e.row_scale != nullptr ? e.row_scale[k] : T(1)),
        shift(e.row_bias != nullptr ? e.row_bias[k] : -T(0)),
        low(e.low),
        high(e.high) {}

  Vector operator()(Vector sum) const {
    Vector v = scale * sum + shift;
    const Vector lows = Vector{} + low, highs = Vector{} + high;
    v = v < lows ? lows : v;
    return v > highs ? highs : v;
  }
};

// One output row of OW values: out[ow] = after(sum over taps t of w[t] * tap[t][ow]), the taps in
// the kernel's row-major order (t = i*KW + j), tap[t] pointing into the padded rows. Whole
// vectors two at a time (two independent chains of multiply-adds), then one; the last OW mod L
// values as the whole vector that ends the row, which recomputes some values of the vector before
// it by the same operations, hence to the same bits (a store of part of a vector costs a call of
// memcpy per row); only a row narrower than a vector is stored in part. kTaps is the number of
// taps when known at compile time (9 for the 3x3 kernels of MobileNet and Xception: the weights
// then stay in registers), else 0.
template <typename T, Index kTaps>
void output_row(Index taps, const T* const* tap, const T* __restrict w, Index out_w,
                const ChannelEpilogue<T>& after, T* __restrict out) {
  using Vector = typename gemm::Kernel<T>::Vector;
  constexpr Index kLanes = gemm::Kernel<T>::kLanes;
  const Index n = kTaps > 0 ? kTaps : taps;
  const auto load = [](const T* from) {
    Vector v;
    std::memcpy(&v, from, sizeof(Vector));
    return v;
  };
  const auto vector_at = [&](Index ow) {
    Vector sum{};
    for (Index t = 0; t < n; ++t)
      sum += w[t] * load(tap[t] + ow);
    return after(sum);
  };
  Index ow = 0;
  for (; ow + 2 * kLanes <= out_w; ow += 2 * kLanes) {
    Vector first{}, second{};
    for (Index t = 0; t < n; ++t) {
      first += w[t] * load(tap[t] + ow);
      second += w[t] * load(tap[t] + ow + kLanes);
    }
    first = after(first);
    second = after(second);
    std::memcpy(out + ow, &first, sizeof(Vector));
    std::memcpy(out + ow + kLanes, &second, sizeof(Vector));
  }
  for (; ow + kLanes <= out_w; ow += kLanes) {
    const Vector sum = vector_at(ow);
    std::memcpy(out + ow, &sum, sizeof(Vector));
  }
  if (ow == out_w) return;
  if (out_w >= kLanes) {
    const Vector sum = vector_at(out_w - kLanes);
    std::memcpy(out + out_w - kLanes, &sum, sizeof(Vector));
  } else {
    const Vector sum = vector_at(0);
    for (Index lane = 0; lane < out_w; ++lane)
      out[lane] = sum[lane];
  }
}

}  // namespace detail

// y[n, k, oh, ow] = after(k, sum over i < KH, j < KW of
//                   w[k, i, j] * x[n, k / M, oh*SH + i*DH - pad_top, ow*SW + j*DW - pad_left])
// (terms in the padding are 0), for k = c*M + m, where after(k, v) = clamp(row_scale[k] * v +
// row_bias[k], low, high) is gemm::Epilogue with the output channels as its rows: a bias alone is
// {nullptr, bias}, a BatchNorm and a ReLU6 folded in are {scale, shift, 0, 6}.
//
// One thread per input plane (n, c): it copies the plane's rows into padded rows (PaddedRows),
// then computes its M output planes row by row, each output value summed over the taps in one
// fixed order in a register and stored once, through the epilogue. The results are therefore
// bit-identical whatever the number of threads.
template <typename T>
void forward(const DepthwiseGeometry& g, Index batch, const T* x, const T* kernel,
             const gemm::Epilogue<T>& after, T* y) {
  const Index planes = batch * g.channels, taps = g.taps();
  const detail::PaddedRows padded = detail::PaddedRows::of(g, gemm::Kernel<T>::kLanes);
  const Index row_length = padded.row_length();
#pragma omp parallel
  {
    // H padded rows, then a row of zeros for the vertical padding; the padding, never written,
    // stays zero from plane to plane.
    std::vector<T> rows(static_cast<std::size_t>((g.height + 1) * row_length), T(0));
    const T* zeros = rows.data() + g.height * row_length;
    std::vector<const T*> tap(static_cast<std::size_t>(taps));
#pragma omp for schedule(static)
    for (Index p = 0; p < planes; ++p) {
      const T* in = x + p * g.plane();
      for (Index ih = 0; ih < g.height; ++ih)
        padded.copy(g, in + ih * g.width, rows.data() + ih * row_length);
      for (Index m = 0; m < g.multiplier; ++m) {
        const Index k = (p % g.channels) * g.multiplier + m;
        const detail::ChannelEpilogue<T> channel_after(after, k);
        const T* w = kernel + k * taps;
        T* out = y + (p * g.multiplier + m) * g.positions();
        for (Index oh = 0; oh < g.out_h; ++oh) {
          detail::tap_pointers<const T>(g, padded, oh, rows.data(), zeros, tap.data());
          T* out_row = out + oh * g.out_w;
          if (taps == 9)
            detail::output_row<T, 9>(taps, tap.data(), w, g.out_w, channel_after, out_row);
          else
            detail::output_row<T, 0>(taps, tap.data(), w, g.out_w, channel_after, out_row);
        }
      }
    }
  }
}

// dx[n, c, ih, iw] = sum over m < M, i, j and the outputs (oh, ow) whose tap (i, j) reads
//                    (ih, iw) of w[c*M + m, i, j] * dy[n, c*M + m, oh, ow]
// the adjoint of forward(): each term of forward() sends its weight back. dx is overwritten.
// One thread per input plane (n, c): the plane's padded rows (detail::PaddedRows) start at 0,
// each row of dy times w[k, i, j] is added into the padded row that tap (i, j) reads, as whole
// vectors at any stride (the last partial vector in scalars), and the input columns are copied
// out. Each dx value sums its terms in the order (m, oh, i, j, ow), whatever the thread count.
template <typename T>
void backward_input(const DepthwiseGeometry& g, Index batch, const T* dy, const T* kernel, T* dx) {
  using Vector = typename gemm::Kernel<T>::Vector;
  constexpr Index kLanes = gemm::Kernel<T>::kLanes;
  const Index planes = batch * g.channels, taps = g.taps();
  const detail::PaddedRows padded = detail::PaddedRows::of(g, kLanes);
  const Index row_length = padded.row_length(), whole = g.out_w / kLanes * kLanes;
#pragma omp parallel
  {
    // H padded rows, then the row that the vertical padding's taps add into and nothing reads.
    std::vector<T> rows(static_cast<std::size_t>((g.height + 1) * row_length));
    T* discarded = rows.data() + g.height * row_length;
    std::vector<T*> tap(static_cast<std::size_t>(taps));
#pragma omp for schedule(static)
    for (Index p = 0; p < planes; ++p) {
      std::fill(rows.begin(), rows.end(), T(0));
      for (Index m = 0; m < g.multiplier; ++m) {
        const Index k = (p % g.channels) * g.multiplier + m;
        const T* w = kernel + k * taps;
        const T* upstream = dy + (p * g.multiplier + m) * g.positions();
        for (Index oh = 0; oh < g.out_h; ++oh) {
          detail::tap_pointers<T>(g, padded, oh, rows.data(), discarded, tap.data());
          const T* __restrict row = upstream + oh * g.out_w;
          // Tap by tap over the row: the vectors of one tap do not overlap, those of the next tap
          // do (stride 1), and are added a row's length later.
          for (Index t = 0; t < taps; ++t) {
            T* to = tap[t];
            for (Index ow = 0; ow < whole; ow += kLanes) {
              Vector sum, term;
              std::memcpy(&sum, to + ow, sizeof(Vector));
              std::memcpy(&term, row + ow, sizeof(Vector));
              sum += w[t] * term;
              std::memcpy(to + ow, &sum, sizeof(Vector));
            }
            for (Index ow = whole; ow < g.out_w; ++ow)
              to[ow] += w[t] * row[ow];
          }
        }
      }
      T* grad_in = dx + p * g.plane();
      for (Index ih = 0; ih < g.height; ++ih)
        padded.extract(g, rows.data() + ih * row_length, grad_in + ih * g.width);
    }
  }
}

namespace detail {

// sums[t] += sum over ow of row[ow] * tap[t][ow], for one row of dy (OW values) and the taps'
// rows: one vector of partial sums per tap over the whole vectors of the row, and one scalar
// (tails[t]) over its last partial vector, whose lanes past OW must not read dy. kTaps as in
// output_row.
template <typename T, Index kTaps>
void kernel_sums(Index taps, const T* const* tap, const T* __restrict row, Index out_w,
                 typename gemm::Kernel<T>::Vector* __restrict sums, T* __restrict tails) {
  using Vector = typename gemm::Kernel<T>::Vector;
  constexpr Index kLanes = gemm::Kernel<T>::kLanes;
  const Index n = kTaps > 0 ? kTaps : taps, whole = out_w / kLanes * kLanes;
  for (Index ow = 0; ow < whole; ow += kLanes) {
    Vector upstream;
    std::memcpy(&upstream, row + ow, sizeof(Vector));
    for (Index t = 0; t < n; ++t) {
      Vector in;
      std::memcpy(&in, tap[t] + ow, sizeof(Vector));
      sums[t] += upstream * in;
    }
  }
  for (Index t = 0; t < n; ++t)
    for (Index ow = whole; ow < out_w; ++ow)
      tails[t] += row[ow] * tap[t][ow];
}

}  // namespace detail

// dw[k, i, j] += sum over n, oh, ow of dy[n, k, oh, ow] * x[n, k / M, oh*SH + i*DH - pad_top,
//                                                             ow*SW + j*DW - pad_left]
// db[k]       += sum over n, oh, ow of dy[n, k, oh, ow]          (skipped when bias_grad is null)
// One thread per input channel c sums its M output channels over the whole batch: no partial
// sums to merge. For each sample in order, it copies plane (n, c) into padded rows (as
// forward()) and adds every row of dy times each tap's row into the tap's vector of partial sums
// (lanes summed in order at the end), the last partial vector of a row into a scalar.
template <typename T>
void backward_kernel(const DepthwiseGeometry& g, Index batch, const T* x, const T* dy,
                     T* kernel_grad, T* bias_grad) {
  using Vector = typename gemm::Kernel<T>::Vector;
  constexpr Index kLanes = gemm::Kernel<T>::kLanes;
  const Index out_channels = g.out_channels(), taps = g.taps();
  const detail::PaddedRows padded = detail::PaddedRows::of(g, kLanes);
  const Index row_length = padded.row_length();
#pragma omp parallel
  {
    std::vector<T> rows(static_cast<std::size_t>((g.height + 1) * row_length), T(0));
    const T* zeros = rows.data() + g.height * row_length;
    std::vector<const T*> tap(static_cast<std::size_t>(taps));
    std::vector<Vector> sums(static_cast<std::size_t>(g.multiplier * taps));
    std::vector<T> tails(static_cast<std::size_t>(g.multiplier * taps));
#pragma omp for schedule(static)
    for (Index c = 0; c < g.channels; ++c) {
      std::fill(sums.begin(), sums.end(), Vector{});
      std::fill(tails.begin(), tails.end(), T(0));
      for (Index n = 0; n < batch; ++n) {
        const T* in = x + (n * g.channels + c) * g.plane();
        for (Index ih = 0; ih < g.height; ++ih)
          padded.copy(g, in + ih * g.width, rows.data() + ih * row_length);
        for (Index m = 0; m < g.multiplier; ++m) {
          const T* upstream = dy + (n * out_channels + c * g.multiplier + m) * g.positions();
          Vector* channel_sums = sums.data() + m * taps;
          T* channel_tails = tails.data() + m * taps;
          for (Index oh = 0; oh < g.out_h; ++oh) {
            detail::tap_pointers<const T>(g, padded, oh, rows.data(), zeros, tap.data());
            const T* row = upstream + oh * g.out_w;
            if (taps == 9)
              detail::kernel_sums<T, 9>(taps, tap.data(), row, g.out_w, channel_sums,
                                        channel_tails);
            else
              detail::kernel_sums<T, 0>(taps, tap.data(), row, g.out_w, channel_sums,
                                        channel_tails);
          }
        }
      }
      for (Index m = 0; m < g.multiplier; ++m) {
        const Index k = c * g.multiplier + m;
        for (Index t = 0; t < taps; ++t) {
          T sum = tails[m * taps + t];
          for (Index lane = 0; lane < kLanes; ++lane)
            sum += sums[m * taps + t][lane];
          kernel_grad[k * taps + t] += sum;
        }
        if (bias_grad == nullptr) continue;
        T sum = 0;
        for (Index n = 0; n < batch; ++n) {
          const T* upstream = dy + (n * out_channels + k) * g.positions();
#pragma omp simd reduction(+ : sum)
          for (Index q = 0; q < g.positions(); ++q)
            sum += upstream[q];
        }
        bias_grad[k] += sum;
      }
    }
  }
}

}  // namespace depthwise

template <typename T>
class DepthwiseConv2D : public Layer<T> {
 public:
  // Keras's arguments and defaults, in Keras's order but for dilation_rate, which comes after
  // use_bias here: DepthwiseConv2D<float>(3, 2, Padding::same, 2) is a 3x3 kernel, stride 2,
  // 'same' padding, two outputs per channel.
  DepthwiseConv2D(Size2 kernel_size, Size2 strides = 1, DepthwisePadding padding = Padding::valid,
                  Index depth_multiplier = 1, bool use_bias = true, Size2 dilation_rate = 1,
                  Initializer depthwise_initializer = Initializer::glorot_uniform)
      : kernel_size_(kernel_size),
        strides_(strides),
        padding_(padding),
        depth_multiplier_(depth_multiplier),
        use_bias_(use_bias),
        dilation_rate_(dilation_rate),
        depthwise_initializer_(depthwise_initializer) {
    check_depthwise_arguments("DepthwiseConv2D", kernel_size, strides, padding, depth_multiplier,
                              dilation_rate);
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<DepthwiseConv2D>(
        Size2::parse(config.get("kernel_size")), Size2::parse(config.get("strides")),
        DepthwisePadding::parse(config.get("padding")), config.get_int("depth_multiplier"),
        config.get_bool("use_bias"), Size2::parse(config.get("dilation_rate")),
        initializer_from_string(config.get("depthwise_initializer")));
  }

  std::string kind() const override { return "DepthwiseConv2D"; }
  Config config() const override {
    return Config()
        .set("kernel_size", kernel_size_.str())
        .set("strides", strides_.str())
        .set("padding", padding_.str())
        .set("depth_multiplier", depth_multiplier_)
        .set("use_bias", use_bias_)
        .set("dilation_rate", dilation_rate_.str())
        .set("depthwise_initializer", to_string(depthwise_initializer_));
  }
  std::unique_ptr<Layer<T>> clone() const override {
    return std::make_unique<DepthwiseConv2D>(*this);
  }

  std::vector<Parameter<T>*> parameters() override {
    if (use_bias_) return {&kernel_, &bias_};
    return {&kernel_};
  }

  // The formula of depthwise::forward, with the bias as its epilogue.
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode) override { forward_fused(x, y, {}); }

  // y[n, k] = clamp(after.row_scale[k] * (depthwise(x)[n, k] + b[k]) + after.row_bias[k],
  //                 after.low, after.high)
  // for the output channels k (null row_scale: 1, null row_bias: 0, b = 0 without bias): the
  // layer followed by a BatchNorm in inference (scale = gamma / sqrt(var + eps), shift = beta -
  // mean * scale) and a ReLU or ReLU6 (low = 0, high = 6 or inf), in one pass over y. The bias is
  // folded into the shift, b'[k] = scale[k] * b[k] + shift[k], so that the kernel adds one term.
  // (layer.hpp's inference fusion contract.)
  bool fuses_output_map() const override { return true; }
  void forward_fused(const Tensor<T>& x, Tensor<T>& y, const gemm::Epilogue<T>& after) override {
    this->check_input(x);
    y.resize(this->output_shape().with_batch(x.dim(0)));
    thread_local std::vector<T> folded;  // the calling thread's: several may infer at once
    const gemm::Epilogue<T> epilogue =
        after.with_bias(use_bias_ ? bias_.value.data() : nullptr, geometry_.out_channels(), folded);
    depthwise::forward(geometry_, x.dim(0), x.data(), kernel_.value.data(), epilogue, y.data());
  }

  // The formulas of depthwise::backward_input (dx) and depthwise::backward_kernel (dW, db).
  void backward(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& dy, Tensor<T>& dx,
                Mode mode) override {
    backward_parameters(x, y, dy, dx, mode);
    dx.resize(x.shape());
    depthwise::backward_input(geometry_, x.dim(0), dy.data(), kernel_.value.data(), dx.data());
  }

  // dW and db alone (the first layer of a model).
  void backward_parameters(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>&,
                           Mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    depthwise::backward_kernel(geometry_, x.dim(0), x.data(), dy.data(), kernel_.grad.data(),
                               use_bias_ ? bias_.grad.data() : nullptr);
  }

 private:
  // (C, H, W) -> (C*M, OH, OW); depthwise_kernel (C*M, 1, KH, KW), bias (C*M).
  LayerPlan plan_layer(const Shape& input_shape) const override {
    const DepthwiseGeometry g = geometry(input_shape);
    LayerPlan plan{{g.out_channels(), g.out_h, g.out_w},
                   {{"depthwise_kernel", {g.out_channels(), 1, g.kernel_h, g.kernel_w}}}};
    if (use_bias_) plan.parameters.push_back({"bias", {g.out_channels()}});
    return plan;
  }

  // Keras computes the fans on its kernel shape (KH, KW, C, M): fan_in = C*KH*KW and
  // fan_out = M*KH*KW (receptive field times the last two extents). The bias stays 0.
  void build_layer(const Shape& input_shape, Random& random) override {
    geometry_ = geometry(input_shape);
    initialize(kernel_.value, depthwise_initializer_, geometry_.channels * geometry_.taps(),
               geometry_.multiplier * geometry_.taps(), random);
  }

  DepthwiseGeometry geometry(const Shape& input_shape) const {
    return DepthwiseGeometry::of(this->label(), input_shape, depth_multiplier_, kernel_size_,
                                 strides_, dilation_rate_, padding_, Layer<T>::kMaxElements);
  }

  Size2 kernel_size_;
  Size2 strides_;
  DepthwisePadding padding_;
  Index depth_multiplier_;
  bool use_bias_;
  Size2 dilation_rate_;
  Initializer depthwise_initializer_;
  DepthwiseGeometry geometry_;
  Parameter<T> kernel_{"depthwise_kernel", {0, 1, 0, 0}};
  Parameter<T> bias_{"bias", {0}};
};

}  // namespace minicnn
