// The binary versions of CIFAR-10 and CIFAR-100 (https://www.cs.toronto.edu/~kriz/cifar.html):
// fixed-size records with no header, raw or gzip-compressed (read transparently).
//
//   CIFAR-10   data_batch_1..5.bin, test_batch.bin: per record 1 label byte (0..9) + 3072 pixels
//   CIFAR-100  train.bin, test.bin: per record 1 coarse label byte (0..19), 1 fine label byte
//              (0..99) + 3072 pixels
//
// The 3072 pixels are the R, G and B planes of a 32x32 image, each row-major: exactly one
// (3, 32, 32) sample of minicnn's NCHW layout, so a record's pixels are copied as they are.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "minicnn/data/dataset.hpp"
#include "minicnn/data/input_file.hpp"
#include "minicnn/error.hpp"

namespace minicnn {

// Which of CIFAR-100's two labels a Dataset gets: the 20 superclasses or the 100 classes.
enum class CifarLabels { coarse, fine };

namespace detail {

constexpr Index kCifarPixels = 3 * 32 * 32;

// Reads records of `label_bytes` label bytes + 3072 pixels from every file in order; label byte
// b must be below classes[b]; the Dataset's label is byte `kept`.
inline Dataset read_cifar_records(const std::vector<std::string>& paths, const char* kind,
                                  const std::vector<Index>& classes,
                                  const std::vector<const char*>& label_names, std::size_t kept) {
  const auto label_bytes = static_cast<Index>(classes.size());
  const Index record = label_bytes + kCifarPixels;
  if (paths.empty()) fail(kind, ": expected at least one file, got none");

  // Every file is sized and checked before the images are allocated.
  std::vector<std::unique_ptr<InputFile>> files;
  std::vector<Index> counts;
  Index total = 0;
  for (const auto& path : paths) {
    files.push_back(std::make_unique<InputFile>(path, kind));
    const std::uint64_t size = files.back()->content_size();
    if (size == 0 || size % static_cast<std::uint64_t>(record) != 0)
      fail(files.back()->describe(), ": expected a positive multiple of ", record, " bytes (",
           label_bytes == 1 ? "1 label byte" : "2 label bytes",
           " + 3072 pixel bytes per record), got ", size, " bytes");
    counts.push_back(static_cast<Index>(size / static_cast<std::uint64_t>(record)));
    total += counts.back();
  }

  Dataset data;
  data.images.resize({total, 3, 32, 32});
  data.labels.resize({total});
  data.classes = classes[kept];
  Index sample = 0;
  std::array<unsigned char, 2> labels{};
  for (std::size_t f = 0; f < files.size(); ++f) {
    InputFile& file = *files[f];
    for (Index r = 0; r < counts[f]; ++r, ++sample) {
      file.read_exactly(labels.data(), static_cast<std::uint64_t>(label_bytes));
      for (std::size_t b = 0; b < classes.size(); ++b)
        if (labels[b] >= classes[b])
          fail(file.describe(), ": expected ", label_names[b], " labels in [0, ", classes[b],
               "), got ", int{labels[b]}, " in record ", r);
      data.labels[sample] = labels[kept];
      file.read_exactly(data.images.data() + sample * kCifarPixels,
                        static_cast<std::uint64_t>(kCifarPixels));
    }
  }
  return data;
}

}  // namespace detail

// CIFAR-10 binary files, concatenated in the order given: 10 classes.
inline Dataset read_cifar10(const std::vector<std::string>& paths) {
  return detail::read_cifar_records(paths, "CIFAR-10 file", {10}, {"class"}, 0);
}

// CIFAR-100 binary files, concatenated in the order given: 20 coarse or 100 fine classes. Both
// label bytes are checked whichever is kept.
inline Dataset read_cifar100(const std::vector<std::string>& paths, CifarLabels labels) {
  return detail::read_cifar_records(paths, "CIFAR-100 file", {20, 100}, {"coarse", "fine"},
                                    labels == CifarLabels::coarse ? 0 : 1);
}

}  // namespace minicnn
