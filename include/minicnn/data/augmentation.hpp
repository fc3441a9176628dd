// Data augmentation: random geometric transforms of training images, Keras's
// ImageDataGenerator(horizontal_flip, width_shift_range, height_shift_range, rotation_range,
// zoom_range, shear_range, fill_mode='nearest') with nearest-pixel sampling.
//
// Each sample gets one affine transform that combines all the settings. For an output pixel at
// row r, column c of an (H, W) image, with offsets from the centre (cx, cy) = ((W-1)/2, (H-1)/2)
//
//   c' = flip ? W-1-c : c                                   (the flip comes last, as in Keras)
//   (u, v)   = (c' - cx - shift_x, r - cy - shift_y)
//   (x, y)   = Rotate(angle) * Shear(shear) * Zoom(zoom_x, zoom_y) * (u, v)
//   source   = (round(cy + y), round(cx + x)), each clamped into the image   (fill 'nearest')
//
// with Zoom = diag(zoom_x, zoom_y), Shear = [1 -sin(shear); 0 cos(shear)] and
// Rotate = [cos -sin; sin cos]. So the content moves right by shift_x and down by shift_y pixels,
// a positive angle turns it counterclockwise on screen, and zoom > 1 shrinks it (zoom out,
// Keras's convention). The output is out[c, r, col] = in[c, source] for every channel: a transform
// is a table of one source pixel per output pixel (source_pixels()), applied by remap().
//
// Reproducibility: a sample's transform is drawn from its own Random, seeded by
// sample_seed(seed, epoch, index), never from a stream shared by the samples of a batch. The
// samples of a batch are then transformed in parallel and the result does not depend on the
// number of threads, nor on which batch a sample lands in.
//
// Two ways to use it:
//   Augmenter<T>            transforms a batch tensor in place (a training loop of your own).
//   RandomAugmentation<T>   a layer put first in a model: it transforms in training mode and is
//                           the identity in inference, so Sequential::fit() augments every
//                           training batch and evaluate()/predict() see the images unchanged
//                           (Keras's RandomFlip/RandomTranslation/... preprocessing layers).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "minicnn/data/dataset.hpp"
#include "minicnn/error.hpp"
#include "minicnn/layer.hpp"
#include "minicnn/layer_registry.hpp"
#include "minicnn/random.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

// The ranges transforms are drawn from; zero turns a transform off.
struct AugmentationSettings {
  bool horizontal_flip = false;  // mirror left-right with probability 1/2
  double width_shift = 0.0;      // shift_x uniform in [-width_shift, width_shift] * W, in [0, 1)
  double height_shift = 0.0;     // shift_y uniform in [-height_shift, height_shift] * H, in [0, 1)
  double rotation = 0.0;         // angle uniform in [-rotation, rotation] degrees, in [0, 180]
  double zoom = 0.0;             // zoom_x, zoom_y each uniform in [1 - zoom, 1 + zoom], in [0, 1)
  double shear = 0.0;            // shear uniform in [-shear, shear] degrees, in [0, 90)

  bool active() const {
    return horizontal_flip || width_shift > 0 || height_shift > 0 || rotation > 0 || zoom > 0 ||
           shear > 0;
  }

  // Throws unless every range is within the bounds above.
  void check() const {
    check_range("width_shift", width_shift, 1.0, false);
    check_range("height_shift", height_shift, 1.0, false);
    check_range("rotation", rotation, 180.0, true);
    check_range("zoom", zoom, 1.0, false);
    check_range("shear", shear, 90.0, false);
  }

  Config config() const {
    return Config()
        .set("horizontal_flip", horizontal_flip)
        .set("width_shift", width_shift)
        .set("height_shift", height_shift)
        .set("rotation", rotation)
        .set("zoom", zoom)
        .set("shear", shear);
  }

  static AugmentationSettings from_config(const Config& config) {
    AugmentationSettings s;
    s.horizontal_flip = config.get_bool("horizontal_flip");
    s.width_shift = config.get_double("width_shift");
    s.height_shift = config.get_double("height_shift");
    s.rotation = config.get_double("rotation");
    s.zoom = config.get_double("zoom");
    s.shear = config.get_double("shear");
    return s;
  }

 private:
  static void check_range(const char* name, double value, double high, bool high_included) {
    const bool below_high = high_included ? value <= high : value < high;
    if (!(value >= 0.0 && below_high))
      fail("AugmentationSettings: expected ", name, " in [0, ", high, high_included ? "]" : ")",
           ", got ", value);
  }
};

