// Specification of DepthwiseConv2D:
//   y[n, c*M + m, oh, ow] = b[c*M + m] + sum over i, j of
//       W[c*M + m, 0, i, j] * x[n, c, oh*SH + i*DH - pad_top, ow*SW + j*DW - pad_left]
// (x is 0 in the padding; 'same' pads as Keras/TensorFlow, the extra row/column at the end;
// explicit padding gives each side its own width).
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "minicnn/layer_registry.hpp"
#include "minicnn/layers/depthwise_conv2d.hpp"
#include "minicnn/layers/zero_padding2d.hpp"
#include "support/gradient_check.hpp"
#include "support/layer_helpers.hpp"

using namespace minicnn;
using minicnn::testing::apply;
using minicnn::testing::random_tensor;
using minicnn::testing::with_threads;

namespace {

// The definition above, by direct summation, with the padding before each axis given.
Tensor<double> direct_depthwise(const Tensor<double>& x, const Tensor<double>& kernel,
                                const Tensor<double>* bias, Index multiplier, Size2 strides,
                                Size2 dilation, Index pad_top, Index pad_left, Index out_h,
                                Index out_w) {
  const Index batch = x.dim(0), channels = x.dim(1), height = x.dim(2), width = x.dim(3);
  const Index kh = kernel.dim(2), kw = kernel.dim(3);
  Tensor<double> y({batch, channels * multiplier, out_h, out_w}, 0.0);
  for (Index n = 0; n < batch; ++n)
    for (Index c = 0; c < channels; ++c)
      for (Index m = 0; m < multiplier; ++m)
        for (Index oh = 0; oh < out_h; ++oh)
          for (Index ow = 0; ow < out_w; ++ow) {
            const Index k = c * multiplier + m;
            double sum = bias ? (*bias)[k] : 0.0;
            for (Index i = 0; i < kh; ++i)
              for (Index j = 0; j < kw; ++j) {
                const Index ih = oh * strides.height + i * dilation.height - pad_top;
                const Index iw = ow * strides.width + j * dilation.width - pad_left;
                if (ih >= 0 && ih < height && iw >= 0 && iw < width)
                  sum += kernel(k, 0, i, j) * x(n, c, ih, iw);
              }
            y(n, k, oh, ow) = sum;
          }
  return y;
}

}  // namespace

TEST_CASE("DepthwiseConv2D convolves each channel alone; output channel c*M + m reads channel c") {
  // Two channels, two kernels each (M = 2), 2x2 kernels that each pick one tap: every output
  // channel is its input channel seen from one corner of the window, plus its bias.
  DepthwiseConv2D<double> layer(2, 1, Padding::valid, 2);
  const auto x = Tensor<double>::of({1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9,  //
                                                   10, 20, 30, 40, 50, 60, 70, 80, 90});
  Random random(1);
  layer.build({2, 3, 3}, random);
  layer.parameters()[0]->value = Tensor<double>::of({4, 1, 2, 2}, {1, 0, 0, 0,  // c0: top left
                                                                   0, 0, 0, 1,  // c0: bottom right
                                                                   0, 1, 0, 0,  // c1: top right
                                                                   0, 0, 1, 0});  // c1: bottom left
  layer.parameters()[1]->value = Tensor<double>::of({4}, {0.5, 0, 0, -1});
  Tensor<double> y;
  layer.forward(x, y, Mode::inference);
  REQUIRE(y.shape() == Shape{1, 4, 2, 2});
  const double expected[] = {1.5, 2.5, 4.5, 5.5, 5,  6,  8,  9,  //
                             20,  30,  50,  60,  39, 49, 69, 79};
  for (Index i = 0; i < 16; ++i)
    CHECK(y[i] == expected[i]);
}

