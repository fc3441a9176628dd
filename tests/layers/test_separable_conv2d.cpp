// Specification of SeparableConv2D: a depthwise convolution without bias (DepthwiseConv2D's
// formula), then a 1x1 convolution with bias:
//   y[n, f, oh, ow] = b[f] + sum over k < C*M of Wp[f, k, 0, 0] * z[n, k, oh, ow],
//   z = DepthwiseConv2D(kernel_size, strides, padding, M, use_bias = false)(x).
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <thread>
#include <vector>

#include "minicnn/layer_registry.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/depthwise_conv2d.hpp"
#include "minicnn/layers/separable_conv2d.hpp"
#include "support/gradient_check.hpp"
#include "support/layer_helpers.hpp"

using namespace minicnn;
using minicnn::testing::random_tensor;
using minicnn::testing::with_threads;

TEST_CASE("SeparableConv2D is a DepthwiseConv2D without bias, then a 1x1 Conv2D with bias") {
  struct Case {
    Shape input;
    Index filters;
    Size2 kernel, strides;
    DepthwisePadding padding;
    Index multiplier;
    bool use_bias;
  };
  const Case cases[] = {
      {{2, 3, 7, 6}, 4, 3, 1, Padding::valid, 1, true},
      {{3, 2, 8, 9}, 5, 3, 2, Padding::same, 2, true},
      {{2, 4, 6, 5}, 3, {2, 3}, {1, 2}, Pads(1, 0, 2, 1), 3, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CAPTURE(c.padding.str());
    SeparableConv2D<double> separable(c.filters, c.kernel, c.strides, c.padding, c.multiplier,
                                      c.use_bias);
    DepthwiseConv2D<double> depthwise(c.kernel, c.strides, c.padding, c.multiplier, false);
    Conv2D<double> pointwise(c.filters, 1, 1, Padding::valid, c.use_bias);
    Random random(1);
    const Shape z_shape = depthwise.build(c.input.sample(), random);
    pointwise.build(z_shape, random);
    const Shape y_shape = separable.build(c.input.sample(), random);
    CHECK(y_shape == Shape{c.filters, z_shape[1], z_shape[2]});
    if (c.use_bias) separable.parameters()[2]->value = random_tensor<double>({c.filters}, 2);
    depthwise.parameters()[0]->value = separable.parameters()[0]->value;
    pointwise.parameters()[0]->value = separable.parameters()[1]->value;
    if (c.use_bias) pointwise.parameters()[1]->value = separable.parameters()[2]->value;

    const auto x = random_tensor<double>(c.input, 3);
    Tensor<double> y, z, expected;
    separable.forward(x, y, Mode::training);
    depthwise.forward(x, z, Mode::training);
    pointwise.forward(z, expected, Mode::training);
    REQUIRE(y.shape() == expected.shape());
    for (Index i = 0; i < y.size(); ++i)
      CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-12));

    const auto dy = random_tensor<double>(y.shape(), 4);
    Tensor<double> dx, dz, expected_dx;
    separable.backward(x, y, dy, dx, Mode::training);
    pointwise.backward(z, expected, dy, dz, Mode::training);
    depthwise.backward(x, z, dz, expected_dx, Mode::training);
    for (Index i = 0; i < dx.size(); ++i)
      CHECK(dx[i] == doctest::Approx(expected_dx[i]).epsilon(1e-12));
    const Tensor<double>* expected_grads[] = {
        &depthwise.parameters()[0]->grad, &pointwise.parameters()[0]->grad,
        c.use_bias ? &pointwise.parameters()[1]->grad : nullptr};
    for (std::size_t k = 0; k < separable.parameters().size(); ++k) {
      const Tensor<double>& grad = separable.parameters()[k]->grad;
      CAPTURE(separable.parameters()[k]->name);
      REQUIRE(grad.shape() == expected_grads[k]->shape());
      for (Index i = 0; i < grad.size(); ++i)
        CHECK(grad[i] == doctest::Approx((*expected_grads[k])[i]).epsilon(1e-12));
    }
  }
}

