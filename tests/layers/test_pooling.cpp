// Specification of the pooling layers:
//   MaxPool2D  y[n, c, oh, ow] = max of x[n, c, ih, iw] over the window's elements in the input
//   AvgPool2D  y[n, c, oh, ow] = mean of the same elements (padding never counted)
//   GlobalAveragePooling2D  y[n, c] = mean of x[n, c, :, :]
// with windows at ih in [oh*SH - pad_top, +KH), iw in [ow*SW - pad_left, +KW); 'same' pads as
// Keras/TensorFlow (the extra row/column at the end).
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <limits>

#include "minicnn/layers/avg_pool2d.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "support/gradient_check.hpp"

using namespace minicnn;

namespace {

// One sample (1, 1, rows, cols) holding the given values.
Tensor<double> image(Index rows, Index cols, std::initializer_list<double> values) {
  return Tensor<double>::of({1, 1, rows, cols}, values);
}

// x[h, w] = 5h + w + 1 on a 5x5 plane: 1..25.
Tensor<double> one_to_25() {
  Tensor<double> x({1, 1, 5, 5});
  for (Index i = 0; i < 25; ++i)
    x[i] = static_cast<double>(i + 1);
  return x;
}

Tensor<double> run(Layer<double>& layer, const Tensor<double>& x, Mode mode = Mode::inference) {
  Random random(1);
  if (!layer.built()) layer.build(x.shape().sample(), random);
  Tensor<double> y;
  layer.forward(x, y, mode);
  return y;
}

void check_values(const Tensor<double>& actual, const Shape& shape,
                  std::initializer_list<double> expected) {
  REQUIRE(actual.shape() == shape);
  Index i = 0;
  for (double value : expected) {
    CAPTURE(i);
    CHECK(actual[i++] == value);
  }
}

}  // namespace

TEST_CASE("MaxPool2D takes the maximum of each window, with stride 1 and 2") {
  const auto x = image(3, 3,
                       {1, 5, 2,  //
                        3, 4, 9,  //
                        0, 8, 6});
  MaxPool2D<double> overlapping(2, 1);
  check_values(run(overlapping, x), {1, 1, 2, 2}, {5, 9, 8, 9});

  Tensor<double> sixteen({1, 1, 4, 4});
  for (Index i = 0; i < 16; ++i)
    sixteen[i] = static_cast<double>(i + 1);
  MaxPool2D<double> halving;  // pool 2, strides default to the pool size
  check_values(run(halving, sixteen), {1, 1, 2, 2}, {6, 8, 14, 16});

  MaxPool2D<double> tall({3, 1}, {1, 2});  // non-square window, non-square strides
  check_values(run(tall, sixteen), {1, 1, 2, 2}, {9, 11, 13, 15});
}

TEST_CASE("MaxPool2D 'same' pads at the bottom/right, with -infinity") {
  // 5x5, pool 2, stride 2: output 3x3, one padded row and column after the input. The windows
  // start at 0, 2, 4: the last ones hold 2 or 1 real elements.
  MaxPool2D<double> pool(2, 2, Padding::same);
  check_values(run(pool, one_to_25()), {1, 1, 3, 3}, {7, 9, 10, 17, 19, 20, 22, 24, 25});

  // All negative: zero padding would win the edge windows; -infinity padding never does.
  Tensor<double> negative = one_to_25();
  for (double& v : negative)
    v = -v;
  MaxPool2D<double> fresh(2, 2, Padding::same);
  check_values(run(fresh, negative), {1, 1, 3, 3}, {-1, -3, -5, -11, -13, -15, -21, -23, -25});
}