TEST_CASE(
    "DepthwiseConv2D agrees with the definition on strides, dilations, paddings, multipliers") {
  struct Case {
    Shape input;
    Size2 kernel, strides, dilation;
    Pads padding;
    Index multiplier;
    bool use_bias;
  };
  const Case cases[] = {
      {{2, 3, 7, 6}, 3, 1, 1, Pads(0, 0, 0, 0), 1, true},
      {{1, 2, 9, 8}, {3, 2}, 2, 1, Pads(1, 2, 0, 1), 3, true},
      {{3, 1, 8, 9}, 3, {1, 2}, 2, Pads(2, 2, 2, 2), 2, false},
      {{2, 2, 10, 7}, {2, 3}, {3, 2}, {2, 1}, Pads(0, 3, 1, 0), 1, true},
      {{1, 4, 5, 40}, 3, 1, 1, Pads(1, 1, 1, 1), 1, true},  // rows longer than a vector
      {{1, 1, 3, 3}, 2, 1, 1, Pads(4, 4, 4, 4), 1, true},   // windows wholly in the padding
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CAPTURE(c.padding.str());
    DepthwiseConv2D<double> layer(c.kernel, c.strides, c.padding, c.multiplier, c.use_bias,
                                  c.dilation);
    const auto x = random_tensor<double>(c.input, 11);
    Random random(2);
    layer.build(c.input.sample(), random);
    if (c.use_bias)
      layer.parameters()[1]->value = random_tensor<double>({c.input[1] * c.multiplier}, 3);
    Tensor<double> y;
    layer.forward(x, y, Mode::inference);
    const auto expected = direct_depthwise(
        x, layer.parameters()[0]->value, c.use_bias ? &layer.parameters()[1]->value : nullptr,
        c.multiplier, c.strides, c.dilation, c.padding.top, c.padding.left, y.dim(2), y.dim(3));
    // The output size: floor((top + H + bottom - D*(K-1) - 1) / S) + 1 per axis.
    CHECK(y.dim(2) == (c.padding.top + c.input[2] + c.padding.bottom -
                       c.dilation.height * (c.kernel.height - 1) - 1) /
                              c.strides.height +
                          1);
    CHECK(y.dim(3) ==
          (c.padding.left + c.input[3] + c.padding.right - c.dilation.width * (c.kernel.width - 1) -
           1) / c.strides.width +
              1);
    REQUIRE(y.shape() == expected.shape());
    for (Index i = 0; i < y.size(); ++i)
      CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  }
}

TEST_CASE(
    "DepthwiseConv2D's kernel agrees with the definition on widths around the vector length") {
  // Widths 1 to 19 and 33 cover outputs narrower than a vector, whole vectors, pairs of vectors
  // and a partial last vector (4 doubles or 8 floats with AVX, 8 doubles with AVX-512); 1x1
  // maps; strides 1 to 3 with padding on one side only (asymmetric) or on both; 5x5, 1x3 and 3x1
  // kernels; a dilation of 2.
  struct Kernel {
    Size2 size, dilation;
  };
  const Kernel kernels[] = {{3, 1}, {5, 1}, {{1, 3}, 1}, {{3, 1}, 1}, {3, 2}, {{2, 3}, {1, 2}}};
  const Index widths[] = {1, 2, 3, 4, 5, 7, 8, 9, 11, 15, 16, 17, 19, 33};
  for (const Kernel& kernel : kernels)
    for (const Index stride : {1, 2, 3})
      for (const Index width : widths)
        for (const bool one_sided : {false, true}) {
          // Enough padding that every window fits: the span - 1 split over both sides, or all of
          // it after the input (top and left get none).
          const Index span_h = kernel.dilation.height * (kernel.size.height - 1);
          const Index span_w = kernel.dilation.width * (kernel.size.width - 1);
          const Pads pads =
              one_sided ? Pads(0, span_h, 0, span_w)
                        : Pads(span_h / 2, span_h - span_h / 2, span_w - span_w / 2, span_w / 2);
          const Shape input{2, 2, 1 + width % 5, width};
          CAPTURE(kernel.size.str());
          CAPTURE(kernel.dilation.str());
          CAPTURE(stride);
          CAPTURE(input);
          CAPTURE(pads.str());
          DepthwiseConv2D<double> layer(kernel.size, {stride, stride}, pads, 2, true,
                                        kernel.dilation);
          const auto x = random_tensor<double>(input, 20 + width);
          Random random(21);
          layer.build(input.sample(), random);
          layer.parameters()[1]->value = random_tensor<double>({4}, 22);
          Tensor<double> y;
          layer.forward(x, y, Mode::inference);
          const auto expected = direct_depthwise(
              x, layer.parameters()[0]->value, &layer.parameters()[1]->value, 2, {stride, stride},
              kernel.dilation, pads.top, pads.left, y.dim(2), y.dim(3));
          REQUIRE(y.shape() == expected.shape());
          for (Index i = 0; i < y.size(); ++i)
            REQUIRE(y[i] == doctest::Approx(expected[i]).epsilon(1e-12));
        }
}

