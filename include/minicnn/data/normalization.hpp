// Normalization<T>: how 8-bit pixels become a model's inputs.
//
//   scale         x = p / 255                          in [0, 1]
//   standardize   x = (p / 255 - mean[c]) / std[c]     zero mean, unit variance per channel
//
// p is a pixel byte of channel c; mean and std are on the [0, 1] scale, computed on the training
// set by channel_stats() and reused unchanged for validation and test data. A pixel has only 256
// values, so each channel's map is a 256-entry table computed once: converting a batch is one
// lookup per pixel, and the result is exactly (p / 255 - mean) / std rounded once to T.
//
// A pretrained backbone expects the inputs it was trained on (preprocess_input, Keras's modes;
// p is an RGB byte, output channel c reads input channel source[c]):
//
//   "torch"   x = (p / 255 - mean[c]) / std[c]   torchvision's ImageNet statistics:
//                                                mean (0.485, 0.456, 0.406), std (0.229, 0.224,
//                                                0.225); what PyTorch-exported models expect
//   "caffe"   x = p[source[c]] - mean[c]         RGB to BGR (source = 2, 1, 0), then the ImageNet
//                                                means of B, G, R (103.939, 116.779, 123.68)
//                                                subtracted, no scaling (Keras's ResNet50, VGG)
//   "tf"      x = p / 127.5 - 1                  in [-1, 1] (Keras's Xception, MobileNet)
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "minicnn/data/dataset.hpp"
#include "minicnn/error.hpp"

namespace minicnn {

// Per-channel mean and population standard deviation of the pixels, on the [0, 1] scale.
struct ChannelStats {
  std::vector<double> mean;
  std::vector<double> stddev;
};

// Statistics of every pixel of `data`, per channel. The pixels are counted into a 256-bin
// histogram per channel first, so the sums are exact integers, independent of the order of the
// samples; mean and variance are then taken over the 256 bins (two passes, no cancellation).
inline ChannelStats channel_stats(const Dataset& data) {
  if (data.images.rank() != 4 || data.size() == 0)
    fail("channel_stats: expected a non-empty dataset of (N, C, H, W) images, got images of shape ",
         data.images.shape());
  const Index samples = data.size(), channels = data.images.dim(1);
  const Index pixels = data.images.dim(2) * data.images.dim(3);
  std::vector<std::array<std::uint64_t, 256>> histogram(static_cast<std::size_t>(channels));
  for (auto& bins : histogram)
    bins.fill(0);
  const std::uint8_t* p = data.images.data();
  for (Index n = 0; n < samples; ++n)
    for (Index c = 0; c < channels; ++c)
      for (Index i = 0; i < pixels; ++i)
        ++histogram[static_cast<std::size_t>(c)][*p++];

  const double count = static_cast<double>(samples) * static_cast<double>(pixels);
  ChannelStats stats;
  for (const auto& bins : histogram) {
    std::uint64_t sum = 0;
    for (std::uint64_t v = 0; v < 256; ++v)
      sum += v * bins[v];
    const double mean = static_cast<double>(sum) / 255.0 / count;
    double squares = 0;
    for (int v = 0; v < 256; ++v) {
      const double deviation = v / 255.0 - mean;
      squares += static_cast<double>(bins[static_cast<std::size_t>(v)]) * deviation * deviation;
    }
    stats.mean.push_back(mean);
    stats.stddev.push_back(std::sqrt(squares / count));
  }
  return stats;
}

template <typename T>
class Normalization {
  static_assert(std::is_floating_point_v<T>, "Normalization<T> produces real inputs");

 public:
  // x = p / 255, for images with any number of channels.
  static Normalization scale() {
    Normalization n;
    n.table_.resize(256);
    for (int p = 0; p < 256; ++p)
      n.table_[static_cast<std::size_t>(p)] = static_cast<T>(p / 255.0);
    return n;
  }

  // x = (p / 255 - mean[c]) / std[c], for images with as many channels as `stats`.
  static Normalization standardize(const ChannelStats& stats) {
    if (stats.mean.empty() || stats.mean.size() != stats.stddev.size())
      fail(
          "Normalization::standardize: expected as many means as standard deviations (at least "
          "one), got ",
          stats.mean.size(), " and ", stats.stddev.size());
    Normalization n;
    n.channels_ = static_cast<Index>(stats.mean.size());
    n.table_.resize(256 * stats.mean.size());
    for (std::size_t c = 0; c < stats.mean.size(); ++c) {
      if (!(stats.stddev[c] > 0))
        fail("Normalization::standardize: expected a positive standard deviation, got ",
             stats.stddev[c], " for channel ", c);
      for (int p = 0; p < 256; ++p)
        n.table_[256 * c + static_cast<std::size_t>(p)] =
            static_cast<T>((p / 255.0 - stats.mean[c]) / stats.stddev[c]);
    }
    return n;
  }

  // Keras's preprocess_input(x, mode) for RGB images: "torch", "caffe" or "tf" (see the top).
  static Normalization preprocess_input(const std::string& mode) {
    if (mode == "torch") return standardize({{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}});
    Normalization n;
    if (mode == "tf") {
      n.table_.resize(256);
      for (int p = 0; p < 256; ++p)
        n.table_[static_cast<std::size_t>(p)] = static_cast<T>(p / 127.5 - 1.0);
      return n;
    }
    if (mode != "caffe")
      fail("Normalization::preprocess_input: expected the mode 'torch', 'caffe' or 'tf', got '",
           mode, "'");
    const double bgr_mean[3] = {103.939, 116.779, 123.68};
    n.channels_ = 3;
    n.source_ = {2, 1, 0};
    n.table_.resize(3 * 256);
    for (std::size_t c = 0; c < 3; ++c)
      for (int p = 0; p < 256; ++p)
        n.table_[256 * c + static_cast<std::size_t>(p)] = static_cast<T>(p - bgr_mean[c]);
    return n;
  }

  // Channels this normalization was made for; 0 when it applies to any number (scale).
  Index channels() const { return channels_; }

  // Refuses images whose channel count the statistics do not cover.
  void check_channels(Index channels) const {
    if (channels_ != 0 && channels != channels_)
      fail("Normalization: statistics are for ", channels_, " channels, the images have ",
           channels);
  }

  // One sample: `in` is (C, H, W) bytes, `out` (C, H, W) values; `pixels` = H * W.
  void apply(const std::uint8_t* in, T* out, Index channels, Index pixels) const {
    for (Index c = 0; c < channels; ++c) {
      const T* lookup = table_.data() + (channels_ == 0 ? 0 : 256 * c);
      const Index source = source_.empty() ? c : source_[static_cast<std::size_t>(c)];
      const std::uint8_t* plane = in + source * pixels;
      for (Index i = 0; i < pixels; ++i)
        *out++ = lookup[plane[i]];
    }
  }

 private:
  Normalization() = default;

  Index channels_ = 0;         // 0: one table for every channel
  std::vector<T> table_;       // (channels or 1, 256): the value of each byte in each channel
  std::vector<Index> source_;  // per output channel, the input channel it reads; empty: the same
};

}  // namespace minicnn