TEST_CASE("SeparableConv2D has Keras's parameters, counts and Glorot limits") {
  SeparableConv2D<float> layer(16, 3, 1, Padding::same, 2);
  Random random(5);
  CHECK(layer.build({8, 10, 10}, random) == Shape{16, 10, 10});
  const auto parameters = layer.parameters();
  REQUIRE(parameters.size() == 3);
  CHECK(parameters[0]->name == "depthwise_kernel");
  CHECK(parameters[0]->value.shape() == Shape{16, 1, 3, 3});
  CHECK(parameters[1]->name == "pointwise_kernel");
  CHECK(parameters[1]->value.shape() == Shape{16, 16, 1, 1});
  CHECK(parameters[2]->name == "bias");
  CHECK(parameters[2]->value.shape() == Shape{16});
  // C*KH*KW*M + C*M*F + F, as Keras's summary counts them.
  CHECK(layer.parameter_count(true) == 8 * 9 * 2 + 8 * 2 * 16 + 16);
  // Keras's fans: depthwise (C*KH*KW, M*KH*KW) = (72, 18), pointwise (C*M, F) = (16, 16).
  const double limits[] = {std::sqrt(6.0 / (72 + 18)), std::sqrt(6.0 / (16 + 16))};
  for (int k = 0; k < 2; ++k) {
    float largest = 0.0f;
    for (float w : parameters[k]->value)
      largest = std::max(largest, std::abs(w));
    CHECK(largest <= limits[k]);
    CHECK(largest > 0.9 * limits[k]);
  }
  SeparableConv2D<float> no_bias(4, 3, 1, Padding::valid, 1, false);
  no_bias.build({2, 5, 5}, random);
  CHECK(no_bias.parameters().size() == 2);
}