TEST_CASE("DepthwiseConv2D in float on MobileNetV2's 3x3 shapes agrees with the definition") {
  // (C, H, W) and stride of MobileNetV2's depthwise layers, smaller: padding 1, stride 1 and 2,
  // odd and even sizes, in float (8 or 16 lanes) against the definition in double.
  struct Case {
    Shape input;
    Index stride;
  };
  const Case cases[] = {{{1, 3, 28, 28}, 1}, {{1, 3, 28, 28}, 2}, {{2, 2, 7, 7}, 1},
                        {{2, 2, 14, 14}, 2}, {{1, 2, 1, 1}, 1},   {{1, 2, 1, 1}, 2},
                        {{1, 2, 23, 37}, 2}, {{1, 2, 37, 23}, 1}};
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CAPTURE(c.stride);
    DepthwiseConv2D<float> layer(3, c.stride, Pads(1), 1, false);
    const auto x = random_tensor<float>(c.input, 23);
    const auto y = apply(layer, x);
    Tensor<double> x_double(x.shape()), kernel(layer.parameters()[0]->value.shape());
    for (Index i = 0; i < x.size(); ++i)
      x_double[i] = x[i];
    for (Index i = 0; i < kernel.size(); ++i)
      kernel[i] = layer.parameters()[0]->value[i];
    const auto expected =
        direct_depthwise(x_double, kernel, nullptr, 1, c.stride, 1, 1, 1, y.dim(2), y.dim(3));
    REQUIRE(y.shape() == expected.shape());
    for (Index i = 0; i < y.size(); ++i)
      REQUIRE(y[i] == doctest::Approx(expected[i]).epsilon(1e-5));
  }
}

TEST_CASE("DepthwiseConv2D forward_fused is clamp(scale * (conv + b) + shift, low, high)") {
  // 3 channels, M = 2: six output channels, each with its own scale and shift.
  const auto x = random_tensor<double>({2, 3, 9, 10}, 24);
  const double scale[] = {2.0, -1.0, 0.5, 3.0, 1.0, -4.0};
  const double shift[] = {0.25, -0.5, 1.0, 0.0, -2.0, 0.75};
  for (const bool use_bias : {true, false}) {
    CAPTURE(use_bias);
    DepthwiseConv2D<double> layer(3, {1, 2}, Pads(1, 0, 2, 1), 2, use_bias);
    Random random(25);
    layer.build({3, 9, 10}, random);
    if (use_bias) layer.parameters()[1]->value = random_tensor<double>({6}, 26);
    Tensor<double> conv, y;
    layer.forward(x, conv, Mode::inference);  // depthwise(x) + b
    const Index positions = conv.dim(2) * conv.dim(3);

    // Scale and shift, no clamp: the BatchNorm folded in.
    layer.forward_fused(x, y, {scale, shift});
    REQUIRE(y.shape() == conv.shape());
    for (Index i = 0; i < y.size(); ++i) {
      const Index k = i / positions % 6;
      REQUIRE(y[i] == doctest::Approx(scale[k] * conv[i] + shift[k]).epsilon(1e-13));
    }

    // ReLU6 after it: values below 0 are 0 and above 6 are 6. Scales large enough that both
    // bounds are reached.
    const double large[] = {20.0, -20.0, 10.0, 30.0, 15.0, -40.0};
    layer.forward_fused(x, y, {large, shift, 0.0, 6.0});
    Index low = 0, high = 0;
    for (Index i = 0; i < y.size(); ++i) {
      const Index k = i / positions % 6;
      const double v = large[k] * conv[i] + shift[k];
      if (v < -1e-9) ++low;
      if (v > 6 + 1e-9) ++high;
      REQUIRE(y[i] == doctest::Approx(std::clamp(v, 0.0, 6.0)).epsilon(1e-13));
    }
    CHECK(low > 0);
    CHECK(high > 0);

    // A scale alone, a shift alone, and neither: the layer's forward.
    layer.forward_fused(x, y, {scale, nullptr});
    for (Index i = 0; i < y.size(); ++i)
      REQUIRE(y[i] == doctest::Approx(scale[i / positions % 6] * conv[i]).epsilon(1e-13));
    layer.forward_fused(x, y, {nullptr, shift});
    for (Index i = 0; i < y.size(); ++i)
      REQUIRE(y[i] == doctest::Approx(conv[i] + shift[i / positions % 6]).epsilon(1e-13));
    layer.forward_fused(x, y, {});
    for (Index i = 0; i < y.size(); ++i)
      REQUIRE(y[i] == conv[i]);
  }
}