TEST_CASE("MaxPool2D sends the gradient to the first maximum of each window") {
  SUBCASE("ties go to the first maximum in row-major window order") {
    const auto x = image(2, 4,
                         {1, 1, 0, 3,  //
                          1, 1, 3, 3});
    MaxPool2D<double> pool(2);
    const auto y = run(pool, x, Mode::training);
    check_values(y, {1, 1, 1, 2}, {1, 3});
    Tensor<double> dx;
    pool.backward(x, y, Tensor<double>::of({1, 1, 1, 2}, {10, 20}), dx, Mode::training);
    check_values(dx, {1, 1, 2, 4}, {10, 0, 0, 20, 0, 0, 0, 0});
  }
  SUBCASE("overlapping windows that share their maximum add their gradients there") {
    const auto x = image(3, 3,
                         {1, 1, 0,  //
                          1, 3, 0,  //
                          0, 0, 2});
    MaxPool2D<double> pool(2, 1);
    const auto y = run(pool, x, Mode::training);
    check_values(y, {1, 1, 2, 2}, {3, 3, 3, 3});
    Tensor<double> dx;
    pool.backward(x, y, Tensor<double>::of({1, 1, 2, 2}, {1, 2, 4, 8}), dx, Mode::training);
    check_values(dx, {1, 1, 3, 3}, {0, 0, 0, 0, 15, 0, 0, 0, 0});
  }
}

TEST_CASE("MaxPool2D propagates NaN") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  MaxPool2D<double> pool(2);
  const auto y = run(pool, image(2, 4, {1, nan, 3, 4, 5, 6, 7, nan}));
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(y[1]));
}

TEST_CASE("MaxPool2D's halving pool agrees with the definition on wide rows, ties and NaN") {
  // 2x2 windows with stride 2 run eight outputs at a time, a row of 11 ending with a group that
  // overlaps the one before; rows of 3 outputs go one by one. Values from {0, 1, 2} make ties in
  // most windows, and a few NaN are planted. Each output must be the first maximum of its window
  // in row-major order (the first NaN if there is one), in both modes, and training's recorded
  // maxima must route the gradient where inference's search does.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const Index width : {Index(22), Index(23), Index(6), Index(16)}) {
    CAPTURE(width);
    Tensor<double> x({2, 3, 9, width});  // 9 rows: the last is outside every window
    Random random(static_cast<std::uint64_t>(width));
    for (double& v : x)
      v = std::floor(random.uniform(0.0, 3.0));
    for (Index e = 5; e < x.size(); e += 37)
      x[e] = nan;
    MaxPool2D<double> pool(2);
    const auto y = run(pool, x, Mode::training);
    REQUIRE(y.shape() == Shape{2, 3, 4, width / 2});
    Tensor<double> dy(y.shape());
    for (Index e = 0; e < dy.size(); ++e)
      dy[e] = static_cast<double>(e + 1);
    Tensor<double> expected_dx(x.shape(), 0.0);
    for (Index n = 0; n < 2; ++n)
      for (Index c = 0; c < 3; ++c)
        for (Index oh = 0; oh < 4; ++oh)
          for (Index ow = 0; ow < width / 2; ++ow) {
            Index best_h = 2 * oh, best_w = 2 * ow;
            for (Index ih = 2 * oh; ih < 2 * oh + 2; ++ih)
              for (Index iw = 2 * ow; iw < 2 * ow + 2; ++iw) {
                const double value = x(n, c, ih, iw), best = x(n, c, best_h, best_w);
                if (value > best || (std::isnan(value) && !std::isnan(best))) {
                  best_h = ih;
                  best_w = iw;
                }
              }
            const double expected = x(n, c, best_h, best_w), actual = y(n, c, oh, ow);
            CAPTURE(oh);
            CAPTURE(ow);
            REQUIRE((actual == expected || (std::isnan(actual) && std::isnan(expected))));
            expected_dx(n, c, best_h, best_w) += dy(n, c, oh, ow);
          }
    const auto inferred = run(pool, x, Mode::inference);
    for (Index e = 0; e < y.size(); ++e)
      REQUIRE((inferred[e] == y[e] || (std::isnan(inferred[e]) && std::isnan(y[e]))));
    Tensor<double> dx_training, dx_inference;
    pool.backward(x, y, dy, dx_training, Mode::training);
    pool.backward(x, y, dy, dx_inference, Mode::inference);
    for (Index e = 0; e < x.size(); ++e) {
      REQUIRE(dx_training[e] == expected_dx[e]);
      REQUIRE(dx_inference[e] == expected_dx[e]);
    }
  }
}

