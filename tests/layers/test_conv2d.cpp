// Specification of Conv2D and of its im2col lowering:
//   y[n, f, oh, ow] = b[f] + sum over c, i, j of W[f, c, i, j] * x[n, c, oh*SH + i*DH - pad_top,
//                                                                   ow*SW + j*DW - pad_left]
// (x is 0 in the padding; 'same' pads as Keras/TensorFlow, the extra row/column at the end;
// explicit pads as given; DH, DW the dilation). The same formula as loops is
// minicnn/layers/reference_conv2d.hpp, which the fast path must agree with.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/reference_conv2d.hpp"
#include "support/gradient_check.hpp"
#include "support/layer_helpers.hpp"

using namespace minicnn;
using minicnn::testing::random_tensor;
using minicnn::testing::with_threads;

namespace {

bool identical(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

TEST_CASE("im2col copies each window into one column, zeros for the padding") {
  // x (1, 3, 3) = 1..9; a 2x2 window with stride 1: 4 positions, 4 rows (i, j).
  const auto x = Tensor<double>::of({1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  SUBCASE("valid") {
    const auto g = WindowGeometry::of("test", "kernel", x.shape(), 2, 1, Padding::valid);
    std::vector<double> columns(static_cast<std::size_t>(g.patch_size() * g.positions()));
    im2col(g, x.data(), columns.data());
    // Rows (i, j) = (0,0), (0,1), (1,0), (1,1); columns (oh, ow) = (0,0), (0,1), (1,0), (1,1).
    CHECK(columns == std::vector<double>{1, 2, 4, 5,  //
                                         2, 3, 5, 6,  //
                                         4, 5, 7, 8,  //
                                         5, 6, 8, 9});
  }
  SUBCASE("same, stride 2: output 2x2, padding 0 before and 1 after") {
    const auto g = WindowGeometry::of("test", "kernel", x.shape(), 2, 2, Padding::same);
    CHECK(g.out_h == 2);
    CHECK(g.pad_top == 0);
    std::vector<double> columns(static_cast<std::size_t>(g.patch_size() * g.positions()));
    im2col(g, x.data(), columns.data());
    CHECK(columns == std::vector<double>{1, 3, 7, 9,  //
                                         2, 0, 8, 0,  //
                                         4, 6, 0, 0,  //
                                         5, 0, 0, 0});
  }
}

namespace {

// The wide-matrix cases below: samples (2, 4, width) with width 3 to 42 under a 3x3 kernel with
// stride 1, 'valid' (output widths 1 to 40, every block size of im2col's short-run copy and the
// exact copy past it), 'same' (rows with padding at either end), and two dilated kernels with
// explicit pads: pads 2,1,3,0 with dilation 2, and pads 4,0,5,1 with dilation 1x2, where the
// first taps read nothing but padding on the first rows and columns of the output. The middle one
// of three samples' blocks of a (C*3*3, 3*OH*OW) matrix is the one lowered or raised.
template <typename Body>
void for_each_wide_case(Body body) {
  for (Index width = 3; width <= 42; ++width) {
    CAPTURE(width);
    const Shape sample{2, 4, width};
    const auto seed = static_cast<std::uint64_t>(width);
    for (const Padding padding : {Padding::valid, Padding::same}) {
      CAPTURE(to_string(padding));
      body(sample, WindowGeometry::of("test", "kernel", sample, 3, 1, padding), seed);
    }
    body(sample, WindowGeometry::of("test", "kernel", sample, 3, 1, Pads(2, 1, 3, 0), 2), seed);
    body(sample, WindowGeometry::of("test", "kernel", sample, 3, 1, Pads(4, 0, 5, 1), {1, 2}),
         seed);
  }
}

// The input element (c, ih, iw) that entry (r, p) of a sample's columns holds under the 3x3
// kernel of geometry g; `inside` is false where it falls in the padding.
struct ColumnSource {
  Index c, ih, iw;
  bool inside;
};
ColumnSource column_source(const WindowGeometry& g, Index r, Index p) {
  const Index c = r / 9, i = r / 3 % 3, j = r % 3;
  const Index ih = g.input_row(p / g.out_w, i), iw = g.input_col(p % g.out_w, j);
  return {c, ih, iw, ih >= 0 && ih < g.height && iw >= 0 && iw < g.width};
}

}  // namespace

TEST_CASE("im2col fills exactly its sample's block of a wide matrix, for every output width") {
  // The block is lowered into a matrix of NaN: it must equal the definition, and every entry
  // outside it must still be NaN. The sample sits alone in its vector, so that a read past it
  // would show under AddressSanitizer.
  for_each_wide_case([](const Shape& sample, const WindowGeometry& g, std::uint64_t seed) {
    const auto x = random_tensor<float>(sample, seed);
    const std::vector<float> image(x.begin(), x.end());
    const Index positions = g.positions(), row_stride = 3 * positions;
    std::vector<float> columns(static_cast<std::size_t>(g.patch_size() * row_stride),
                               std::numeric_limits<float>::quiet_NaN());
    im2col(g, image.data(), columns.data() + positions, row_stride);
    for (Index r = 0; r < g.patch_size(); ++r)
      for (Index p = 0; p < row_stride; ++p) {
        const float value = columns[static_cast<std::size_t>(r * row_stride + p)];
        if (p < positions || p >= 2 * positions) {
          REQUIRE(std::isnan(value));
          continue;
        }
        const ColumnSource from = column_source(g, r, p - positions);
        REQUIRE(value == (from.inside ? x(from.c, from.ih, from.iw) : 0.0f));
      }
  });
}

TEST_CASE("col2im adds exactly its sample's block of a wide matrix, for every output width") {
  // The adjoint of the case above: the block is random, the rest NaN (a read outside the block
  // would spread them); col2im must add each entry onto the input element that im2col copies it
  // from, element by element as the definition does.
  for_each_wide_case([](const Shape& sample, const WindowGeometry& g, std::uint64_t seed) {
    const Index positions = g.positions(), row_stride = 3 * positions;
    const auto block = random_tensor<double>({g.patch_size(), positions}, seed);
    std::vector<double> columns(static_cast<std::size_t>(g.patch_size() * row_stride),
                                std::numeric_limits<double>::quiet_NaN());
    Tensor<double> expected(sample, 0.5);
    for (Index r = 0; r < g.patch_size(); ++r)
      for (Index p = 0; p < positions; ++p) {
        columns[static_cast<std::size_t>(r * row_stride + positions + p)] = block(r, p);
        const ColumnSource to = column_source(g, r, p);
        if (to.inside) expected(to.c, to.ih, to.iw) += block(r, p);
      }
    std::vector<double> image(static_cast<std::size_t>(sample.size()), 0.5);
    col2im(g, columns.data() + positions, image.data(), row_stride);
    for (Index e = 0; e < sample.size(); ++e)
      REQUIRE(image[static_cast<std::size_t>(e)] ==
              doctest::Approx(expected.data()[e]).epsilon(1e-14));
  });
}

TEST_CASE("col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>") {
  struct Case {
    Shape sample;
    Size2 kernel, strides;
    Padding padding;
  };
  const Case cases[] = {{{1, 4, 4}, 3, 1, Padding::valid},
                        {{2, 7, 5}, {2, 3}, 1, Padding::same},
                        {{3, 5, 5}, 3, 2, Padding::same},
                        {{2, 6, 7}, {3, 2}, {2, 3}, Padding::same},
                        {{1, 9, 4}, {1, 4}, {3, 1}, Padding::valid},
                        {{2, 3, 3}, 5, 4, Padding::same}};  // kernel larger than the input
  // The same with explicit pads and dilation (a tap past the input reads only padding).
  struct PaddedCase {
    Shape sample;
    Size2 kernel, strides;
    Pads pads;
    Size2 dilation;
  };
  const PaddedCase padded_cases[] = {{{2, 7, 6}, 3, 2, Pads(3), 1},
                                     {{1, 6, 9}, {3, 2}, {1, 2}, Pads(2, 1, 0, 3), {2, 3}},
                                     {{2, 5, 5}, 3, 1, Pads(4, 0, 0, 4), 2},
                                     {{1, 2, 3}, 2, 3, Pads(5, 4, 1, 6), 1}};
  std::vector<WindowGeometry> geometries;
  for (const Case& c : cases)
    geometries.push_back(
        WindowGeometry::of("test", "kernel", c.sample, c.kernel, c.strides, c.padding));
  for (const PaddedCase& c : padded_cases)
    geometries.push_back(
        WindowGeometry::of("test", "kernel", c.sample, c.kernel, c.strides, c.pads, c.dilation));
  std::uint64_t seed = 1;
  for (const WindowGeometry& g : geometries) {
    const Shape sample{g.channels, g.height, g.width};
    CAPTURE(sample);
    CAPTURE(g.pads().str());
    const auto x = random_tensor<double>(sample, seed++);
    const auto columns = random_tensor<double>({g.patch_size(), g.positions()}, seed++);
    Tensor<double> lowered({g.patch_size(), g.positions()});
    im2col(g, x.data(), lowered.data());
    Tensor<double> raised(sample, 0.0);
    col2im(g, columns.data(), raised.data());
    const double lhs = lowered.vector().dot(columns.vector());
    const double rhs = x.vector().dot(raised.vector());
    CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
  }
}

TEST_CASE("Conv2D computes the cross-correlation of a hand-checked 4x4 input") {
  // x = 1..16 in one channel; the kernel picks the window's top-left element plus twice its
  // bottom-right one: y[oh, ow] = x[oh, ow] + 2 x[oh + 2, ow + 2] + 0.5. A flipped kernel (a true
  // convolution) would give x[oh + 2, ow + 2] + 2 x[oh, ow] + 0.5 instead.
  Conv2D<double> conv(1, 3);
  Random random(1);
  CHECK(conv.build({1, 4, 4}, random) == Shape{1, 2, 2});
  conv.parameters()[0]->value = Tensor<double>::of({1, 1, 3, 3}, {1, 0, 0, 0, 0, 0, 0, 0, 2});
  conv.parameters()[1]->value = Tensor<double>::of({1}, {0.5});
  const auto x = Tensor<double>::of({1, 1, 4, 4}, {1, 2, 3, 4, 5, 6, 7, 8,  //
                                                   9, 10, 11, 12, 13, 14, 15, 16});
  Tensor<double> y;
  conv.forward(x, y, Mode::inference);
  CHECK(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y[0] == 1 + 2 * 11 + 0.5);
  CHECK(y[1] == 2 + 2 * 12 + 0.5);
  CHECK(y[2] == 5 + 2 * 15 + 0.5);
  CHECK(y[3] == 6 + 2 * 16 + 0.5);

  SUBCASE("stride 2 with a non-square 1x2 kernel: y = x[2oh, 2ow] - x[2oh, 2ow + 1]") {
    Conv2D<double> pairs(1, {1, 2}, 2, Padding::valid, false);
    pairs.build({1, 4, 4}, random);
    pairs.parameters()[0]->value = Tensor<double>::of({1, 1, 1, 2}, {1, -1});
    pairs.forward(x, y, Mode::inference);
    CHECK(y.shape() == Shape{1, 1, 2, 2});
    for (double v : y)
      CHECK(v == -1);
  }
}

TEST_CASE("Conv2D 'same' with stride 2 pads the extra row and column at the bottom/right") {
  // 5x5 input x[h, w] = 5h + w + 1, 2x2 kernel of ones, stride 2: output ceil(5/2) = 3, total
  // padding (3-1)*2 + 2 - 5 = 1, all of it after. The windows start at rows/columns 0, 2, 4, so
  // the last row and column of windows see one real row/column and one of padding. (Padding
  // before instead would start them at -1, 1, 3 and give 1, 5, 9, ... in the corner.)
  Conv2D<double> conv(1, 2, 2, Padding::same, false);
  Random random(2);
  CHECK(conv.build({1, 5, 5}, random) == Shape{1, 3, 3});
  conv.parameters()[0]->value.fill(1.0);
  Tensor<double> x({1, 1, 5, 5});
  for (Index i = 0; i < 25; ++i)
    x[i] = static_cast<double>(i + 1);
  Tensor<double> y;
  conv.forward(x, y, Mode::inference);
  const auto expected =
      Tensor<double>::of({1, 1, 3, 3}, {1 + 2 + 6 + 7, 3 + 4 + 8 + 9, 5 + 10, 11 + 12 + 16 + 17,
                                        13 + 14 + 18 + 19, 15 + 20, 21 + 22, 23 + 24, 25});
  for (Index i = 0; i < 9; ++i) {
    CAPTURE(i);
    CHECK(y[i] == expected[i]);
  }
}

TEST_CASE("Conv2D infers its output shape for valid/same, strides 1/2 and non-square kernels") {
  struct Case {
    Size2 kernel, strides;
    Padding padding;
    Shape input, output;
  };
  const Case cases[] = {
      {3, 1, Padding::valid, {3, 28, 28}, {4, 26, 26}},
      {3, 1, Padding::same, {3, 28, 28}, {4, 28, 28}},
      {3, 2, Padding::valid, {1, 7, 7}, {4, 3, 3}},
      {3, 2, Padding::same, {1, 7, 7}, {4, 4, 4}},
      {{2, 3}, 1, Padding::valid, {2, 7, 5}, {4, 6, 3}},
      {{2, 3}, {2, 1}, Padding::same, {2, 7, 5}, {4, 4, 5}},
      {{5, 1}, {1, 3}, Padding::valid, {1, 5, 10}, {4, 1, 4}},
      {5, 3, Padding::same, {1, 2, 2}, {4, 1, 1}},  // 'same' lets the kernel exceed the input
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CAPTURE(c.kernel.str());
    Conv2D<float> conv(4, c.kernel, c.strides, c.padding);
    Random random(3);
    CHECK(conv.build(c.input, random) == c.output);
    Tensor<float> x(c.input.with_batch(2), 0.5f), y;
    conv.forward(x, y, Mode::inference);
    CHECK(y.shape() == c.output.with_batch(2));
  }
}

namespace {

// The largest |a - b| over the elements of two tensors of one shape.
double max_difference(const Tensor<double>& a, const Tensor<double>& b) {
  REQUIRE(a.shape() == b.shape());
  return a.size() == 0 ? 0.0 : (a.vector() - b.vector()).cwiseAbs().maxCoeff();
}

// One random convolution of the sweep below, and the layer and the reference's arguments for it.
struct RandomConvolution {
  Shape input;  // batch included
  Index filters;
  Size2 kernel, strides, dilation;
  int padding;  // 0: 'valid', 1: 'same', 2: explicit pads
  Pads pads;    // with padding 2
  bool use_bias;

  // Draws one after another (the order of a function's arguments is unspecified).
  static RandomConvolution draw(Random& random) {
    auto draw_index = [&](Index largest) { return 1 + random.below(largest); };  // 1 to largest
    auto draw_size = [&](Index largest) {
      const Index height = draw_index(largest);
      return Size2(height, draw_index(largest));
    };
    RandomConvolution c{{}, 0, 1, 1, 1, 0, Pads(0), true};
    c.filters = draw_index(20);
    c.kernel = draw_size(4);
    c.strides = draw_size(3);
    c.dilation = draw_size(3);
    c.padding = static_cast<int>(random.below(3));
    if (c.padding == 2) {
      c.pads.top = random.below(4);
      c.pads.bottom = random.below(4);
      c.pads.left = random.below(4);
      c.pads.right = random.below(4);
    }
    c.use_bias = random.below(4) != 0;
    // The input: at least what the dilated kernel spans once padded, and up to 5 more.
    const Index span_h = (c.kernel.height - 1) * c.dilation.height + 1;
    const Index span_w = (c.kernel.width - 1) * c.dilation.width + 1;
    const Index height = std::max<Index>(1, span_h - c.pads.top - c.pads.bottom) + random.below(6);
    const Index width = std::max<Index>(1, span_w - c.pads.left - c.pads.right) + random.below(6);
    // Batch 17 with a small output lowers several samples per product (Conv2D::group_size).
    const Index batch = 1 + 8 * random.below(3);
    c.input = Shape{batch, draw_index(4), height, width};
    return c;
  }

  Conv2D<double> layer() const {
    if (padding == 2)
      return Conv2D<double>(filters, kernel, strides, pads, use_bias, Initializer::glorot_uniform,
                            dilation);
    return Conv2D<double>(filters, kernel, strides, padding == 1 ? Padding::same : Padding::valid,
                          use_bias, Initializer::glorot_uniform, dilation);
  }

  reference::Conv2DArguments arguments() const {
    if (padding == 2) return {strides, pads, dilation, 1};
    const auto g = WindowGeometry::of("test", "kernel", input.sample(), kernel, strides,
                                      padding == 1 ? Padding::same : Padding::valid, dilation);
    return {strides, g.pads(), dilation, 1};
  }

  std::string str() const {
    const char* names[] = {"valid", "same", "pads"};
    return input.str() + ", " + std::to_string(filters) + " filters, kernel " + kernel.str() +
           ", strides " + strides.str() + ", dilation " + dilation.str() + ", " + names[padding] +
           (padding == 2 ? " " + pads.str() : "") + (use_bias ? ", bias" : ", no bias");
  }
};

}  // namespace

TEST_CASE("Conv2D agrees with the reference convolution on 60 random shapes: y, dx, dW and db") {
  // Batch 1, 9 or 17; 1 to 4 channels; 1 to 20 filters (past 16 with a patch past 16, dW takes
  // gemm.hpp's product); kernels 1 to 4, strides and dilation 1 to 3 per axis; 'valid', 'same'
  // or pads 0 to 3 on each side; bias or not. Everything in double, within 1e-12.
  Random random(2026);
  for (int k = 0; k < 60; ++k) {
    const RandomConvolution c = RandomConvolution::draw(random);
    CAPTURE(c.str());
    Conv2D<double> conv = c.layer();
    conv.build(c.input.sample(), random);
    auto params = conv.parameters();
    if (c.use_bias) params[1]->value.fill_uniform(random, -1.0, 1.0);
    const auto x = random_tensor<double>(c.input, random.next_u64());
    Tensor<double> y, dx;
    conv.forward(x, y, Mode::training);
    const Tensor<double>* bias = c.use_bias ? &params[1]->value : nullptr;
    const auto expected = reference::conv2d_forward(x, params[0]->value, bias, c.arguments());
    REQUIRE(y.shape() == expected.shape());
    CHECK(max_difference(y, expected) < 1e-12);

    const auto dy = random_tensor<double>(y.shape(), random.next_u64());
    conv.backward(x, y, dy, dx, Mode::training);
    const auto grads =
        reference::conv2d_backward(x, params[0]->value, c.use_bias, dy, c.arguments());
    CHECK(max_difference(dx, grads.dx) < 1e-12);
    CHECK(max_difference(params[0]->grad, grads.dw) < 1e-12);
    if (c.use_bias) CHECK(max_difference(params[1]->grad, grads.db) < 1e-12);
  }
}

TEST_CASE("Conv2D has kernel (F, C, KH, KW) and bias (F), Glorot-uniform and zero") {
  Conv2D<float> conv(16, {3, 5});
  Random random(4);
  conv.build({8, 20, 20}, random);
  auto params = conv.parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0]->name == "kernel");
  CHECK(params[0]->value.shape() == Shape{16, 8, 3, 5});
  CHECK(params[1]->name == "bias");
  CHECK(params[1]->value.shape() == Shape{16});
  CHECK(conv.parameter_count(true) == 16 * 8 * 15 + 16);
  // fan_in = C*KH*KW = 120, fan_out = F*KH*KW = 240.
  const float limit = std::sqrt(6.0f / (120 + 240));
  float lowest = limit, highest = -limit;
  for (float w : params[0]->value) {
    lowest = std::min(lowest, w);
    highest = std::max(highest, w);
  }
  CHECK(lowest >= -limit);
  CHECK(highest < limit);
  CHECK(lowest < -0.99f * limit);  // 1,920 draws reach both ends of the range
  CHECK(highest > 0.99f * limit);
  for (float b : params[1]->value)
    CHECK(b == 0.0f);

  Conv2D<float> no_bias(4, 3, 1, Padding::valid, false);
  no_bias.build({2, 5, 5}, random);
  CHECK(no_bias.parameters().size() == 1);
  CHECK(no_bias.parameter_count(true) == 4 * 2 * 9);
}

TEST_CASE("Conv2D gradients match central differences") {
  struct Case {
    Shape input;  // batch included
    Index filters;
    Size2 kernel, strides;
    Padding padding;
    bool use_bias;
  };
  const Case cases[] = {
      {{1, 1, 5, 5}, 2, 3, 1, Padding::valid, true},
      {{3, 2, 7, 5}, 3, {2, 3}, 1, Padding::valid, true},
      {{2, 3, 7, 5}, 2, 3, 2, Padding::same, true},
      {{3, 2, 6, 7}, 2, {2, 3}, {2, 1}, Padding::same, false},
      {{2, 2, 5, 5}, 3, 1, 2, Padding::valid, true},
      {{3, 1, 5, 4}, 2, {2, 2}, 2, Padding::same, true},
      // 20 filters on a 2x3x3 = 18-row patch: both exceed one register block of gemm.hpp's
      // product (16 doubles), so dW takes its path too (with edge blocks), not only y and dx.
      {{2, 2, 6, 6}, 20, 3, 1, Padding::same, true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CAPTURE(c.kernel.str());
    CAPTURE(c.strides.str());
    CAPTURE(to_string(c.padding));
    Conv2D<double> conv(c.filters, c.kernel, c.strides, c.padding, c.use_bias);
    Random random(5);
    conv.build(c.input.sample(), random);
    if (c.use_bias) conv.parameters()[1]->value.fill_uniform(random, -1.0, 1.0);
    const auto report = testing::check_layer_gradients(conv, c.input, 17);
    INFO(report.worst_element);
    CHECK(report.worst_error < 1e-6);
    const Index kernel_size = c.filters * c.input[1] * c.kernel.height * c.kernel.width;
    CHECK(report.elements_checked == c.input.size() + kernel_size + (c.use_bias ? c.filters : 0));
  }
}

TEST_CASE("Conv2D backward adds to the parameter gradients") {
  Conv2D<double> conv(2, 3, 1, Padding::same);
  Random random(6);
  conv.build({2, 5, 5}, random);
  const auto x = random_tensor<double>({2, 2, 5, 5}, 7);
  const auto dy = random_tensor<double>({2, 2, 5, 5}, 8);
  Tensor<double> y, dx;
  conv.forward(x, y, Mode::training);
  conv.backward(x, y, dy, dx, Mode::training);
  const Tensor<double> once = conv.parameters()[0]->grad;
  const Tensor<double> bias_once = conv.parameters()[1]->grad;
  conv.backward(x, y, dy, dx, Mode::training);
  CHECK((conv.parameters()[0]->grad.vector() - 2 * once.vector()).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((conv.parameters()[1]->grad.vector() - 2 * bias_once.vector()).cwiseAbs().maxCoeff() <
        1e-12);
}

TEST_CASE("Conv2D backward_parameters accumulates backward's parameter gradients, without dx") {
  // 8 samples of 2x2 outputs are lowered in groups of one sample; 64 samples of 1x1 outputs in
  // groups of 8 side by side (group_size): both paths give dW and db bit for bit as backward().
  for (const Shape input : {Shape{8, 3, 3, 3}, Shape{64, 2, 2, 2}}) {
    CAPTURE(input);
    Conv2D<float> with_dx(5, 2), without_dx(5, 2);
    Random first(12), second(12);
    with_dx.build(input.sample(), first);
    without_dx.build(input.sample(), second);
    const auto x = random_tensor<float>(input, 13);
    Tensor<float> y, dx, scratch;
    with_dx.forward(x, y, Mode::training);
    without_dx.forward(x, y, Mode::training);
    const auto dy = random_tensor<float>(y.shape(), 14);
    with_dx.backward(x, y, dy, dx, Mode::training);
    without_dx.backward_parameters(x, y, dy, scratch, Mode::training);
    for (std::size_t k = 0; k < 2; ++k)
      CHECK(identical(with_dx.parameters()[k]->grad, without_dx.parameters()[k]->grad));
    CHECK(scratch.empty());  // no dx was computed
  }
}

TEST_CASE("Conv2D is deterministic across runs and thread counts") {
  // The forward pass and dx: each sample is computed by one thread in a fixed order, so the
  // results are bit-identical for any thread count. dW and db: summed per thread then over
  // threads in order, so bit-identical from run to run for a given thread count and equal up to
  // rounding across thread counts.
  const Shape input{5, 3, 9, 7};
  const auto x = random_tensor<float>(input, 9);
  const auto dy_shape = Shape{5, 4, 5, 4};
  const auto dy = random_tensor<float>(dy_shape, 10);
  struct Result {
    Tensor<float> y, dx, kernel_grad, bias_grad;
  };
  auto run = [&](int threads) {
    Result r;
    with_threads(threads, [&] {
      Conv2D<float> conv(4, 3, 2, Padding::same);
      Random random(11);
      conv.build(input.sample(), random);
      conv.forward(x, r.y, Mode::training);
      conv.backward(x, r.y, dy, r.dx, Mode::training);
      r.kernel_grad = conv.parameters()[0]->grad;
      r.bias_grad = conv.parameters()[1]->grad;
    });
    return r;
  };
  const Result one = run(1), two = run(2), two_again = run(2);
  CHECK(identical(one.y, two.y));
  CHECK(identical(one.dx, two.dx));
  CHECK(identical(two.y, two_again.y));
  CHECK(identical(two.kernel_grad, two_again.kernel_grad));
  CHECK(identical(two.bias_grad, two_again.bias_grad));
  CHECK((one.kernel_grad.vector() - two.kernel_grad.vector()).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK((one.bias_grad.vector() - two.bias_grad.vector()).cwiseAbs().maxCoeff() < 1e-5f);

  Tensor<float> inference;
  with_threads(2, [&] {
    Conv2D<float> conv(4, 3, 2, Padding::same);
    Random random(11);
    conv.build(input.sample(), random);
    conv.forward(x, inference, Mode::inference);
  });
  CHECK(identical(inference, one.y));
}

TEST_CASE("Conv2D runs inference from several threads at once on one layer") {
  Conv2D<float> conv(6, 3, 1, Padding::same);
  Random random(12);
  conv.build({3, 12, 12}, random);
  std::vector<Tensor<float>> inputs, expected(4), results(4);
  for (std::uint64_t i = 0; i < 4; ++i)
    inputs.push_back(random_tensor<float>({3, 3, 12, 12}, 20 + i));
  for (std::size_t i = 0; i < 4; ++i)
    conv.forward(inputs[i], expected[i], Mode::inference);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      for (int repeat = 0; repeat < 20; ++repeat)
        conv.forward(inputs[i], results[i], Mode::inference);
    });
  for (auto& t : threads)
    t.join();
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(identical(results[i], expected[i]));
}

TEST_CASE("Conv2D refuses bad arguments and shapes, naming itself") {
  CHECK_THROWS_WITH_AS(Conv2D<float>(0, 3), "Conv2D: expected filters > 0, got 0", Error);
  CHECK_THROWS_WITH_AS(Conv2D<float>(8, {0, 3}),
                       "Conv2D: expected kernel_size > 0 in both axes, got 0x3", Error);
  CHECK_THROWS_WITH_AS(Conv2D<float>(8, 3, {1, -2}),
                       "Conv2D: expected strides > 0 in both axes, got 1x-2", Error);

  Conv2D<float> conv(4, {5, 3});
  conv.set_name("conv");
  Random random(13);
  CHECK_THROWS_WITH_AS(
      conv.build({64}, random),
      "Conv2D 'conv': expected input of rank 3 per sample (channels, height, width), got (64)",
      Error);
  CHECK_THROWS_WITH_AS(conv.build({3, 0, 8}, random),
                       "Conv2D 'conv': expected a non-empty input, got (3, 0, 8)", Error);
  CHECK_THROWS_WITH_AS(conv.build({3, 4, 8}, random),
                       "Conv2D 'conv': the 5x3 kernel does not fit the 4x8 input with 'valid' "
                       "padding; use 'same' padding or a smaller kernel",
                       Error);

  Tensor<float> x({2, 3, 8, 8}), y, dx;
  CHECK_THROWS_WITH_AS(conv.forward(x, y, Mode::inference),
                       "Conv2D 'conv': forward() called before build()", Error);
  conv.build({3, 8, 8}, random);
  Tensor<float> wrong({2, 3, 8, 9});
  CHECK_THROWS_WITH_AS(conv.forward(wrong, y, Mode::inference),
                       "Conv2D 'conv': expected input of shape (N, 3, 8, 8), got (2, 3, 8, 9)",
                       Error);
  conv.forward(x, y, Mode::training);
  Tensor<float> dy({2, 4, 4, 5});
  CHECK_THROWS_WITH_AS(
      conv.backward(x, y, dy, dx, Mode::training),
      "Conv2D 'conv': expected output gradient of shape (2, 4, 4, 6), got (2, 4, 4, 5)", Error);
}

TEST_CASE("Conv2D round-trips through its config") {
  Conv2D<float> conv(12, {3, 5}, {2, 1}, Padding::same, false, Initializer::he_normal);
  CHECK(conv.config().str() ==
        "filters=12, kernel_size=3x5, strides=2x1, padding=same, use_bias=false, "
        "kernel_initializer=he_normal, dilation_rate=1x1");
  auto copy = Conv2D<float>::from_config(conv.config());
  CHECK(copy->kind() == "Conv2D");
  CHECK(copy->config() == conv.config());
  Random random(14);
  CHECK(copy->build({3, 9, 9}, random) == Shape{12, 5, 9});
}

TEST_CASE("Conv2D round-trips explicit pads and dilation through its config") {
  Conv2D<float> conv(6, 3, {1, 2}, Pads(2, 1, 0, 3), true, Initializer::glorot_uniform, {2, 3});
  CHECK(conv.config().str() ==
        "filters=6, kernel_size=3x3, strides=1x2, padding=explicit, pads=2,1,0,3, use_bias=true, "
        "kernel_initializer=glorot_uniform, dilation_rate=2x3");
  auto copy = Conv2D<float>::from_config(conv.config());
  CHECK(copy->config() == conv.config());
  Random random(15);
  // Rows: 5 + 2 + 1 - 5 + 1 = 4; columns: floor((9 + 0 + 3 - 7) / 2) + 1 = 3.
  CHECK(copy->build({2, 5, 9}, random) == Shape{6, 4, 3});
}

TEST_CASE("Conv2D reads a config written before pads and dilation_rate, as it meant then") {
  // A checkpoint saved before these keys existed holds exactly this config; the layer it makes
  // has no dilation and Keras's 'same' padding, and with the same weights computes bit for bit
  // what a layer constructed with those arguments does.
  Config old;
  old.set("filters", 4)
      .set("kernel_size", "3x2")
      .set("strides", "2x1")
      .set("padding", "same")
      .set("use_bias", true)
      .set("kernel_initializer", "glorot_uniform");
  auto loaded = Conv2D<float>::from_config(old);
  CHECK(loaded->config().str() ==
        "filters=4, kernel_size=3x2, strides=2x1, padding=same, use_bias=true, "
        "kernel_initializer=glorot_uniform, dilation_rate=1x1");
  Conv2D<float> constructed(4, {3, 2}, {2, 1}, Padding::same);
  Random first(16), second(16);
  loaded->build({3, 7, 6}, first);
  constructed.build({3, 7, 6}, second);
  for (std::size_t k = 0; k < 2; ++k) {
    loaded->parameters()[k]->value.fill_uniform(first, -1.0f, 1.0f);
    constructed.parameters()[k]->value = loaded->parameters()[k]->value;
  }
  const auto x = random_tensor<float>({2, 3, 7, 6}, 17);
  Tensor<float> from_old, from_constructor;
  loaded->forward(x, from_old, Mode::inference);
  constructed.forward(x, from_constructor, Mode::inference);
  CHECK(identical(from_old, from_constructor));
}

TEST_CASE(
    "Conv2D output size with pads and dilation: floor((H + top + bottom - D*(K-1) - 1) / S) + 1") {
  struct Case {
    Size2 kernel, strides;
    Pads pads;
    Size2 dilation;
    Shape input, output;
  };
  const Case cases[] = {
      {7, 2, Pads(3), 1, {3, 224, 224}, {2, 112, 112}},  // ResNet's first convolution
      {7, 2, Pads(3), 1, {3, 11, 10}, {2, 6, 5}},
      {3, 1, Pads(1, 2), 1, {1, 5, 5}, {2, 5, 7}},
      {3, 1, Pads(0), 2, {1, 9, 7}, {2, 5, 3}},  // a 3x3 kernel dilated by 2 spans 5x5
      {3, 1, Pads(2), 2, {1, 9, 7}, {2, 9, 7}},
      {{3, 2}, {2, 3}, Pads(2, 1, 0, 3), {2, 3}, {1, 6, 9}, {2, 3, 3}},
      {3, 1, Pads(4, 0, 0, 0), 1, {1, 1, 3}, {2, 3, 1}},  // the first rows read only padding
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CAPTURE(c.pads.str());
    Conv2D<float> conv(2, c.kernel, c.strides, c.pads, true, Initializer::glorot_uniform,
                       c.dilation);
    Random random(18);
    CHECK(conv.build(c.input, random) == c.output);
  }
  SUBCASE("'same' with dilation keeps Keras's rule on the dilated span: ceil(H / S)") {
    Conv2D<float> conv(2, 3, {1, 2}, Padding::same, true, Initializer::glorot_uniform, 3);
    Random random(19);
    CHECK(conv.build({1, 4, 9}, random) == Shape{2, 4, 5});
  }
}

TEST_CASE("Conv2D with dilation and asymmetric pads on hand-checked inputs") {
  SUBCASE("a 3x3 kernel dilated by 2 reads every other row and column") {
    // x = 1..25 (5x5), the kernel picks its top-left tap plus twice its bottom-right one, which
    // dilation puts 4 rows and columns apart: y = x[0, 0] + 2 x[4, 4] = 1 + 2 * 25.
    Conv2D<double> conv(1, 3, 1, Padding::valid, false, Initializer::glorot_uniform, 2);
    Random random(20);
    CHECK(conv.build({1, 5, 5}, random) == Shape{1, 1, 1});
    conv.parameters()[0]->value = Tensor<double>::of({1, 1, 3, 3}, {1, 0, 0, 0, 0, 0, 0, 0, 2});
    Tensor<double> x({1, 1, 5, 5}), y;
    for (Index i = 0; i < 25; ++i)
      x[i] = static_cast<double>(i + 1);
    conv.forward(x, y, Mode::inference);
    CHECK(y[0] == 1 + 2 * 25);
  }
  SUBCASE("pads 1 above, 0 below, 0 left, 2 right place the input at the top left") {
    Conv2D<double> conv(1, 1, 1, Pads(1, 0, 0, 2), false);
    Random random(21);
    CHECK(conv.build({1, 2, 2}, random) == Shape{1, 3, 4});
    conv.parameters()[0]->value.fill(1.0);
    const auto x = Tensor<double>::of({1, 1, 2, 2}, {1, 2, 3, 4});
    Tensor<double> y;
    conv.forward(x, y, Mode::inference);
    const std::vector<double> expected{0, 0, 0, 0,  //
                                       1, 2, 0, 0,  //
                                       3, 4, 0, 0};
    CHECK(std::vector<double>(y.begin(), y.end()) == expected);
  }
}

TEST_CASE("Conv2D gradients match central differences with explicit pads and dilation") {
  struct Case {
    Shape input;  // batch included
    Index filters;
    Size2 kernel, strides;
    Pads pads;
    Size2 dilation;
    bool use_bias;
  };
  const Case cases[] = {
      {{2, 2, 7, 6}, 3, 3, 2, Pads(1), 1, true},
      {{2, 2, 5, 6}, 2, {3, 2}, 1, Pads(2, 0, 1, 3), 1, false},
      {{2, 2, 7, 7}, 2, 3, 1, Pads(0), 2, true},
      {{3, 1, 6, 8}, 2, {2, 3}, {2, 1}, Pads(1, 2, 0, 1), {2, 3}, true},
      {{1, 3, 5, 5}, 2, 3, 1, Pads(3, 0, 0, 3), 1, true},  // taps that read only padding
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CAPTURE(c.pads.str());
    CAPTURE(c.dilation.str());
    Conv2D<double> conv(c.filters, c.kernel, c.strides, c.pads, c.use_bias,
                        Initializer::glorot_uniform, c.dilation);
    Random random(22);
    conv.build(c.input.sample(), random);
    if (c.use_bias) conv.parameters()[1]->value.fill_uniform(random, -1.0, 1.0);
    const auto report = testing::check_layer_gradients(conv, c.input, 23);
    INFO(report.worst_element);
    CHECK(report.worst_error < 1e-6);
  }
  SUBCASE("'same' with dilation") {
    Conv2D<double> conv(2, 3, {2, 1}, Padding::same, true, Initializer::glorot_uniform, {1, 2});
    Random random(24);
    conv.build({2, 5, 6}, random);
    const auto report = testing::check_layer_gradients(conv, {2, 2, 5, 6}, 25);
    INFO(report.worst_element);
    CHECK(report.worst_error < 1e-6);
  }
}

TEST_CASE("Conv2D refuses bad pads and dilation, naming itself, the expected and the actual") {
  CHECK_THROWS_WITH_AS(Conv2D<float>(8, 3, 1, Pads(1, -1, 0, 0)),
                       "Conv2D: expected pads >= 0 on every side, got 1,-1,0,0 "
                       "(top,bottom,left,right)",
                       Error);
  CHECK_THROWS_WITH_AS(
      Conv2D<float>(8, 3, 1, Padding::same, true, Initializer::glorot_uniform, {0, 1}),
      "Conv2D: expected dilation_rate > 0 in both axes, got 0x1", Error);

  Random random(26);
  Conv2D<float> dilated(4, 3, 1, Padding::valid, true, Initializer::glorot_uniform, {2, 1});
  dilated.set_name("dilated");
  CHECK_THROWS_WITH_AS(dilated.build({3, 4, 8}, random),
                       "Conv2D 'dilated': the 3x3 kernel dilated by 2x1 does not fit the 4x8 "
                       "input with 'valid' padding; expected a padded input of at least 5x3, got "
                       "4x8",
                       Error);
  Conv2D<float> padded(4, 7, 2, Pads(1, 1, 2, 2));
  padded.set_name("padded");
  CHECK_THROWS_WITH_AS(padded.build({3, 4, 8}, random),
                       "Conv2D 'padded': the 7x7 kernel does not fit the 4x8 input with pads "
                       "1,1,2,2; expected a padded input of at least 7x7, got 6x12",
                       Error);

  // Absurd numbers, as a damaged checkpoint's config may hold: refused, not wrapped around.
  const std::string largest = std::to_string(std::numeric_limits<Index>::max());
  const Index huge = std::numeric_limits<Index>::max() / 2;  // 4 + 2 huge passes it
  Conv2D<float> far(4, 3, 1, Pads(huge, huge, 0, 0));
  CHECK_THROWS_WITH_AS(far.build({3, 4, 8}, random),
                       ("Conv2D: expected the padded input to have at most " + largest +
                        " rows and columns, got the 4x8 input with pads " + std::to_string(huge) +
                        "," + std::to_string(huge) + ",0,0")
                           .c_str(),
                       Error);
  // 2 * 2^62 + 1 columns: one past the largest Index.
  Conv2D<float> wide(4, 3, 1, Padding::same, true, Initializer::glorot_uniform,
                     {1, Index(1) << 62});
  CHECK_THROWS_WITH_AS(wide.build({3, 4, 8}, random),
                       ("Conv2D: expected the 3x3 kernel dilated by 1x4611686018427387904 to span "
                        "at most " +
                        largest + " rows and columns")
                           .c_str(),
                       Error);

  Config config = Conv2D<float>(4, 3, 1, Pads(1)).config();
  config.set("pads", "1,1,1");
  CHECK_THROWS_WITH_AS(Conv2D<float>::from_config(config),
                       "Pads: expected top,bottom,left,right such as 3,3,3,3, got '1,1,1'", Error);
}

TEST_CASE("The reference convolution computes groups and refuses inconsistent shapes") {
  // Two groups: filter 0 sees channels 0-1, filter 1 channels 2-3. With 1x1 kernels of ones,
  // y[0] = x0 + x1 and y[1] = x2 + x3 at every position.
  const auto x = random_tensor<double>({1, 4, 2, 3}, 27);
  const Tensor<double> w({2, 2, 1, 1}, 1.0);
  const auto y = reference::conv2d_forward<double>(x, w, nullptr, {1, Pads(0), 1, 2});
  REQUIRE(y.shape() == Shape{1, 2, 2, 3});
  for (Index h = 0; h < 2; ++h)
    for (Index v = 0; v < 3; ++v) {
      CHECK(y(0, 0, h, v) == x(0, 0, h, v) + x(0, 1, h, v));
      CHECK(y(0, 1, h, v) == x(0, 2, h, v) + x(0, 3, h, v));
    }

  CHECK_THROWS_WITH_AS(reference::conv2d_forward<double>(x, w, nullptr, {}),
                       "reference::conv2d: expected x's channels = w's channels per group * "
                       "groups and groups dividing the filters, got x (1, 4, 2, 3), w "
                       "(2, 2, 1, 1) and 1 groups",
                       Error);
  CHECK_THROWS_WITH_AS(reference::conv2d_forward<double>(x, Tensor<double>({2, 2, 1}), nullptr, {}),
                       "reference::conv2d: expected x (N, C, H, W) and w (F, C/groups, KH, KW), "
                       "got (1, 4, 2, 3) and (2, 2, 1)",
                       Error);
  CHECK_THROWS_WITH_AS(reference::conv2d_forward<double>(x, w, nullptr, {0, Pads(0), 1, 2}),
                       "reference::conv2d: expected strides and dilation > 0 and pads >= 0, got "
                       "strides 0x0, dilation 1x1, pads 0,0,0,0",
                       Error);
  CHECK_THROWS_WITH_AS(
      reference::conv2d_forward<double>(x, Tensor<double>({2, 2, 3, 3}, 1.0), nullptr,
                                        {1, Pads(0), 1, 2}),
      "reference::conv2d: expected the dilated kernel to fit the padded input, got x "
      "(1, 4, 2, 3), w (2, 2, 3, 3), pads 0,0,0,0, dilation 1x1",
      Error);
  CHECK_THROWS_WITH_AS(
      reference::conv2d_forward<double>(x, Tensor<double>({2, 2, 1, 3}, 1.0), nullptr,
                                        {1, Pads(0), {1, Index(1) << 62}, 2}),
      "reference::conv2d: expected the dilated kernel and the padded input to fit in an Index, "
      "got x (1, 4, 2, 3), w (2, 2, 1, 3), pads 0,0,0,0, dilation 1x4611686018427387904",
      Error);
  const Tensor<double> b({3}, 0.0);
  CHECK_THROWS_WITH_AS(reference::conv2d_forward(x, w, &b, {1, Pads(0), 1, 2}),
                       "reference::conv2d: expected b of shape (2), got (3)", Error);
  const Tensor<double> dy({1, 2, 3, 2}, 0.0);
  CHECK_THROWS_WITH_AS(reference::conv2d_backward(x, w, false, dy, {1, Pads(0), 1, 2}),
                       "reference::conv2d: expected dy of shape (1, 2, 2, 3), got (1, 2, 3, 2)",
                       Error);
}

namespace {

// Channels [first, first + count) of a 4-D tensor (axis 1), as a tensor of their own.
Tensor<double> channels(const Tensor<double>& t, Index first, Index count) {
  Tensor<double> part({t.dim(0), count, t.dim(2), t.dim(3)});
  for (Index n = 0; n < t.dim(0); ++n)
    for (Index c = 0; c < count; ++c)
      for (Index h = 0; h < t.dim(2); ++h)
        for (Index w = 0; w < t.dim(3); ++w)
          part(n, c, h, w) = t(n, first + c, h, w);
  return part;
}

}  // namespace

TEST_CASE("The reference convolution with groups is one convolution per group, forward and back") {
  // 2 groups: filters 0-2 see input channels 0-1, filters 3-5 channels 2-3. Every result of the
  // grouped convolution is that of the two convolutions on those slices, term for term in the
  // same order, so bit for bit: y, dx, dw and db.
  const auto x = random_tensor<double>({2, 4, 5, 6}, 28);
  const auto w = random_tensor<double>({6, 2, 3, 2}, 29);
  const auto b = random_tensor<double>({6}, 30);
  const reference::Conv2DArguments grouped{{1, 2}, Pads(1, 0, 2, 1), {2, 1}, 2};
  const auto y = reference::conv2d_forward(x, w, &b, grouped);
  const auto dy = random_tensor<double>(y.shape(), 31);
  const auto grads = reference::conv2d_backward(x, w, true, dy, grouped);
  reference::Conv2DArguments single = grouped;
  single.groups = 1;
  for (Index g = 0; g < 2; ++g) {
    CAPTURE(g);
    // The group's filters, 3g to 3g+2, are a contiguous block of w, as its biases are of b.
    Tensor<double> w_g({3, 2, 3, 2}), b_g({3});
    std::copy(w.begin() + g * w_g.size(), w.begin() + (g + 1) * w_g.size(), w_g.begin());
    std::copy(b.begin() + 3 * g, b.begin() + 3 * g + 3, b_g.begin());
    const auto x_g = channels(x, 2 * g, 2), dy_g = channels(dy, 3 * g, 3);
    const auto y_g = reference::conv2d_forward(x_g, w_g, &b_g, single);
    const auto grads_g = reference::conv2d_backward(x_g, w_g, true, dy_g, single);
    CHECK(max_difference(channels(y, 3 * g, 3), y_g) == 0.0);
    CHECK(max_difference(channels(grads.dx, 2 * g, 2), grads_g.dx) == 0.0);
    CHECK(std::equal(grads_g.dw.begin(), grads_g.dw.end(), grads.dw.begin() + g * w_g.size()));
    CHECK(std::equal(grads_g.db.begin(), grads_g.db.end(), grads.db.begin() + 3 * g));
  }
}