TEST_CASE("DepthwiseConv2D's epilogue lets NaN through its clamp") {
  // A NaN in the input reaches every output whose window covers it, clamp or no clamp, as the
  // ReLU layer passes NaN; the other outputs are clamped.
  auto x = random_tensor<float>({1, 2, 6, 20}, 27);
  x(0, 1, 2, 13) = std::nanf("");
  DepthwiseConv2D<float> layer(3, 1, Pads(1));
  Random random(28);
  layer.build({2, 6, 20}, random);
  const float scale[] = {100.0f, 100.0f}, shift[] = {0.0f, 0.0f};
  Tensor<float> y;
  layer.forward_fused(x, y, {scale, shift, 0.0f, 6.0f});
  for (Index k = 0; k < 2; ++k)
    for (Index oh = 0; oh < 6; ++oh)
      for (Index ow = 0; ow < 20; ++ow) {
        CAPTURE(k);
        CAPTURE(oh);
        CAPTURE(ow);
        const bool covers = k == 1 && std::abs(oh - 2) <= 1 && std::abs(ow - 13) <= 1;
        CHECK(std::isnan(y(0, k, oh, ow)) == covers);
        if (!covers) CHECK((y(0, k, oh, ow) >= 0.0f && y(0, k, oh, ow) <= 6.0f));
      }
}

TEST_CASE("DepthwiseConv2D 'same' pads as Keras: the extra row and column at the bottom/right") {
  // 6 inputs, 3 taps, stride 2: 3 outputs, 1 row of padding, after the input.
  const auto x = random_tensor<double>({2, 3, 6, 6}, 4);
  DepthwiseConv2D<double> same(3, 2, Padding::same, 2);
  DepthwiseConv2D<double> explicit_pads(3, 2, Pads(0, 1, 0, 1), 2);
  const auto y = apply(same, x);
  const auto z = apply(explicit_pads, x);  // the same seed: the same kernel
  CHECK(y.shape() == Shape{2, 6, 3, 3});
  REQUIRE(z.shape() == y.shape());
  for (Index i = 0; i < y.size(); ++i)
    CHECK(y[i] == z[i]);

  // Stride 1, dilation 2: a 5-wide window, 4 rows of padding split 2 and 2; output = input.
  DepthwiseConv2D<double> dilated(3, 1, Padding::same, 1, true, 2);
  DepthwiseConv2D<double> dilated_pads(3, 1, Pads(2, 2, 2, 2), 1, true, 2);
  const auto u = apply(dilated, x);
  const auto v = apply(dilated_pads, x);
  CHECK(u.shape() == Shape{2, 3, 6, 6});
  REQUIRE(v.shape() == u.shape());
  for (Index i = 0; i < u.size(); ++i)
    CHECK(u[i] == v[i]);
}

