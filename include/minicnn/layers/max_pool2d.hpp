// MaxPool2D (Keras's MaxPooling2D): the maximum of each KH x KW window, channel by channel.
// Input (N, C, H, W), output (N, C, OH, OW). Strides default to the pool size. 'same' padding
// pads with -infinity, so a padded element never wins: the maximum is over the window's elements
// inside the input (never empty, see window.hpp). A NaN in a window propagates to its output, as
// in PyTorch, instead of being skipped by the comparisons.
#pragma once

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "minicnn/layer.hpp"
#include "minicnn/layers/im2col.hpp"
#include "minicnn/layers/pool2d.hpp"
#include "minicnn/layers/window.hpp"

namespace minicnn {

template <typename T>
class MaxPool2D : public Pool2D<T, MaxPool2D<T>> {
 public:
  explicit MaxPool2D(Size2 pool_size = 2) : MaxPool2D(pool_size, pool_size) {}
  MaxPool2D(Size2 pool_size, Size2 strides, Padding padding = Padding::valid)
      : Pool2D<T, MaxPool2D>("MaxPooling2D", pool_size, strides, padding) {}
  // Explicit padding: MaxPool2D<float>(3, 2, Pads(1)) is PyTorch's MaxPool2d(3, 2, 1).
  MaxPool2D(Size2 pool_size, Size2 strides, Pads pads)
      : Pool2D<T, MaxPool2D>("MaxPooling2D", pool_size, strides, pads) {}

  std::string kind() const override { return "MaxPooling2D"; }

  // y[n, c, oh, ow] = max over the window's elements inside the input of x[n, c, ih, iw],
  //   ih in [oh*SH - pad_top, +KH),  iw in [ow*SW - pad_left, +KW).
  // Training mode also records, per output, where the maximum came from (ih*W + iw; ties go to
  // the first maximum in row-major window order), for backward().
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode mode) override {
    this->check_input(x);
    const WindowGeometry& g = geometry_;
    const Index planes = x.dim(0) * g.channels;
    y.resize({x.dim(0), g.channels, g.out_h, g.out_w});
    const bool record = mode == Mode::training;
    if (record) argmax_.resize(y.shape());
    const bool halving = g.kernel_h == 2 && g.kernel_w == 2 && g.stride_h == 2 && g.stride_w == 2 &&
                         g.pad_top == 0 && g.pad_left == 0 && 2 * g.out_h <= g.height &&
                         2 * g.out_w <= g.width;

#pragma omp parallel for schedule(static)
    for (Index p = 0; p < planes; ++p) {
      const T* in = x.data() + p * g.plane();
      T* out = y.data() + p * g.positions();
      Index* from = record ? argmax_.data() + p * g.positions() : nullptr;
      if (halving)
        record ? pool_halving<true>(in, out, from) : pool_halving<false>(in, out, from);
      else
        record ? pool_plane<true>(in, out, from) : pool_plane<false>(in, out, from);
    }
  }

