// Specification of data augmentation: exact geometry of flips, shifts and rotations with nearest
// sampling and nearest fill, reproducibility independent of the thread count, the layer that
// augments inside fit(), and every error message.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "minicnn/data/augmentation.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/models.hpp"
#include "minicnn/optimizers/sgd.hpp"
#include "support/gradient_check.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;

namespace {

// (channels, height, width) with pixel value 1000 ch + 100 + W r + c: every pixel distinct.
Tensor<double> numbered_image(Index channels, Index height, Index width) {
  Tensor<double> image({channels, height, width});
  for (Index ch = 0; ch < channels; ++ch)
    for (Index r = 0; r < height; ++r)
      for (Index c = 0; c < width; ++c)
        image(ch, r, c) = static_cast<double>(1000 * ch + 100 + width * r + c);
  return image;
}

Tensor<double> transformed(const Tensor<double>& image, const SampleTransform& t) {
  const Index channels = image.dim(0), height = image.dim(1), width = image.dim(2);
  std::vector<Index> sources(static_cast<std::size_t>(height * width));
  source_pixels(t, height, width, sources.data());
  Tensor<double> out(image.shape());
  remap(image.data(), out.data(), channels, height * width, sources.data());
  return out;
}

Tensor<float> random_batch(Index n, Index channels, Index height, Index width, std::uint64_t seed) {
  Tensor<float> batch({n, channels, height, width});
  Random random(seed);
  batch.fill_uniform(random, 0.0f, 1.0f);
  return batch;
}

bool equal(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

AugmentationSettings everything() {
  AugmentationSettings s = augmentation_preset("flip_shift_rotate_zoom");
  s.shear = 15.0;
  return s;
}

}  // namespace

TEST_CASE("A flip of a flip is the identity") {
  for (Index width : {1, 4, 7}) {
    CAPTURE(width);
    const auto image = numbered_image(3, 5, width);
    SampleTransform flip;
    flip.flip = true;
    const auto once = transformed(image, flip);
    CHECK(once(1, 2, 0) == image(1, 2, width - 1));  // mirrored left-right
    const auto twice = transformed(once, flip);
    CHECK(std::equal(twice.begin(), twice.end(), image.begin()));
  }
}

TEST_CASE("A shift moves a known pixel to a known place and fills with the nearest edge pixel") {
  const auto image = numbered_image(1, 6, 8);
  SampleTransform shift;
  shift.shift_x = 3;   // right
  shift.shift_y = -2;  // up
  const auto out = transformed(image, shift);
  CHECK(out(0, 1, 5) == image(0, 3, 2));  // (3, 2) moved to (3 - 2, 2 + 3)
  CHECK(out(0, 0, 7) == image(0, 2, 4));
  // Uncovered pixels repeat the nearest edge: columns left of 3 copy column 0, rows from 4 on
  // copy row 5 (Keras's fill_mode='nearest').
  CHECK(out(0, 1, 0) == image(0, 3, 0));
  CHECK(out(0, 1, 2) == image(0, 3, 0));
  CHECK(out(0, 5, 4) == image(0, 5, 1));
}

TEST_CASE("A fractional shift rounds to the nearest pixel") {
  const auto image = numbered_image(1, 4, 4);
  SampleTransform shift;
  shift.shift_x = 0.6;
  const auto out = transformed(image, shift);
  CHECK(out(0, 2, 3) == image(0, 2, 2));
}

TEST_CASE("Rotation by 90 degrees of a square image is a transpose and then a vertical flip") {
  for (Index size : {4, 5}) {  // even sizes have their centre between pixels
    CAPTURE(size);
    const auto image = numbered_image(2, size, size);
    SampleTransform quarter;
    quarter.angle = 3.14159265358979323846 / 2;
    const auto out = transformed(image, quarter);
    for (Index ch = 0; ch < 2; ++ch)
      for (Index r = 0; r < size; ++r)
        for (Index c = 0; c < size; ++c)
          CHECK(out(ch, r, c) == image(ch, c, size - 1 - r));
    // Counterclockwise on screen: the right column becomes the top row.
    CHECK(out(0, 0, 0) == image(0, 0, size - 1));
  }
}

TEST_CASE("The geometry holds at photo sizes: 64x64 RGB and non-square images") {
  // The cats-vs-dogs lab trains on 64x64 RGB photos with rotations up to 90 degrees.
  const auto square = numbered_image(3, 64, 64);
  SampleTransform quarter;
  quarter.angle = 3.14159265358979323846 / 2;
  const auto turned = transformed(square, quarter);
  for (Index ch = 0; ch < 3; ++ch)
    for (Index r = 0; r < 64; ++r)
      for (Index c = 0; c < 64; ++c)
        REQUIRE(turned(ch, r, c) == square(ch, c, 63 - r));

  // Non-square, even and odd sides: a half turn is a flip of rows and of columns, a flip mirrors
  // the columns, a shift moves the content and repeats the edge.
  for (const auto& [height, width] : {std::pair<Index, Index>{48, 80}, {33, 20}}) {
    CAPTURE(height);
    CAPTURE(width);
    const auto image = numbered_image(3, height, width);
    SampleTransform half, flip, shift;
    half.angle = 3.14159265358979323846;
    flip.flip = true;
    shift.shift_x = 5;
    shift.shift_y = -3;
    const auto turned_half = transformed(image, half), mirrored = transformed(image, flip),
               moved = transformed(image, shift);
    for (Index ch = 0; ch < 3; ++ch)
      for (Index r = 0; r < height; ++r)
        for (Index c = 0; c < width; ++c) {
          REQUIRE(turned_half(ch, r, c) == image(ch, height - 1 - r, width - 1 - c));
          REQUIRE(mirrored(ch, r, c) == image(ch, r, width - 1 - c));
          REQUIRE(moved(ch, r, c) ==
                  image(ch, std::min(r + 3, height - 1), std::max<Index>(c - 5, 0)));
        }
  }

  // Drawn with the lab's ranges (rotation 90, zoom, shear, shifts, flip) on a non-square batch:
  // every output pixel is a pixel of the same image and channel, and the draw is reproducible.
  AugmentationSettings lab;
  lab.rotation = 90;
  lab.zoom = 0.2;
  lab.shear = 20;
  lab.width_shift = lab.height_shift = 0.2;
  lab.horizontal_flip = true;
  Tensor<float> batch({2, 3, 24, 40});
  for (Index i = 0; i < batch.size(); ++i)
    batch[i] = static_cast<float>(i);
  const auto original = batch;
  Augmenter<float> augment(lab, 9);
  const Index ids[] = {0, 1};
  augment.apply(batch, 0, ids);
  CHECK_FALSE(equal(batch, original));
  const Index plane = 24 * 40;
  for (Index n = 0; n < 2; ++n)
    for (Index ch = 0; ch < 3; ++ch)
      for (Index p = 0; p < plane; ++p) {
        const float v = batch[(n * 3 + ch) * plane + p];
        REQUIRE(v >= static_cast<float>((n * 3 + ch) * plane));
        REQUIRE(v < static_cast<float>((n * 3 + ch + 1) * plane));
      }
  auto again = original;
  Augmenter<float>(lab, 9).apply(again, 0, ids);
  CHECK(equal(again, batch));
}

TEST_CASE("Zoom 1, shift 0, angle 0 and shear 0 are the identity") {
  const auto image = numbered_image(3, 7, 6);
  const auto out = transformed(image, SampleTransform{});
  CHECK(std::equal(out.begin(), out.end(), image.begin()));

  // Drawn from settings that are all zero, the batch is left exactly as it was.
  Augmenter<float> none(augmentation_preset("off"), 1);
  auto batch = random_batch(4, 3, 8, 8, 2);
  const auto before = batch;
  const Index ids[] = {0, 1, 2, 3};
  none.apply(batch, 0, ids);
  CHECK(equal(batch, before));
}

TEST_CASE("Zoom 2 shows the content at half size around the centre") {
  const auto image = numbered_image(1, 9, 9);
  SampleTransform zoom;
  zoom.zoom_x = zoom.zoom_y = 2.0;
  const auto out = transformed(image, zoom);
  CHECK(out(0, 4, 4) == image(0, 4, 4));
  CHECK(out(0, 4, 5) == image(0, 4, 6));
  CHECK(out(0, 2, 4) == image(0, 0, 4));
}

TEST_CASE("Seeded augmentation repeats exactly and does not depend on the thread count") {
  const auto original = random_batch(9, 3, 12, 10, 5);
  const std::vector<Index> ids = {4, 17, 3, 8, 0, 11, 2, 9, 6};
  const int threads = omp_get_max_threads();
  std::vector<Tensor<float>> results;
  for (int count : {1, 2, 3}) {
    omp_set_num_threads(count);
    Augmenter<float> augment(everything(), 42);
    auto batch = original;
    augment.apply(batch, 3, ids.data());
    results.push_back(batch);
  }
  omp_set_num_threads(threads);
  CHECK(equal(results[0], results[1]));
  CHECK(equal(results[0], results[2]));
  CHECK_FALSE(equal(results[0], original));

  SUBCASE("a sample's transform depends on (seed, epoch, id), not on its batch") {
    Augmenter<float> augment(everything(), 42);
    Tensor<float> single({1, 3, 12, 10});
    std::copy_n(original.data() + 5 * 360, 360, single.data());
    augment.apply(single, 3, &ids[5]);
    CHECK(std::equal(single.begin(), single.end(), results[0].data() + 5 * 360));
  }
  SUBCASE("another epoch or another seed transforms differently") {
    Augmenter<float> same_seed(everything(), 42), other_seed(everything(), 43);
    auto next_epoch = original, other = original;
    same_seed.apply(next_epoch, 4, ids.data());
    other_seed.apply(other, 3, ids.data());
    CHECK_FALSE(equal(next_epoch, results[0]));
    CHECK_FALSE(equal(other, results[0]));
  }
}

TEST_CASE("Flips are drawn for about half of the samples") {
  AugmentationSettings flip_only;
  flip_only.horizontal_flip = true;
  Index flipped = 0;
  const Index samples = 10000;
  for (Index i = 0; i < samples; ++i) {
    Random random(sample_seed(7, 0, static_cast<std::uint64_t>(i)));
    flipped += draw_transform(flip_only, 8, 8, random).flip ? 1 : 0;
  }
  CHECK(std::abs(static_cast<double>(flipped) / samples - 0.5) < 0.02);  // 4 sigma = 0.02
}

TEST_CASE("Drawn transforms stay within the settings' ranges") {
  const AugmentationSettings s = everything();
  const double degree = 3.14159265358979323846 / 180;
  for (Index i = 0; i < 1000; ++i) {
    Random random(sample_seed(1, 2, static_cast<std::uint64_t>(i)));
    const SampleTransform t = draw_transform(s, 20, 30, random);
    CHECK(std::abs(t.angle) <= 10 * degree);
    CHECK(std::abs(t.shear) <= 15 * degree);
    CHECK(std::abs(t.zoom_x - 1) <= 0.2);
    CHECK(std::abs(t.zoom_y - 1) <= 0.2);
    CHECK(std::abs(t.shift_x) <= 3.0);  // 10 % of 30 columns
    CHECK(std::abs(t.shift_y) <= 2.0);  // 10 % of 20 rows
  }
}

TEST_CASE("RandomAugmentation transforms in training and is the identity in inference") {
  RandomAugmentation<float> layer(everything());
  Random random(3);
  CHECK(layer.build({3, 12, 10}, random) == Shape{3, 12, 10});
  const auto x = random_batch(5, 3, 12, 10, 8);
  Tensor<float> y;
  layer.forward(x, y, Mode::inference);
  CHECK(equal(x, y));
  layer.forward(x, y, Mode::training);
  CHECK_FALSE(equal(x, y));
  Tensor<float> again;
  layer.forward(x, again, Mode::training);
  CHECK_FALSE(equal(y, again));  // a new draw every batch
  CHECK(layer.parameter_count(true) + layer.parameter_count(false) == 0);
}

TEST_CASE("RandomAugmentation's backward is the transpose of its forward") {
  // The transform is linear, y = A x, so <dy, A x> = <A^T dy, x> for any x and dy.
  for (Index n : {1, 3}) {
    CAPTURE(n);
    RandomAugmentation<double> layer(everything());
    Random random(4);
    layer.build({2, 7, 9}, random);
    Tensor<double> x({n, 2, 7, 9}), dy({n, 2, 7, 9}), y, dx;
    x.fill_uniform(random, -1, 1);
    dy.fill_uniform(random, -1, 1);
    layer.forward(x, y, Mode::training);
    layer.backward(x, y, dy, dx, Mode::training);
    const double left = std::inner_product(dy.begin(), dy.end(), y.begin(), 0.0);
    const double right = std::inner_product(dx.begin(), dx.end(), x.begin(), 0.0);
    CHECK(left == doctest::Approx(right).epsilon(1e-12));
    const auto report = testing::check_layer_gradients(layer, {n, 2, 7, 9}, 11);
    INFO(report.worst_element);
    CHECK(report.worst_error < 1e-6);
  }
}

TEST_CASE("A model with RandomAugmentation first trains reproducibly, saves and loads") {
  const auto x = random_batch(12, 1, 8, 8, 6);
  Tensor<float> y({12});
  for (Index i = 0; i < 12; ++i)
    y[i] = static_cast<float>(i % 3);
  const auto train = [&] {
    Sequential<float> model;
    model.add<RandomAugmentation>(augmentation_preset("flip_shift"));
    model.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>().add<Dense>(3).add<Softmax>();
    model.build({1, 8, 8}, 5);
    model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
    SGD<float> sgd(0.1);
    FitOptions<float> options;
    options.epochs = 2;
    options.batch_size = 5;
    options.verbose = Verbose::silent;
    model.fit(x, y, sgd, options);
    return model;
  };
  const auto first = train(), second = train();
  CHECK(equal(first.layer(1).parameters()[0]->value, second.layer(1).parameters()[0]->value));

  // The layer reloads from its config, through the registry like every layer (no registration
  // call); the loaded model predicts exactly as the trained one.
  const testing::TempDir dir;
  first.save(dir / "model.mcnn");
  const auto loaded = Sequential<float>::load(dir / "model.mcnn");
  CHECK(loaded.layer(0).kind() == "RandomAugmentation");
  CHECK(loaded.layer(0).config().str() == augmentation_preset("flip_shift").config().str());
  CHECK(equal(loaded.predict(x), first.predict(x)));
}

TEST_CASE("The presets are the labs' settings") {
  const auto shift = augmentation_preset("flip_shift");
  CHECK(shift.horizontal_flip);
  CHECK(shift.width_shift == 0.1);
  CHECK(shift.height_shift == 0.1);
  CHECK(shift.rotation == 0);
  const auto model8 = augmentation_preset("flip_shift_rotate_zoom");
  CHECK(model8.rotation == 10);
  CHECK(model8.zoom == 0.2);
  CHECK_FALSE(augmentation_preset("off").active());
  for (const auto& name : augmentation_preset_names())
    CHECK(augmentation_preset(name).config().str() ==
          AugmentationSettings::from_config(augmentation_preset(name).config()).config().str());
}

TEST_CASE("augmentation_samples gives each image followed by its variants") {
  Dataset data;
  data.images.resize({3, 2, 4, 5});
  for (Index i = 0; i < data.images.size(); ++i)
    data.images[i] = static_cast<std::uint8_t>(i);
  data.labels.resize({3});
  data.classes = 1;
  const auto samples = augmentation_samples(data, 2, 3, augmentation_preset("flip_shift"), 9);
  CHECK(samples.shape() == Shape{2 * 4, 2, 4, 5});
  for (Index p = 0; p < 40; ++p)  // image 1 first, as it is
    CHECK(samples.data()[4 * 40 + p] == data.images.data()[40 + p]);
  Random random(sample_seed(9, 2, 1));  // image 1, variant 2
  const auto t = draw_transform(augmentation_preset("flip_shift"), 4, 5, random);
  std::vector<Index> sources(20);
  source_pixels(t, 4, 5, sources.data());
  for (Index ch = 0; ch < 2; ++ch)
    for (Index p = 0; p < 20; ++p)
      CHECK(samples(4 + 2, ch, p / 5, p % 5) == data.images(1, ch, sources[p] / 5, sources[p] % 5));
}

TEST_CASE("Augmentation errors name the setting, the bounds and the value") {
  const auto refused = [](void (*change)(AugmentationSettings&)) {
    AugmentationSettings s;
    change(s);
    s.check();
  };
  CHECK_THROWS_WITH_AS(refused([](AugmentationSettings& s) { s.width_shift = 1.0; }),
                       "AugmentationSettings: expected width_shift in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(refused([](AugmentationSettings& s) { s.height_shift = -0.1; }),
                       "AugmentationSettings: expected height_shift in [0, 1), got -0.1", Error);
  CHECK_THROWS_WITH_AS(refused([](AugmentationSettings& s) { s.rotation = 181; }),
                       "AugmentationSettings: expected rotation in [0, 180], got 181", Error);
  CHECK_THROWS_WITH_AS(refused([](AugmentationSettings& s) { s.zoom = 1.5; }),
                       "AugmentationSettings: expected zoom in [0, 1), got 1.5", Error);
  CHECK_THROWS_WITH_AS(refused([](AugmentationSettings& s) { s.shear = 90; }),
                       "AugmentationSettings: expected shear in [0, 90), got 90", Error);
  AugmentationSettings bad;
  bad.zoom = 2;
  CHECK_THROWS_WITH_AS(RandomAugmentation<float>{bad},
                       "AugmentationSettings: expected zoom in [0, 1), got 2", Error);
  CHECK_THROWS_WITH_AS((Augmenter<float>{bad, 0}),
                       "AugmentationSettings: expected zoom in [0, 1), got 2", Error);
  CHECK_THROWS_WITH_AS(augmentation_preset("flip"),
                       "augmentation_preset: unknown preset 'flip'; expected one of: off, "
                       "flip_shift, flip_shift_rotate_zoom",
                       Error);

  Augmenter<float> augment(augmentation_preset("flip_shift"), 0);
  Tensor<float> flat({2, 5});
  CHECK_THROWS_WITH_AS(augment.apply(flat, 0, nullptr),
                       "Augmenter::apply: expected a batch of images (N, C, H, W), got (2, 5)",
                       Error);

  RandomAugmentation<float> layer(augmentation_preset("flip_shift"));
  Random random(0);
  CHECK_THROWS_WITH_AS(layer.build({10}, random),
                       "RandomAugmentation: expected images (C, H, W), got (10)", Error);
  layer.build({1, 4, 4}, random);
  Tensor<float> x({3, 1, 4, 4}, 0.0f), y, dx, x2({2, 1, 4, 4}, 0.0f), dy2({2, 1, 4, 4}, 0.0f);
  CHECK_THROWS_WITH_AS(layer.backward(x2, y, dy2, dx, Mode::training),
                       "RandomAugmentation: backward() called before a training-mode forward()",
                       Error);
  layer.forward(x, y, Mode::training);
  CHECK_THROWS_WITH_AS(layer.backward(x2, y, dy2, dx, Mode::training),
                       "RandomAugmentation: expected the batch of the last training-mode "
                       "forward(), of 3 samples, got 2",
                       Error);

  Dataset data;
  data.images.resize({2, 1, 3, 3});
  data.labels.resize({2});
  CHECK_THROWS_WITH_AS(augmentation_samples(data, 3, 1, AugmentationSettings{}, 0),
                       "augmentation_samples: expected 1 <= rows <= 2 and variants >= 0, got rows "
                       "3 and variants 1",
                       Error);
  Dataset unshaped;
  unshaped.images.resize({2, 9});
  CHECK_THROWS_WITH_AS(augmentation_samples(unshaped, 1, 1, AugmentationSettings{}, 0),
                       "augmentation_samples: expected a batch of images (N, C, H, W), got (2, 9)",
                       Error);
}