TEST_CASE("SeparableConv2D gradients match central differences") {
  struct Case {
    Shape input;
    Index filters;
    Size2 kernel, strides, dilation;
    DepthwisePadding padding;
    Index multiplier;
    bool use_bias;
  };
  const Case cases[] = {
      {{2, 2, 5, 5}, 3, 3, 1, 1, Padding::valid, 1, true},
      {{2, 3, 6, 5}, 2, 3, 2, 1, Padding::same, 2, true},
      {{1, 2, 7, 6}, 4, {2, 3}, 1, 2, Pads(2, 1, 0, 2), 2, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    SeparableConv2D<double> layer(c.filters, c.kernel, c.strides, c.padding, c.multiplier,
                                  c.use_bias, c.dilation);
    Random random(6);
    layer.build(c.input.sample(), random);
    if (c.use_bias) layer.parameters()[2]->value = random_tensor<double>({c.filters}, 7);
    for (Mode mode : {Mode::training, Mode::inference}) {
      const auto report = testing::check_layer_gradients(layer, c.input, 8, mode);
      INFO(report.worst_element);
      CHECK(report.worst_error < 1e-7);
    }
  }
}

TEST_CASE("SeparableConv2D backward_parameters gives backward's parameter gradients, no dx") {
  const auto x = random_tensor<double>({2, 3, 6, 6}, 9);
  SeparableConv2D<double> layer(4, 3, 2, Padding::same, 2);
  Random random(10);
  layer.build({3, 6, 6}, random);
  auto other = layer.clone();
  Tensor<double> y, dx, scratch;
  layer.forward(x, y, Mode::training);
  const auto dy = random_tensor<double>(y.shape(), 11);
  layer.backward(x, y, dy, dx, Mode::training);
  other->backward_parameters(x, y, dy, scratch, Mode::training);
  for (std::size_t k = 0; k < 3; ++k)
    for (Index i = 0; i < layer.parameters()[k]->grad.size(); ++i)
      CHECK(other->parameters()[k]->grad[i] == layer.parameters()[k]->grad[i]);
}

TEST_CASE("SeparableConv2D: y and dx bit-identical across thread counts, runs repeat exactly") {
  const auto x = random_tensor<float>({4, 5, 12, 11}, 12);
  SeparableConv2D<float> layer(7, 3, 1, Padding::same, 2);
  Random random(13);
  layer.build({5, 12, 11}, random);
  std::vector<Tensor<float>> results[3];
  for (int run : {0, 1, 2}) {
    with_threads(run == 0 ? 1 : 2, [&] {
      auto copy = layer.clone();
      Tensor<float> y, dx;
      copy->forward(x, y, Mode::training);
      const auto dy = random_tensor<float>(y.shape(), 14);
      copy->backward(x, y, dy, dx, Mode::training);
      results[run] = {y, dx};
      for (Parameter<float>* p : copy->parameters())
        results[run].push_back(p->grad);
    });
  }
  for (std::size_t t = 0; t < results[0].size(); ++t) {
    CAPTURE(t);
    for (Index i = 0; i < results[0][t].size(); ++i) {
      REQUIRE(results[1][t][i] == results[2][t][i]);             // 2 threads, twice
      if (t < 2) REQUIRE(results[0][t][i] == results[1][t][i]);  // y and dx on 1 and 2 threads
    }
  }
}

TEST_CASE("SeparableConv2D runs inference from several threads at once on one layer") {
  const auto x = random_tensor<float>({3, 4, 9, 9}, 15);
  SeparableConv2D<float> layer(6, 3, 2, Padding::same, 2);
  Random random(16);
  layer.build({4, 9, 9}, random);
  Tensor<float> expected;
  layer.forward(x, expected, Mode::inference);
  std::vector<Tensor<float>> outputs(4);
  std::vector<std::thread> threads;
  for (auto& out : outputs)
    threads.emplace_back([&layer, &x, &out] {
      for (int repeat = 0; repeat < 20; ++repeat)
        layer.forward(x, out, Mode::inference);
    });
  for (auto& thread : threads)
    thread.join();
  for (const auto& out : outputs)
    for (Index i = 0; i < out.size(); ++i)
      REQUIRE(out[i] == expected[i]);
}

TEST_CASE("SeparableConv2D refuses bad arguments and shapes, naming itself") {
  CHECK_THROWS_WITH_AS(SeparableConv2D<float>(0, 3), "SeparableConv2D: expected filters > 0, got 0",
                       Error);
  CHECK_THROWS_WITH_AS(SeparableConv2D<float>(4, Size2(3, 0)),
                       "SeparableConv2D: expected kernel_size > 0 in both axes, got 3x0", Error);
  CHECK_THROWS_WITH_AS(SeparableConv2D<float>(4, 3, 1, Padding::same, -1),
                       "SeparableConv2D: expected depth_multiplier > 0, got -1", Error);
  CHECK_THROWS_WITH_AS(SeparableConv2D<float>(4, 3, 1, Pads(-1, 0, 0, 0)),
                       "SeparableConv2D: expected padding >= 0 on every side, got -1,0,0,0", Error);
  Random random(1);
  SeparableConv2D<float> layer(4, 3);
  layer.set_name("sep");
  CHECK_THROWS_WITH_AS(layer.build({2, 2, 5}, random),
                       "SeparableConv2D 'sep': the 3x3 kernel dilated 1x1 does not fit the 2x5 "
                       "input with padding valid; use more padding, a smaller kernel or a smaller "
                       "dilation",
                       Error);
  // The depthwise result Z has C*M channels, more than the output's F: checked on its own.
  const Index huge = Layer<float>::kMaxElements;
  SeparableConv2D<float> deep(1, 1, 1, Padding::valid, huge / 4);
  deep.set_name("deep");
  const std::string too_deep = "SeparableConv2D 'deep': expected at most " + std::to_string(huge) +
                               " elements in a tensor, got the depthwise result of shape (" +
                               std::to_string(huge / 4 * 2) + ", 2, 2)";
  CHECK_THROWS_WITH_AS(deep.build({2, 2, 2}, random), too_deep.c_str(), Error);
}

TEST_CASE("SeparableConv2D round-trips through its config") {
  SeparableConv2D<float> layer(8, {3, 2}, 2, Pads(0, 1, 1, 0), 2, false, {1, 2},
                               Initializer::he_normal, Initializer::zeros);
  const Config config = layer.config();
  CHECK(config.str() ==
        "filters=8, kernel_size=3x2, strides=2x2, padding=0,1,1,0, depth_multiplier=2, "
        "use_bias=false, dilation_rate=1x2, depthwise_initializer=he_normal, "
        "pointwise_initializer=zeros");
  const auto rebuilt = make_layer<float>("SeparableConv2D", config);
  CHECK(rebuilt->kind() == "SeparableConv2D");
  CHECK(rebuilt->config() == config);
}