TEST_CASE("DepthwiseConv2D with explicit padding is ZeroPadding2D then a 'valid' convolution") {
  const auto x = random_tensor<double>({2, 2, 5, 4}, 5);
  const Pads pads(1, 0, 2, 1);
  DepthwiseConv2D<double> fused(3, {2, 1}, pads, 2);
  ZeroPadding2D<double> padding(pads);
  DepthwiseConv2D<double> valid(3, {2, 1}, Padding::valid, 2);
  const auto y = apply(fused, x);
  const auto padded = apply(padding, x);
  const auto z = apply(valid, padded);
  REQUIRE(y.shape() == z.shape());
  for (Index i = 0; i < y.size(); ++i)
    CHECK(y[i] == doctest::Approx(z[i]).epsilon(1e-14));

  // And their input gradients agree.
  const auto dy = random_tensor<double>(y.shape(), 6);
  Tensor<double> dx, d_padded, dx_two_layers;
  fused.backward(x, y, dy, dx, Mode::inference);
  valid.backward(padded, z, dy, d_padded, Mode::inference);
  padding.backward(x, padded, d_padded, dx_two_layers, Mode::inference);
  for (Index i = 0; i < dx.size(); ++i)
    CHECK(dx[i] == doctest::Approx(dx_two_layers[i]).epsilon(1e-14));
}

TEST_CASE("DepthwiseConv2D has depthwise_kernel (C*M, 1, KH, KW) and bias (C*M), Keras's Glorot") {
  DepthwiseConv2D<float> layer({3, 5}, 1, Padding::same, 4);
  Random random(7);
  CHECK(layer.build({6, 10, 10}, random) == Shape{24, 10, 10});
  const auto parameters = layer.parameters();
  REQUIRE(parameters.size() == 2);
  CHECK(parameters[0]->name == "depthwise_kernel");
  CHECK(parameters[0]->value.shape() == Shape{24, 1, 3, 5});
  CHECK(parameters[1]->name == "bias");
  CHECK(parameters[1]->value.shape() == Shape{24});
  CHECK(layer.parameter_count(true) == 24 * 15 + 24);
  for (float b : parameters[1]->value)
    CHECK(b == 0.0f);
  // Keras's fans on its (KH, KW, C, M) kernel: fan_in = C*KH*KW = 90, fan_out = M*KH*KW = 60.
  const double limit = std::sqrt(6.0 / (90 + 60));
  float largest = 0.0f;
  for (float w : parameters[0]->value)
    largest = std::max(largest, std::abs(w));
  CHECK(largest <= limit);
  CHECK(largest > 0.95 * limit);

  DepthwiseConv2D<float> no_bias(3, 1, Padding::valid, 1, false);
  no_bias.build({2, 4, 4}, random);
  CHECK(no_bias.parameters().size() == 1);
}