TEST_CASE("AvgPool2D averages each window, with stride 1 and 2") {
  const auto x = image(3, 3,
                       {1, 5, 2,  //
                        3, 4, 9,  //
                        0, 8, 6});
  AvgPool2D<double> overlapping(2, 1);
  check_values(run(overlapping, x), {1, 1, 2, 2}, {13.0 / 4, 20.0 / 4, 15.0 / 4, 27.0 / 4});

  Tensor<double> sixteen({1, 1, 4, 4});
  for (Index i = 0; i < 16; ++i)
    sixteen[i] = static_cast<double>(i + 1);
  AvgPool2D<double> halving;
  check_values(run(halving, sixteen), {1, 1, 2, 2}, {3.5, 5.5, 11.5, 13.5});
}

TEST_CASE("AvgPool2D 'same' averages over the elements inside the input only") {
  // As for MaxPool2D: windows at 0, 2, 4 over 5x5. The right column of windows holds 2 real
  // elements, the bottom-right corner 1: they divide by 2 and 1, not by 4.
  AvgPool2D<double> pool(2, 2, Padding::same);
  check_values(
      run(pool, one_to_25()), {1, 1, 3, 3},
      {16.0 / 4, 24.0 / 4, 15.0 / 2, 56.0 / 4, 64.0 / 4, 35.0 / 2, 43.0 / 2, 47.0 / 2, 25.0});
}

TEST_CASE("GlobalAveragePooling2D averages each channel") {
  GlobalAveragePooling2D<double> pool;
  const auto x = Tensor<double>::of({2, 2, 1, 3}, {1, 2, 3, -3, 0, 6, 10, 10, 10, 0, 0, 1.5});
  check_values(run(pool, x), {2, 2}, {2, 1, 10, 0.5});
}

TEST_CASE("Pooling layers infer their output shape") {
  Random random(2);
  CHECK(MaxPool2D<float>(2).build({3, 28, 28}, random) == Shape{3, 14, 14});
  CHECK(MaxPool2D<float>(2).build({3, 7, 7}, random) == Shape{3, 3, 3});
  CHECK(MaxPool2D<float>(2, 2, Padding::same).build({3, 7, 7}, random) == Shape{3, 4, 4});
  CHECK(MaxPool2D<float>(3, 1).build({2, 7, 5}, random) == Shape{2, 5, 3});
  CHECK(MaxPool2D<float>(3, 1, Padding::same).build({2, 7, 5}, random) == Shape{2, 7, 5});
  CHECK(AvgPool2D<float>(Size2(2, 3)).build({4, 7, 9}, random) == Shape{4, 3, 3});
  CHECK(AvgPool2D<float>({2, 3}, {1, 2}, Padding::same).build({4, 7, 9}, random) == Shape{4, 7, 5});
  CHECK(GlobalAveragePooling2D<float>().build({16, 5, 3}, random) == Shape{16});
}

