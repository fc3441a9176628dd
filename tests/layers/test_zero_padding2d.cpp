// Specification of ZeroPadding2D:
//   y[n, c, top + h, left + w] = x[n, c, h, w], every other element of y is 0;
//   y is (N, C, top + H + bottom, left + W + right).
#include <doctest/doctest.h>

#include "minicnn/layer_registry.hpp"
#include "minicnn/layers/zero_padding2d.hpp"
#include "support/gradient_check.hpp"

using namespace minicnn;

TEST_CASE("ZeroPadding2D surrounds each channel with its own widths of zeros") {
  ZeroPadding2D<float> layer(Pads(1, 0, 2, 1));
  const auto x = Tensor<float>::of({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Random random(1);
  CHECK(layer.build({2, 2, 2}, random) == Shape{2, 3, 5});
  Tensor<float> y;
  layer.forward(x, y, Mode::inference);
  REQUIRE(y.shape() == Shape{1, 2, 3, 5});
  const float expected[] = {0, 0, 0, 0, 0,  //
                            0, 0, 1, 2, 0,  //
                            0, 0, 3, 4, 0,  //
                            0, 0, 0, 0, 0,  //
                            0, 0, 5, 6, 0,  //
                            0, 0, 7, 8, 0};
  for (Index i = 0; i < y.size(); ++i)
    CHECK(y[i] == expected[i]);
}

TEST_CASE("ZeroPadding2D takes Keras's three forms, 1 on every side by default") {
  CHECK(ZeroPadding2D<float>().padding() == Pads(1, 1, 1, 1));
  CHECK(ZeroPadding2D<float>(3).padding() == Pads(3, 3, 3, 3));
  CHECK(ZeroPadding2D<float>(2, 1).padding() == Pads(2, 2, 1, 1));  // (height, width)
  CHECK(ZeroPadding2D<float>(Pads(0, 1, 2, 3)).padding() == Pads(0, 1, 2, 3));
  Random random(1);
  ZeroPadding2D<float> layer(2, 1);
  CHECK(layer.build({3, 4, 5}, random) == Shape{3, 8, 7});
  CHECK(layer.parameter_count(true) == 0);
}

TEST_CASE("ZeroPadding2D's gradient is the output gradient cropped to the input") {
  ZeroPadding2D<float> layer(Pads(0, 1, 1, 0));
  const auto x = Tensor<float>::of({1, 1, 2, 2}, {1, 2, 3, 4});
  Random random(1);
  layer.build({1, 2, 2}, random);
  Tensor<float> y, dx;
  layer.forward(x, y, Mode::training);
  const auto dy = Tensor<float>::of({1, 1, 3, 3}, {10, 11, 12, 13, 14, 15, 16, 17, 18});
  layer.backward(x, y, dy, dx, Mode::training);
  REQUIRE(dx.shape() == x.shape());
  const float expected[] = {11, 12, 14, 15};
  for (Index i = 0; i < 4; ++i)
    CHECK(dx[i] == expected[i]);
}

TEST_CASE("ZeroPadding2D gradients match central differences") {
  const Pads paddings[] = {Pads(1, 1, 1, 1), Pads(0, 2, 3, 0), Pads(0, 0, 0, 0)};
  for (const Pads& padding : paddings) {
    CAPTURE(padding.str());
    ZeroPadding2D<double> layer(padding);
    Random random(2);
    layer.build({3, 4, 5}, random);
    const auto report = testing::check_layer_gradients(layer, {2, 3, 4, 5}, 3);
    INFO(report.worst_element);
    CHECK(report.worst_error < 1e-8);
  }
}

TEST_CASE("ZeroPadding2D refuses bad arguments and shapes, naming itself") {
  CHECK_THROWS_WITH_AS(ZeroPadding2D<float>(-1),
                       "ZeroPadding2D: expected padding >= 0 on every side, got -1,-1,-1,-1",
                       Error);
  CHECK_THROWS_WITH_AS(ZeroPadding2D<float>(Pads(0, 0, 0, -2)),
                       "ZeroPadding2D: expected padding >= 0 on every side, got 0,0,0,-2", Error);
  Random random(1);
  ZeroPadding2D<float> layer;
  layer.set_name("pad");
  CHECK_THROWS_WITH_AS(layer.build({4, 4}, random),
                       "ZeroPadding2D 'pad': expected input of rank 3 per sample (channels, "
                       "height, width), got (4, 4)",
                       Error);
  const Index huge = Layer<float>::kMaxElements;
  ZeroPadding2D<float> wide(Pads(0, 0, huge - 2, 1));
  wide.set_name("wide");
  const std::string too_wide = "ZeroPadding2D 'wide': expected padded extents of at most " +
                               std::to_string(huge) + ", got padding 0,0," +
                               std::to_string(huge - 2) + ",1 around 3x2";
  CHECK_THROWS_WITH_AS(wide.build({1, 3, 2}, random), too_wide.c_str(), Error);
  layer.build({2, 3, 3}, random);
  Tensor<float> x({1, 2, 3, 4}), y;
  CHECK_THROWS_WITH_AS(
      layer.forward(x, y, Mode::inference),
      "ZeroPadding2D 'pad': expected input of shape (N, 2, 3, 3), got (1, 2, 3, 4)", Error);
}

TEST_CASE("ZeroPadding2D round-trips through its config, the padding written as Pads writes it") {
  ZeroPadding2D<float> layer(Pads(1, 2, 3, 4));
  CHECK(layer.config().str() == "padding=1,2,3,4");
  const auto rebuilt = make_layer<float>("ZeroPadding2D", layer.config());
  CHECK(rebuilt->config() == layer.config());
  CHECK(Pads::parse("0,1,2,3") == Pads(0, 1, 2, 3));
  CHECK(Pads::parse("-4,5,6,7") == Pads(-4, 5, 6, 7));  // parsed; the layers refuse it
  for (const char* text : {"", "1", "1,2,3", "1,2,3,4,", "1,2,3,4x", "1,2,3,x", "1, 2,3,4",
                           "+1,2,3,4", "99999999999999999999,0,0,0", "((1, 2), (3, 4))"}) {
    CAPTURE(text);
    CHECK_THROWS_AS(Pads::parse(text), Error);
  }
  CHECK_THROWS_WITH_AS(Pads::parse("1,2"),
                       "Pads: expected top,bottom,left,right such as 3,3,3,3, got '1,2'", Error);
}