// The named settings of the labs:
//   off                      no augmentation
//   flip_shift               horizontal flip, 10 % width and height shifts (CIFAR-10 Keras lab
//                            models 9 and 10, PraisyNet augmented, the tutorial's improved model)
//   flip_shift_rotate_zoom   flip_shift + rotation 10 degrees + zoom 0.2 (Keras lab model 8)
inline std::vector<std::string> augmentation_preset_names() {
  return {"off", "flip_shift", "flip_shift_rotate_zoom"};
}

inline AugmentationSettings augmentation_preset(const std::string& name) {
  AugmentationSettings s;
  if (name == "off") return s;
  if (name == "flip_shift" || name == "flip_shift_rotate_zoom") {
    s.horizontal_flip = true;
    s.width_shift = s.height_shift = 0.1;
    if (name == "flip_shift_rotate_zoom") {
      s.rotation = 10.0;
      s.zoom = 0.2;
    }
    return s;
  }
  std::string names;
  for (const std::string& known : augmentation_preset_names())
    names += (names.empty() ? "" : ", ") + known;
  fail("augmentation_preset: unknown preset '", name, "'; expected one of: ", names);
}

// One sample's transform (see the top of this file). Angles in radians, shifts in pixels.
struct SampleTransform {
  bool flip = false;
  double angle = 0.0;
  double shear = 0.0;
  double zoom_x = 1.0, zoom_y = 1.0;
  double shift_x = 0.0, shift_y = 0.0;
};

// Draws a transform for an (H, W) image. Every range is drawn, zero or not, in a fixed order
// (flip, angle, shear, zoom_x, zoom_y, shift_x, shift_y), so turning one setting on does not
// change what the others draw.
inline SampleTransform draw_transform(const AugmentationSettings& s, Index height, Index width,
                                      Random& random) {
  constexpr double kRadiansPerDegree = 3.14159265358979323846 / 180.0;
  SampleTransform t;
  t.flip = random.uniform() < 0.5 && s.horizontal_flip;
  t.angle = random.uniform(-s.rotation, s.rotation) * kRadiansPerDegree;
  t.shear = random.uniform(-s.shear, s.shear) * kRadiansPerDegree;
  t.zoom_x = random.uniform(1.0 - s.zoom, 1.0 + s.zoom);
  t.zoom_y = random.uniform(1.0 - s.zoom, 1.0 + s.zoom);
  t.shift_x = random.uniform(-s.width_shift, s.width_shift) * static_cast<double>(width);
  t.shift_y = random.uniform(-s.height_shift, s.height_shift) * static_cast<double>(height);
  return t;
}

// sources (H * W): for each output pixel r * W + c, the input pixel it copies.
inline void source_pixels(const SampleTransform& t, Index height, Index width, Index* sources) {
  // (x, y) = A (u, v) with A = Rotate * Shear * Zoom, multiplied out once.
  const double cos_a = std::cos(t.angle), sin_a = std::sin(t.angle);
  const double sin_s = std::sin(t.shear), cos_s = std::cos(t.shear);
  const double a00 = cos_a * t.zoom_x, a01 = (-cos_a * sin_s - sin_a * cos_s) * t.zoom_y;
  const double a10 = sin_a * t.zoom_x, a11 = (-sin_a * sin_s + cos_a * cos_s) * t.zoom_y;
  const double cx = static_cast<double>(width - 1) / 2, cy = static_cast<double>(height - 1) / 2;
  for (Index r = 0; r < height; ++r) {
    const double v = static_cast<double>(r) - cy - t.shift_y;
    for (Index c = 0; c < width; ++c) {
      const Index column = t.flip ? width - 1 - c : c;
      const double u = static_cast<double>(column) - cx - t.shift_x;
      const Index x = std::clamp<Index>(std::lround(cx + a00 * u + a01 * v), 0, width - 1);
      const Index y = std::clamp<Index>(std::lround(cy + a10 * u + a11 * v), 0, height - 1);
      sources[r * width + c] = y * width + x;
    }
  }
}

// out[ch, p] = in[ch, sources[p]] for one (C, H, W) sample; `pixels` = H * W.
template <typename Element>
void remap(const Element* in, Element* out, Index channels, Index pixels, const Index* sources) {
  for (Index ch = 0; ch < channels; ++ch, in += pixels, out += pixels)
    for (Index p = 0; p < pixels; ++p)
      out[p] = in[sources[p]];
}

