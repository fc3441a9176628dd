// Data augmentation: random geometric transforms of training images, Keras's
// ImageDataGenerator(horizontal_flip, width_shift_range, height_shift_range, rotation_range,
// zoom_range, shear_range, fill_mode='nearest'). The transforms, their maths and the settings are
// in image_transform.hpp; this header applies them:
//
//   Augmenter<T>            transforms a batch tensor in place (a training loop of your own).
//   RandomAugmentation<T>   a layer put first in a model: it transforms in training mode and is
//                           the identity in inference, so Sequential::fit() augments every
//                           training batch and evaluate()/predict() see the images unchanged
//                           (layers/random_augmentation.hpp, included here).
//   augmentation_samples()  originals and augmented variants, for a picture.
//
// Reproducibility: a sample's transform is drawn from its own Random, seeded by
// sample_seed(seed, epoch, index), so the result depends neither on the number of threads nor on
// which batch a sample lands in.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "minicnn/data/dataset.hpp"
#include "minicnn/data/image_transform.hpp"
#include "minicnn/error.hpp"
#include "minicnn/layers/random_augmentation.hpp"
#include "minicnn/random.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

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
