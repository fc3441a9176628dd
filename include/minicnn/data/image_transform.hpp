// The random image transforms of data augmentation (augmentation.hpp), Keras's
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
// This header holds the transforms themselves: the settings and presets, the per-sample draw,
// the source-pixel table and the remap that applies it. Augmenter (augmentation.hpp) and the
// RandomAugmentation layer (layers/random_augmentation.hpp) apply them to batches.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "minicnn/config.hpp"
#include "minicnn/error.hpp"
#include "minicnn/random.hpp"
#include "minicnn/shape.hpp"

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
//                            models 9 and 10)
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

}  // namespace minicnn