// A seed for sample `index` of `epoch`: splitmix64's finaliser applied to the three words in
// turn, so that neighbouring epochs and indices give unrelated streams.
inline std::uint64_t sample_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index) {
  const auto mix = [](std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
  std::uint64_t h = mix(seed + kGolden);
  h = mix(h ^ (epoch + 2 * kGolden));
  return mix(h ^ (index + 3 * kGolden));
}

namespace detail {

// Transforms the N samples of `in` (N, C, H, W) into `out`, sample n with the transform drawn
// from Random(seed_of(n)); sources (N * H * W) receives every sample's table. Samples are
// independent: one per iteration of a static OpenMP loop.
template <typename T, typename SeedOf>
void augment_samples(const AugmentationSettings& settings, const Shape& shape, const T* in, T* out,
                     Index* sources, SeedOf seed_of) {
  const Index samples = shape[0], channels = shape[1], height = shape[2], width = shape[3];
  const Index pixels = height * width, sample = channels * pixels;
#pragma omp parallel for schedule(static) if (samples > 1)
  for (Index n = 0; n < samples; ++n) {
    Random random(seed_of(n));
    Index* table = sources + n * pixels;
    source_pixels(draw_transform(settings, height, width, random), height, width, table);
    remap(in + n * sample, out + n * sample, channels, pixels, table);
  }
}

inline void check_image_batch(const char* who, const Shape& shape) {
  if (shape.rank() != 4 || shape[2] < 1 || shape[3] < 1)
    fail(who, ": expected a batch of images (N, C, H, W), got ", shape);
}

}  // namespace detail

// Augments batches of images in place, for a training loop of your own:
//
//   Augmenter<float> augment(augmentation_preset("flip_shift"), seed);
//   ... gather the batch of sample ids ids[0..N) of the epoch into x (N, C, H, W) ...
//   augment.apply(x, epoch, ids);
//
// Sample i gets the transform drawn from Random(sample_seed(seed, epoch, ids[i])): a pure
// function of (seed, epoch, sample id). The batch is copied into one scratch tensor, reused
// across calls, and transformed from there back into the batch.
template <typename T>
class Augmenter {
 public:
  Augmenter(AugmentationSettings settings, std::uint64_t seed) : settings_(settings), seed_(seed) {
    settings_.check();
  }

  const AugmentationSettings& settings() const { return settings_; }

  // batch (N, C, H, W); ids (N): the samples' ids, e.g. their indices in the data set.
  void apply(Tensor<T>& batch, Index epoch, const Index* ids) {
    detail::check_image_batch("Augmenter::apply", batch.shape());
    if (!settings_.active()) return;
    scratch_.resize(batch.shape());
    std::memcpy(scratch_.data(), batch.data(), static_cast<std::size_t>(batch.size()) * sizeof(T));
    const Index pixels = batch.dim(2) * batch.dim(3);
    sources_.resize(static_cast<std::size_t>(batch.dim(0) * pixels));
    const auto seed_of = [&](Index n) {
      return sample_seed(seed_, static_cast<std::uint64_t>(epoch),
                         static_cast<std::uint64_t>(ids[n]));
    };
    detail::augment_samples(settings_, batch.shape(), scratch_.data(), batch.data(),
                            sources_.data(), seed_of);
  }

 private:
  AugmentationSettings settings_;
  std::uint64_t seed_;
  Tensor<T> scratch_;           // (N, C, H, W): the batch before the transform
  std::vector<Index> sources_;  // (N, H, W): the samples' source tables
};

// The augmentation as the first layer of a model (kind "RandomAugmentation", no parameters).
// Training mode draws one number b from the layer's own stream per batch (seeded at build, saved
// and restored by checkpoints through random_stream(), like Dropout's), and sample n of the batch
// gets the transform of sample_seed(b, 0, n). Inference mode is the identity.
//
// Models holding this layer load from checkpoint files once register_random_augmentation<T>()
// has added it to the layer registry.
template <typename T>
class RandomAugmentation : public Layer<T> {
 public:
  explicit RandomAugmentation(AugmentationSettings settings) : settings_(settings) {
    settings_.check();
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<RandomAugmentation>(AugmentationSettings::from_config(config));
  }
  std::string kind() const override { return "RandomAugmentation"; }
  Config config() const override { return settings_.config(); }
  std::unique_ptr<Layer<T>> clone() const override {
    return std::make_unique<RandomAugmentation>(*this);
  }
  Random* random_stream() override { return &random_; }
  const AugmentationSettings& settings() const { return settings_; }

  // training:   y[n, ch, p] = x[n, ch, source_n[p]]   (source_n: sample n's table, kept)
  // inference:  y = x
  // x, y: (N, C, H, W).
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode mode) override {
    this->check_input(x);
    y.resize(x.shape());
    if (mode == Mode::inference) {
      std::copy(x.begin(), x.end(), y.begin());
      return;
    }
    const std::uint64_t batch_seed = random_.next_u64();
    sources_.resize(static_cast<std::size_t>(x.dim(0) * x.dim(2) * x.dim(3)));
    detail::augment_samples(settings_, x.shape(), x.data(), y.data(), sources_.data(),
                            [batch_seed](Index n) {
                              return sample_seed(batch_seed, 0, static_cast<std::uint64_t>(n));
                            });
    mapped_batch_ = x.dim(0);
  }

  // training:   dx[n, ch, q] = sum of dy[n, ch, p] over the p with source_n[p] = q, the
  //             transpose of the last training-mode forward()'s copy (a pixel copied to several
  //             places receives all their gradients, one never copied none).
  // inference:  dx = dy (the identity's gradient).
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode mode) override {
    this->check_input(x);
    this->check_gradient(x, dy);
    dx.resize(x.shape());
    if (mode == Mode::inference) {
      std::copy(dy.begin(), dy.end(), dx.begin());
      return;
    }
    if (mapped_batch_ < 0)
      fail(this->label(), ": backward() called before a training-mode forward()");
    if (x.dim(0) != mapped_batch_)
      fail(this->label(), ": expected the batch of the last training-mode forward(), of ",
           mapped_batch_, " samples, got ", x.dim(0));
    dx.fill(T(0));
    const Index samples = x.dim(0), channels = x.dim(1), pixels = x.dim(2) * x.dim(3);
#pragma omp parallel for schedule(static) if (samples > 1)
    for (Index n = 0; n < samples; ++n) {
      const Index* table = sources_.data() + n * pixels;
      for (Index ch = 0; ch < channels; ++ch) {
        const T* from = dy.data() + (n * channels + ch) * pixels;
        T* to = dx.data() + (n * channels + ch) * pixels;
        for (Index p = 0; p < pixels; ++p)
          to[table[p]] += from[p];
      }
    }
  }

 private:
  LayerPlan plan_layer(const Shape& input_shape) const override {
    if (input_shape.rank() != 3)
      fail(this->label(), ": expected images (C, H, W), got ", input_shape);
    return {input_shape, {}};
  }
  void build_layer(const Shape&, Random& random) override {
    random_ = random.fork();
    mapped_batch_ = -1;
  }

  AugmentationSettings settings_;
  Random random_;
  std::vector<Index> sources_;  // (N, H, W): the tables of the last training batch
  Index mapped_batch_ = -1;     // N of the last training-mode forward(); -1 before any
};