TEST_CASE("Pooling gradients match central differences") {
  struct Case {
    Size2 pool, strides;
    Padding padding;
    Shape input;  // batch included
  };
  const Case cases[] = {
      {2, 2, Padding::valid, {1, 1, 4, 4}},
      {2, 1, Padding::valid, {3, 2, 5, 5}},
      {3, 2, Padding::same, {2, 3, 7, 5}},
      {{2, 3}, {1, 2}, Padding::same, {3, 2, 5, 7}},
      {{3, 2}, {2, 3}, Padding::valid, {2, 2, 7, 8}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CAPTURE(c.pool.str());
    CAPTURE(c.strides.str());
    CAPTURE(to_string(c.padding));
    Random random(3);
    MaxPool2D<double> max_pool(c.pool, c.strides, c.padding);
    max_pool.build(c.input.sample(), random);
    const auto max_report = testing::check_layer_gradients(max_pool, c.input, 4);
    INFO(max_report.worst_element);
    CHECK(max_report.worst_error < 1e-6);
    CHECK(max_report.elements_checked == c.input.size());

    // Inference finds the maxima again in x: a training forward on other data first must not
    // leak its recorded positions into the gradient.
    Tensor<double> other(c.input), y_other;
    other.fill_uniform(random, -1.0, 1.0);
    max_pool.forward(other, y_other, Mode::training);
    const auto inference_report =
        testing::check_layer_gradients(max_pool, c.input, 4, Mode::inference);
    INFO(inference_report.worst_element);
    CHECK(inference_report.worst_error < 1e-6);
    CHECK(inference_report.elements_checked == c.input.size());

    AvgPool2D<double> avg_pool(c.pool, c.strides, c.padding);
    avg_pool.build(c.input.sample(), random);
    const auto avg_report = testing::check_layer_gradients(avg_pool, c.input, 5);
    INFO(avg_report.worst_element);
    CHECK(avg_report.worst_error < 1e-6);
  }
  for (const Shape& input : {Shape{1, 1, 2, 2}, Shape{3, 4, 5, 3}}) {
    CAPTURE(input);
    GlobalAveragePooling2D<double> pool;
    Random random(6);
    pool.build(input.sample(), random);
    const auto report = testing::check_layer_gradients(pool, input, 7);
    INFO(report.worst_element);
    CHECK(report.worst_error < 1e-6);
  }
}

TEST_CASE("Pooling is bit-identical across runs and thread counts") {
  // Each (sample, channel) plane is pooled by one thread in a fixed order: no reduction crosses
  // threads, so forward and backward do not depend on the thread count.
  Random random(8);
  Tensor<float> x({4, 3, 9, 7}), dy({4, 3, 5, 4});
  x.fill_uniform(random, -1.0f, 1.0f);
  dy.fill_uniform(random, -1.0f, 1.0f);
  auto pass = [&](Layer<float>& layer, int threads, Tensor<float>& y, Tensor<float>& dx) {
    const int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    Random unused(0);
    layer.build(x.shape().sample(), unused);
    layer.forward(x, y, Mode::training);
    layer.backward(x, y, dy, dx, Mode::training);
    omp_set_num_threads(previous);
  };
  auto same = [](const Tensor<float>& a, const Tensor<float>& b) {
    return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
  };
  MaxPool2D<float> max_pool(3, 2, Padding::same);
  AvgPool2D<float> avg_pool(3, 2, Padding::same);
  for (Layer<float>* layer : std::initializer_list<Layer<float>*>{&max_pool, &avg_pool}) {
    CAPTURE(layer->kind());
    Tensor<float> y1, dx1, y2, dx2, y3, dx3;
    pass(*layer, 1, y1, dx1);
    pass(*layer, 2, y2, dx2);
    pass(*layer, 2, y3, dx3);
    CHECK(same(y1, y2));
    CHECK(same(dx1, dx2));
    CHECK(same(y2, y3));
    CHECK(same(dx2, dx3));
  }
}

TEST_CASE("Pooling layers refuse bad arguments and shapes, naming themselves") {
  CHECK_THROWS_WITH_AS(MaxPool2D<float>(Size2(2, 0)),
                       "MaxPooling2D: expected pool_size > 0 in both axes, got 2x0", Error);
  CHECK_THROWS_WITH_AS(MaxPool2D<float>(2, -1),
                       "MaxPooling2D: expected strides > 0 in both axes, got -1x-1", Error);
  CHECK_THROWS_WITH_AS(AvgPool2D<float>(0),
                       "AveragePooling2D: expected pool_size > 0 in both axes, got 0x0", Error);
  CHECK_THROWS_WITH_AS(AvgPool2D<float>(2, {0, 1}),
                       "AveragePooling2D: expected strides > 0 in both axes, got 0x1", Error);

  Random random(9);
  MaxPool2D<float> max_pool(3);
  max_pool.set_name("pool");
  CHECK_THROWS_WITH_AS(max_pool.build({3, 2, 8}, random),
                       "MaxPooling2D 'pool': the 3x3 pool does not fit the 2x8 input with 'valid' "
                       "padding; use 'same' padding or a smaller pool",
                       Error);
  CHECK_THROWS_WITH_AS(max_pool.build({9, 9}, random),
                       "MaxPooling2D 'pool': expected input of rank 3 per sample (channels, "
                       "height, width), got (9, 9)",
                       Error);
  AvgPool2D<float> avg_pool(2);
  avg_pool.set_name("avg");
  CHECK_THROWS_WITH_AS(avg_pool.build({0, 4, 4}, random),
                       "AveragePooling2D 'avg': expected a non-empty input, got (0, 4, 4)", Error);
  GlobalAveragePooling2D<float> global;
  global.set_name("gap");
  CHECK_THROWS_WITH_AS(global.build({10}, random),
                       "GlobalAveragePooling2D 'gap': expected input of rank 3 per sample "
                       "(channels, height, width), got (10)",
                       Error);
  CHECK_THROWS_WITH_AS(global.build({4, 0, 3}, random),
                       "GlobalAveragePooling2D 'gap': expected a non-empty input, got (4, 0, 3)",
                       Error);

  // Forward and backward shape checks (Layer::check_input, Layer::check_gradient), and
  // MaxPool2D's need for the argmax of a training-mode forward.
  max_pool.build({2, 6, 6}, random);
  avg_pool.build({2, 6, 6}, random);
  global.build({2, 6, 6}, random);
  Tensor<float> x({3, 2, 6, 6}, 1.0f), wrong({3, 2, 6, 5}), y, dx;
  CHECK_THROWS_WITH_AS(max_pool.forward(wrong, y, Mode::inference),
                       "MaxPooling2D 'pool': expected input of shape (N, 2, 6, 6), got "
                       "(3, 2, 6, 5)",
                       Error);
  CHECK_THROWS_WITH_AS(avg_pool.forward(wrong, y, Mode::inference),
                       "AveragePooling2D 'avg': expected input of shape (N, 2, 6, 6), got "
                       "(3, 2, 6, 5)",
                       Error);
  CHECK_THROWS_WITH_AS(global.forward(wrong, y, Mode::inference),
                       "GlobalAveragePooling2D 'gap': expected input of shape (N, 2, 6, 6), got "
                       "(3, 2, 6, 5)",
                       Error);
  Tensor<float> dy({3, 2, 2, 2});
  max_pool.forward(x, y, Mode::inference);
  CHECK_THROWS_WITH_AS(max_pool.backward(x, y, dy, dx, Mode::training),
                       "MaxPooling2D 'pool': backward() called before a training-mode forward()",
                       Error);
  max_pool.forward(x, y, Mode::training);
  Tensor<float> smaller_batch({2, 2, 6, 6}, 1.0f), small_dy({2, 2, 2, 2});
  CHECK_THROWS_WITH_AS(max_pool.backward(smaller_batch, y, small_dy, dx, Mode::training),
                       "MaxPooling2D 'pool': backward() expected the last training-mode forward() "
                       "to output (2, 2, 2, 2), got (3, 2, 2, 2)",
                       Error);
  Tensor<float> bad_dy({3, 2, 2, 3});
  CHECK_THROWS_WITH_AS(
      max_pool.backward(x, y, bad_dy, dx, Mode::training),
      "MaxPooling2D 'pool': expected output gradient of shape (3, 2, 2, 2), got (3, 2, 2, 3)",
      Error);
  avg_pool.forward(x, y, Mode::training);
  CHECK_THROWS_WITH_AS(
      avg_pool.backward(x, y, bad_dy, dx, Mode::training),
      "AveragePooling2D 'avg': expected output gradient of shape (3, 2, 3, 3), got (3, 2, 2, 3)",
      Error);
  global.forward(x, y, Mode::training);
  CHECK_THROWS_WITH_AS(global.backward(x, y, bad_dy, dx, Mode::training),
                       "GlobalAveragePooling2D 'gap': expected output gradient of shape (3, 2), "
                       "got (3, 2, 2, 3)",
                       Error);
}

TEST_CASE("Pooling layers round-trip through their config") {
  MaxPool2D<float> max_pool({3, 2}, {1, 2}, Padding::same);
  CHECK(max_pool.kind() == "MaxPooling2D");
  CHECK(max_pool.config().str() == "pool_size=3x2, strides=1x2, padding=same");
  CHECK(MaxPool2D<float>::from_config(max_pool.config())->config() == max_pool.config());
  CHECK(MaxPool2D<float>(3).config().str() == "pool_size=3x3, strides=3x3, padding=valid");

  AvgPool2D<float> avg_pool(2, 1);
  CHECK(avg_pool.kind() == "AveragePooling2D");
  CHECK(avg_pool.config().str() == "pool_size=2x2, strides=1x1, padding=valid");
  CHECK(AvgPool2D<float>::from_config(avg_pool.config())->config() == avg_pool.config());

  GlobalAveragePooling2D<float> global;
  CHECK(global.kind() == "GlobalAveragePooling2D");
  CHECK(global.config().str().empty());
  CHECK(GlobalAveragePooling2D<float>::from_config(global.config())->kind() ==
        "GlobalAveragePooling2D");
}

TEST_CASE("Pooling with explicit pads (PyTorch's padding, ONNX's pads) ignores the padding") {
  // 3x3 windows at stride 2 with 1 padded row/column on each side of 5x5: windows start at -1,
  // 1, 3. The corner window covers x[0..1, 0..1] = {1, 2, 6, 7}: max 7, mean 16 / 4.
  MaxPool2D<double> max_pool(3, 2, Pads(1));
  check_values(run(max_pool, one_to_25()), {1, 1, 3, 3}, {7, 9, 10, 17, 19, 20, 22, 24, 25});
  AvgPool2D<double> avg_pool(3, 2, Pads(1));
  const Tensor<double> mean = run(avg_pool, one_to_25());
  CHECK(mean[0] == 16.0 / 4);
  CHECK(mean[4] == 13.0);  // the middle window lies inside: the mean of 7..9, 12..14, 17..19
  // Asymmetric pads: 0 above, 1 below, 1 left, 0 right.
  Random random(4);
  CHECK(MaxPool2D<double>(2, 2, Pads(0, 1, 1, 0)).build({1, 5, 5}, random) == Shape{1, 3, 3});
  for (const Pads& pads : {Pads(1), Pads(0, 1, 1, 0), Pads(2, 1, 0, 2)}) {
    CAPTURE(pads.str());
    MaxPool2D<double> max(3, {2, 1}, pads);
    max.build({2, 6, 5}, random);
    const auto max_report = testing::check_layer_gradients(max, {2, 2, 6, 5}, 8);
    INFO(max_report.worst_element);
    CHECK(max_report.worst_error < 1e-6);
    AvgPool2D<double> avg(3, {2, 1}, pads);
    avg.build({2, 6, 5}, random);
    const auto avg_report = testing::check_layer_gradients(avg, {2, 2, 6, 5}, 9);
    INFO(avg_report.worst_element);
    CHECK(avg_report.worst_error < 1e-6);
  }
  // The config says 'explicit' and the pads, and rebuilds the same layer.
  CHECK(max_pool.config().str() == "pool_size=3x3, strides=2x2, padding=explicit, pads=1,1,1,1");
  CHECK(AvgPool2D<float>::from_config(AvgPool2D<float>(3, 2, Pads(0, 1, 2, 0)).config())
            ->config()
            .get("pads") == "0,1,2,0");
  // A pad as large as the pool would make windows of padding only.
  CHECK_THROWS_WITH_AS(MaxPool2D<float>(3, 1, Pads(0, 3, 0, 0)),
                       "MaxPooling2D: expected pads >= 0 and smaller than the 3x3 pool on every "
                       "side, got 0,3,0,0 (top,bottom,left,right)",
                       Error);
}