TEST_CASE("DepthwiseConv2D gradients match central differences") {
  struct Case {
    Shape input;
    Size2 kernel, strides, dilation;
    DepthwisePadding padding;
    Index multiplier;
    bool use_bias;
  };
  const Case cases[] = {
      {{2, 2, 5, 5}, 3, 1, 1, Padding::valid, 1, true},
      {{2, 2, 6, 5}, 3, 2, 1, Padding::same, 2, true},
      {{1, 3, 5, 6}, {2, 3}, {2, 1}, 1, Padding::same, 3, false},
      {{2, 1, 7, 6}, 3, 1, 2, Pads(1, 2, 0, 3), 2, true},
      {{3, 2, 6, 7}, {3, 2}, 2, {1, 2}, Pads(2, 0, 1, 1), 1, true},
      // Rows of whole vectors and a partial one (4 or 8 doubles a vector), strides 1 and 2.
      {{1, 2, 4, 19}, 3, {1, 2}, 1, Pads(1, 1, 1, 1), 1, true},
      {{1, 1, 3, 33}, {1, 3}, 1, 1, Padding::same, 2, true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CAPTURE(c.padding.str());
    DepthwiseConv2D<double> layer(c.kernel, c.strides, c.padding, c.multiplier, c.use_bias,
                                  c.dilation);
    Random random(8);
    layer.build(c.input.sample(), random);
    if (c.use_bias)
      layer.parameters()[1]->value = random_tensor<double>({c.input[1] * c.multiplier}, 9);
    for (Mode mode : {Mode::training, Mode::inference}) {
      const auto report = testing::check_layer_gradients(layer, c.input, 10, mode);
      INFO(report.worst_element);
      CHECK(report.worst_error < 1e-7);
    }
  }
}

TEST_CASE("DepthwiseConv2D backward adds to the parameter gradients; backward_parameters agrees") {
  const auto x = random_tensor<double>({2, 3, 6, 6}, 12);
  DepthwiseConv2D<double> layer(3, 2, Padding::same, 2);
  Random random(13);
  layer.build({3, 6, 6}, random);
  Tensor<double> y, dx, scratch;
  layer.forward(x, y, Mode::training);
  const auto dy = random_tensor<double>(y.shape(), 14);
  layer.backward(x, y, dy, dx, Mode::training);
  const Tensor<double> once_kernel = layer.parameters()[0]->grad;
  const Tensor<double> once_bias = layer.parameters()[1]->grad;
  layer.backward_parameters(x, y, dy, scratch, Mode::training);
  for (Index i = 0; i < once_kernel.size(); ++i)
    CHECK(layer.parameters()[0]->grad[i] == 2 * once_kernel[i]);
  for (Index i = 0; i < once_bias.size(); ++i)
    CHECK(layer.parameters()[1]->grad[i] == 2 * once_bias[i]);
}

TEST_CASE("DepthwiseConv2D is bit-identical across thread counts") {
  const auto x = random_tensor<float>({4, 6, 13, 11}, 15);
  DepthwiseConv2D<float> layer(3, {1, 2}, Padding::same, 2);
  Random random(16);
  layer.build({6, 13, 11}, random);
  const auto scale = random_tensor<float>({12}, 18), shift = random_tensor<float>({12}, 19);
  std::vector<Tensor<float>> results[2];
  for (int threads : {1, 2}) {
    with_threads(threads, [&] {
      auto copy = layer.clone();
      Tensor<float> y, dx, fused;
      copy->forward(x, y, Mode::training);
      const auto dy = random_tensor<float>(y.shape(), 17);
      copy->backward(x, y, dy, dx, Mode::training);
      layer.forward_fused(x, fused, {scale.data(), shift.data(), -0.5f, 0.5f});
      results[threads - 1] = {y, dx, copy->parameters()[0]->grad, copy->parameters()[1]->grad,
                              fused};
    });
  }
  for (std::size_t t = 0; t < results[0].size(); ++t) {
    CAPTURE(t);
    REQUIRE(results[0][t].shape() == results[1][t].shape());
    for (Index i = 0; i < results[0][t].size(); ++i)
      REQUIRE(results[0][t][i] == results[1][t][i]);
  }
}

TEST_CASE("DepthwiseConv2D refuses bad arguments and shapes, naming itself") {
  CHECK_THROWS_WITH_AS(DepthwiseConv2D<float>(Size2(0, 3)),
                       "DepthwiseConv2D: expected kernel_size > 0 in both axes, got 0x3", Error);
  CHECK_THROWS_WITH_AS(DepthwiseConv2D<float>(3, {1, -2}),
                       "DepthwiseConv2D: expected strides > 0 in both axes, got 1x-2", Error);
  CHECK_THROWS_WITH_AS(DepthwiseConv2D<float>(3, 1, Padding::valid, 1, true, {2, 0}),
                       "DepthwiseConv2D: expected dilation_rate > 0 in both axes, got 2x0", Error);
  CHECK_THROWS_WITH_AS(DepthwiseConv2D<float>(3, 1, Padding::valid, 0),
                       "DepthwiseConv2D: expected depth_multiplier > 0, got 0", Error);
  CHECK_THROWS_WITH_AS(DepthwiseConv2D<float>(3, 1, Pads(1, 1, -1, 1)),
                       "DepthwiseConv2D: expected padding >= 0 on every side, got 1,1,-1,1", Error);

  Random random(1);
  DepthwiseConv2D<float> layer({5, 3}, 1, Padding::valid, 2, true, {1, 2});
  layer.set_name("dw");
  CHECK_THROWS_WITH_AS(layer.build({64}, random),
                       "DepthwiseConv2D 'dw': expected input of rank 3 per sample (channels, "
                       "height, width), got (64)",
                       Error);
  CHECK_THROWS_WITH_AS(layer.build({3, 0, 8}, random),
                       "DepthwiseConv2D 'dw': expected a non-empty input, got (3, 0, 8)", Error);
  CHECK_THROWS_WITH_AS(layer.build({3, 8, 4}, random),
                       "DepthwiseConv2D 'dw': the 5x3 kernel dilated 1x2 does not fit the 8x4 "
                       "input with padding valid; use more padding, a smaller kernel or a smaller "
                       "dilation",
                       Error);
  const Index huge = Layer<float>::kMaxElements;
  DepthwiseConv2D<float> many(1, 1, Padding::valid, huge / 2);
  many.set_name("many");
  const std::string too_many = "DepthwiseConv2D 'many': expected at most " + std::to_string(huge) +
                               " output channels, got 3 x " + std::to_string(huge / 2);
  CHECK_THROWS_WITH_AS(many.build({3, 2, 2}, random), too_many.c_str(), Error);
  DepthwiseConv2D<float> wide(1, 1, Pads(0, 0, huge, 1));
  wide.set_name("wide");
  const std::string too_wide = "DepthwiseConv2D 'wide': expected padded extents of at most " +
                               std::to_string(huge) + ", got " + std::to_string(huge) + " + 2 + 1";
  CHECK_THROWS_WITH_AS(wide.build({1, 2, 2}, random), too_wide.c_str(), Error);
  // A dilation so large that the window's span overflows fits no input (and overflows nothing).
  DepthwiseConv2D<float> spread(3, 1, Padding::same, 1, true, {1, huge});
  const std::string too_spread = "DepthwiseConv2D: the 3x3 kernel dilated 1x" +
                                 std::to_string(huge) +
                                 " does not fit the 4x4 input with padding same; use more "
                                 "padding, a smaller kernel or a smaller dilation";
  CHECK_THROWS_WITH_AS(spread.build({1, 4, 4}, random), too_spread.c_str(), Error);

  layer.build({3, 8, 8}, random);
  Tensor<float> wrong({2, 3, 8, 9}), y, dx;
  CHECK_THROWS_WITH_AS(
      layer.forward(wrong, y, Mode::inference),
      "DepthwiseConv2D 'dw': expected input of shape (N, 3, 8, 8), got (2, 3, 8, 9)", Error);
  Tensor<float> x({2, 3, 8, 8}, 1.0f), dy({2, 6, 4, 5});
  CHECK_THROWS_WITH_AS(layer.backward(x, y, dy, dx, Mode::training),
                       "DepthwiseConv2D 'dw': expected output gradient of shape (2, 6, 4, 4), got "
                       "(2, 6, 4, 5)",
                       Error);
}

TEST_CASE("DepthwiseConv2D round-trips through its config, with each kind of padding") {
  const DepthwisePadding paddings[] = {Padding::valid, Padding::same, Pads(1, 2, 3, 0)};
  for (const DepthwisePadding& padding : paddings) {
    CAPTURE(padding.str());
    DepthwiseConv2D<float> layer({3, 2}, {2, 1}, padding, 3, false, {1, 2},
                                 Initializer::he_uniform);
    const Config config = layer.config();
    CHECK(config.get("padding") == padding.str());
    const auto rebuilt = make_layer<float>("DepthwiseConv2D", config);
    CHECK(rebuilt->kind() == "DepthwiseConv2D");
    CHECK(rebuilt->config() == config);
  }
  CHECK(DepthwiseConv2D<float>(3).config().str() ==
        "kernel_size=3x3, strides=1x1, padding=valid, depth_multiplier=1, use_bias=true, "
        "dilation_rate=1x1, depthwise_initializer=glorot_uniform");
  Config bad = DepthwiseConv2D<float>(3).config();
  bad.set("padding", "1,1,2");
  CHECK_THROWS_WITH_AS(make_layer<float>("DepthwiseConv2D", bad),
                       "Pads: expected top,bottom,left,right such as 3,3,3,3, got '1,1,2'", Error);
  bad.set("padding", "full");
  CHECK_THROWS_WITH_AS(make_layer<float>("DepthwiseConv2D", bad),
                       "Padding: expected 'valid' or 'same', got 'full'", Error);
}