// Makes checkpoint files of models that hold a RandomAugmentation loadable.
template <typename T>
void register_random_augmentation() {
  layer_factories<T>()["RandomAugmentation"] = RandomAugmentation<T>::from_config;
}

// What augmentation does, for a picture: for each of the first `rows` images of `data`, the
// original followed by its `variants` augmented copies (variant j of image i drawn from
// sample_seed(seed, j, i)). Returns (rows * (variants + 1), C, H, W) bytes in that order, so
// that a grid of variants + 1 columns (visual/image_grid.hpp) shows one image per row.
inline Tensor<std::uint8_t> augmentation_samples(const Dataset& data, Index rows, Index variants,
                                                 const AugmentationSettings& settings,
                                                 std::uint64_t seed) {
  detail::check_image_batch("augmentation_samples", data.images.shape());
  settings.check();
  if (rows < 1 || rows > data.size() || variants < 0)
    fail("augmentation_samples: expected 1 <= rows <= ", data.size(),
         " and variants >= 0, got rows ", rows, " and variants ", variants);
  const Index channels = data.images.dim(1), height = data.images.dim(2),
              width = data.images.dim(3), pixels = height * width, sample = channels * pixels;
  const Index columns = variants + 1;
  Tensor<std::uint8_t> samples({rows * columns, channels, height, width});
  std::vector<Index> sources(static_cast<std::size_t>(pixels));
  for (Index i = 0; i < rows; ++i) {
    const std::uint8_t* image = data.images.data() + i * sample;
    std::uint8_t* out = samples.data() + i * columns * sample;
    std::copy(image, image + sample, out);
    for (Index j = 1; j < columns; ++j) {
      Random random(
          sample_seed(seed, static_cast<std::uint64_t>(j), static_cast<std::uint64_t>(i)));
      source_pixels(draw_transform(settings, height, width, random), height, width, sources.data());
      remap(image, out + j * sample, channels, pixels, sources.data());
    }
  }
  return samples;
}

}  // namespace minicnn