  // dx[n, c, ih, iw] = sum of dy[n, c, oh, ow] over the outputs whose maximum came from (ih, iw);
  // 0 for elements that won no window. Training reuses the maxima the last training-mode
  // forward() recorded; inference finds them again in x (same rule, same ties), recording nothing.
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    const bool training = mode == Mode::training;
    if (training && argmax_.empty())
      fail(this->label(), ": backward() called before a training-mode forward()");
    if (training && argmax_.shape() != dy.shape())
      fail(this->label(), ": backward() expected the last training-mode forward() to output ",
           dy.shape(), ", got ", argmax_.shape());
    const WindowGeometry& g = geometry_;
    const Index planes = x.dim(0) * g.channels;
    dx.resize(x.shape());
    dx.set_zero();

#pragma omp parallel for schedule(static)
    for (Index p = 0; p < planes; ++p) {
      const T* in = x.data() + p * g.plane();
      T* grad_in = dx.data() + p * g.plane();
      const T* grad_out = dy.data() + p * g.positions();
      const Index* from = training ? argmax_.data() + p * g.positions() : nullptr;
      for (Index oh = 0; oh < g.out_h; ++oh)
        for (Index ow = 0; ow < g.out_w; ++ow) {
          const Index k = oh * g.out_w + ow;
          grad_in[training ? from[k] : window_argmax(in, oh, ow)] += grad_out[k];
        }
    }
  }

 private:
  using Pool2D<T, MaxPool2D>::geometry_;

  void build_layer(const Shape& input_shape, Random& random) override {
    argmax_.resize({0});
    Pool2D<T, MaxPool2D>::build_layer(input_shape, random);
  }

  // One (H, W) plane's outputs, and with kRecord where each maximum came from. Every output
  // starts from its window's first element inside the input; then the window offsets (i, j) are
  // folded in row-major order into whole output rows, so each output keeps its own running
  // maximum: the comparisons of neighbouring outputs are independent and vectorise, where one
  // window at a time would be one serial chain of compare-and-select. Visiting the offsets in
  // window order keeps window_argmax()'s rule: the first maximum wins a tie, the first NaN wins
  // and is kept (v != v: v is NaN). Without kRecord only the values matter, so every output can
  // start from -infinity. The geometry is copied into locals so that the compiler
  // knows the stores to `from` (Index, like the geometry's fields) cannot change it.
  template <bool kRecord>
  void pool_plane(const T* __restrict in, T* __restrict out, Index* __restrict from) const {
    const WindowGeometry& g = geometry_;
    const Index out_h = g.out_h, out_w = g.out_w, width = g.width;
    const Index stride_h = g.stride_h, stride_w = g.stride_w;
    const Index pad_top = g.pad_top, pad_left = g.pad_left;
    if constexpr (kRecord) {
      for (Index oh = 0; oh < out_h; ++oh)
        for (Index ow = 0; ow < out_w; ++ow) {
          const Index first = std::max<Index>(oh * stride_h - pad_top, 0) * width +
                              std::max<Index>(ow * stride_w - pad_left, 0);
          out[oh * out_w + ow] = in[first];
          from[oh * out_w + ow] = first;
        }
    } else {  // values only: -infinity loses to every element, and a NaN replaces anything
      std::fill(out, out + out_h * out_w, -std::numeric_limits<T>::infinity());
    }
    for (Index i = 0; i < g.kernel_h; ++i) {
      const auto rows = g.inside_rows(i);
      for (Index j = 0; j < g.kernel_w; ++j) {
        const auto cols = g.inside_cols(j);
        for (Index oh = rows.begin; oh < rows.end; ++oh) {
          const Index base = (oh * stride_h + i - pad_top) * width + j - pad_left;
          T* __restrict out_row = out + oh * out_w;
          for (Index ow = cols.begin; ow < cols.end; ++ow) {
            const Index at = base + ow * stride_w;
            const T value = in[at];
            const T current = out_row[ow];
            if constexpr (kRecord) {
              const bool wins = (value > current) | ((value != value) & (current == current));
              out_row[ow] = wins ? value : current;
              Index* __restrict from_row = from + oh * out_w;
              from_row[ow] = wins ? at : from_row[ow];
            } else {
              out_row[ow] = ((value > current) | (value != value)) ? value : current;
            }
          }
        }
      }
    }
  }

  // pool_plane for the usual halving pool, 2x2 windows with stride 2 that all lie inside the
  // input. Eight outputs at a time: their windows' elements gathered into four vectors (which the
  // compiler does with vector loads and permutes), then compared in window order, (0, 0), (0, 1),
  // (1, 0), (1, 1), with window_argmax()'s rule, lane by lane. A row whose length is not a
  // multiple of eight ends with a group that overlaps the one before (recomputing some outputs,
  // to the same values); rows shorter than eight use window_argmax(). Runtime strides keep
  // pool_plane's passes from vectorising, which is why this case has code of its own
  // (docs/performance.md has the figures).
  template <bool kRecord>
  void pool_halving(const T* __restrict in, T* __restrict out, Index* __restrict from) const {
    constexpr int kOutputs = 8;
    typedef T Outputs __attribute__((vector_size(kOutputs * sizeof(T))));
    typedef Index Positions __attribute__((vector_size(kOutputs * sizeof(Index))));
    const Index out_h = geometry_.out_h, out_w = geometry_.out_w, width = geometry_.width;
    const Positions lane_offsets{0, 2, 4, 6, 8, 10, 12, 14};  // a lane's window, 2 columns apart
    for (Index oh = 0; oh < out_h; ++oh) {
      const T* top = in + 2 * oh * width;
      const T* bottom = top + width;
      if (out_w < kOutputs) {
        for (Index ow = 0; ow < out_w; ++ow) {
          const Index at = window_argmax(in, oh, ow);
          out[oh * out_w + ow] = in[at];
          if constexpr (kRecord) from[oh * out_w + ow] = at;
        }
        continue;
      }
      for (Index group = 0; group < out_w; group += kOutputs) {
        const Index ow = std::min(group, out_w - kOutputs);
        Outputs window[4];  // the windows' (0, 0), (0, 1), (1, 0) and (1, 1) elements
        for (int lane = 0; lane < kOutputs; ++lane) {
          window[0][lane] = top[2 * (ow + lane)];
          window[1][lane] = top[2 * (ow + lane) + 1];
          window[2][lane] = bottom[2 * (ow + lane)];
          window[3][lane] = bottom[2 * (ow + lane) + 1];
        }
        const Index first = 2 * oh * width + 2 * ow;
        const Index offsets[4] = {0, 1, width, width + 1};
        Outputs best = window[0];
        Positions best_at = lane_offsets + first;
        for (int e = 1; e < 4; ++e) {
          const Outputs value = window[e];
          const auto wins = (value > best) | ((value != value) & (best == best));
          best = wins ? value : best;
          if constexpr (kRecord)
            best_at = __builtin_convertvector(wins, Positions) != 0
                          ? lane_offsets + (first + offsets[e])
                          : best_at;
        }
        std::memcpy(out + oh * out_w + ow, &best, sizeof(Outputs));
        if constexpr (kRecord) std::memcpy(from + oh * out_w + ow, &best_at, sizeof(Positions));
      }
    }
  }

  // Where, in one (H, W) plane, the maximum of output (oh, ow)'s window lies: ih*W + iw of the
  // first maximum in row-major window order, or of the first NaN (which then propagates).
  Index window_argmax(const T* in, Index oh, Index ow) const {
    const WindowGeometry& g = geometry_;
    const Index top = oh * g.stride_h - g.pad_top;
    const Index left = ow * g.stride_w - g.pad_left;
    const Index h_begin = std::max<Index>(top, 0);
    const Index h_end = std::min(top + g.kernel_h, g.height);
    const Index w_begin = std::max<Index>(left, 0);
    const Index w_end = std::min(left + g.kernel_w, g.width);
    Index best = h_begin * g.width + w_begin;
    T best_value = in[best];
    // Selects without branches: which element wins is data-dependent and unpredictable, and a
    // mispredicted branch per comparison would cost more than the comparisons. (v != v: v is NaN.)
    for (Index ih = h_begin; ih < h_end; ++ih)
      for (Index iw = w_begin; iw < w_end; ++iw) {
        const Index at = ih * g.width + iw;
        const T value = in[at];
        const bool wins = (value > best_value) | ((value != value) & (best_value == best_value));
        best = wins ? at : best;
        best_value = wins ? value : best_value;
      }
    return best;
  }

  Tensor<Index> argmax_;  // (N, C, OH, OW): ih*W + iw of each maximum, from the last training pass
};

}  // namespace minicnn
