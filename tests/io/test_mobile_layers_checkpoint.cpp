// Specification of saving and loading models made of the layers of MobileNet- and Xception-like
// networks (ZeroPadding2D, DepthwiseConv2D, SeparableConv2D, ReLU with max_value): a checkpoint
// rebuilds every layer from its kind and config and restores every parameter, so the loaded model
// computes exactly what the saved one did.
#include <doctest/doctest.h>

#include "minicnn/layer_registry.hpp"
#include "minicnn/sequential.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;

TEST_CASE("A model of ZeroPadding2D, DepthwiseConv2D, SeparableConv2D and ReLU6 saves and loads") {
  Sequential<float> model;
  model.add<ZeroPadding2D>(Pads(0, 1, 0, 1))
      .add<Conv2D>(8, 3, 2)
      .add<ReLU>(6.0)
      .add<DepthwiseConv2D>(3, 1, Padding::same, 2)
      .add<ReLU>(6.0)
      .add<SeparableConv2D>(6, 3, 1, Pads(1, 1, 2, 0), 1, true, 2)
      .add<ReLU>()
      .add<DepthwiseConv2D>(Size2(2, 3), 2, Pads(1, 0, 0, 1), 1, false)
      .add<GlobalAveragePooling2D>()
      .add<Dense>(3);
  model.build({3, 13, 13}, 7);
  // Every parameter random, biases included (they are built as zeros), so that each is checked.
  Random random(8);
  for (Index i = 0; i < 10; ++i)
    for (Parameter<float>* p : model.layer(i).parameters())
      p->value.fill_uniform(random, -1.0f, 1.0f);

  const testing::TempDir dir;
  model.save(dir / "mobile.ckpt");
  const Sequential<float> loaded = Sequential<float>::load(dir / "mobile.ckpt");

  CHECK(loaded.summary() == model.summary());
  for (Index i = 0; i < 10; ++i) {
    CAPTURE(model.layer(i).label());
    CHECK(loaded.layer(i).kind() == model.layer(i).kind());
    CHECK(loaded.layer(i).config() == model.layer(i).config());
  }
  CHECK(loaded.layer(2).config().str() == "max_value=6");
  CHECK(loaded.layer(6).config().entries().empty());

  Tensor<float> x({5, 3, 13, 13});
  x.fill_uniform(random, -2.0f, 2.0f);
  const Tensor<float> expected = model.predict(x);
  const Tensor<float> actual = loaded.predict(x);
  REQUIRE(actual.shape() == Shape{5, 3});
  for (Index i = 0; i < expected.size(); ++i)
    CHECK(actual[i] == expected[i]);
}
