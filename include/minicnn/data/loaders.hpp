// Loaders of the standard data sets from the directory scripts/fetch_data.sh fills:
//
//   $MINICNN_DATA (default ./data)
//     mnist/           train-images-idx3-ubyte  train-labels-idx1-ubyte
//                      t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte
//     fashion-mnist/   the same four names, usually with .gz
//     cifar-10-batches-bin/   data_batch_1.bin ... data_batch_5.bin  test_batch.bin
//     cifar-100-binary/       train.bin  test.bin
//
// `dir` may be that data directory or the data set's own sub-directory: load_mnist("data") and
// load_mnist("data/mnist") are the same. Any file may also be gzip-compressed with ".gz" appended.
// A missing directory or file is reported with the command that fetches it.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "minicnn/data/cifar.hpp"
#include "minicnn/data/class_names.hpp"
#include "minicnn/data/dataset.hpp"
#include "minicnn/data/idx.hpp"
#include "minicnn/error.hpp"

namespace minicnn {

enum class Split { train, test };

// $MINICNN_DATA when set and not empty, else "data" (relative to the working directory), the
// default of scripts/fetch_data.sh.
inline std::string data_dir() {
  const char* value = std::getenv("MINICNN_DATA");
  return value != nullptr && *value != '\0' ? value : "data";
}

namespace detail {

// `dir/name` or `dir/name.gz`, whichever exists (raw first); empty when neither does.
inline std::string existing_file(const std::filesystem::path& dir, const std::string& name) {
  std::error_code error;
  for (const auto& candidate : {dir / name, dir / (name + ".gz")})
    if (std::filesystem::is_regular_file(candidate, error)) return candidate.string();
  return {};
}

// The paths of `names` in `dir/sub` (when it holds the first of them) or else in `dir`.
inline std::vector<std::string> find_dataset_files(const char* function, const std::string& dir,
                                                   const std::string& sub,
                                                   const std::vector<std::string>& names,
                                                   const char* fetch_name) {
  const std::string hint = std::string("; run scripts/fetch_data.sh ") + fetch_name +
                           " (it downloads into $MINICNN_DATA, default ./data)";
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error))
    fail(function, ": expected a data directory, got '", dir, "', which does not exist", hint);
  const std::filesystem::path inner = std::filesystem::path(dir) / sub;
  const bool use_inner = !existing_file(inner, names.front()).empty();
  const std::filesystem::path base = use_inner ? inner : std::filesystem::path(dir);
  std::vector<std::string> paths;
  for (const auto& name : names) {
    paths.push_back(existing_file(base, name));
    if (paths.back().empty()) {
      const std::string where =
          use_inner ? "'" + inner.string() + "'" : "'" + dir + "' or '" + inner.string() + "'";
      fail(function, ": expected '", name, "' (or '", name, ".gz') in ", where, ", found neither",
           hint);
    }
  }
  return paths;
}

inline Dataset load_idx_dataset(const char* function, const std::string& dir, const char* sub,
                                Split split, const char* fetch_name) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const auto paths = find_dataset_files(
      function, dir, sub, {prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte"},
      fetch_name);
  return read_idx(paths[0], paths[1], 10);
}

}  // namespace detail

// MNIST: 28x28 grey digits, 60000 training and 10000 test images, (N, 1, 28, 28).
inline Dataset load_mnist(const std::string& dir, Split split) {
  Dataset data = detail::load_idx_dataset("load_mnist", dir, "mnist", split, "mnist");
  data.class_names = mnist_class_names();
  return data;
}

// Fashion-MNIST: 28x28 grey clothing images in MNIST's format and sizes, (N, 1, 28, 28).
inline Dataset load_fashion_mnist(const std::string& dir, Split split) {
  Dataset data =
      detail::load_idx_dataset("load_fashion_mnist", dir, "fashion-mnist", split, "fashion-mnist");
  data.class_names = fashion_mnist_class_names();
  return data;
}

// CIFAR-10: 32x32 colour images of 10 classes, 50000 training (the five data batches in order)
// and 10000 test, (N, 3, 32, 32).
inline Dataset load_cifar10(const std::string& dir, Split split) {
  std::vector<std::string> names;
  if (split == Split::train)
    for (int batch = 1; batch <= 5; ++batch)
      names.push_back("data_batch_" + std::to_string(batch) + ".bin");
  else
    names.push_back("test_batch.bin");
  Dataset data = read_cifar10(
      detail::find_dataset_files("load_cifar10", dir, "cifar-10-batches-bin", names, "cifar10"));
  data.class_names = cifar10_class_names();
  return data;
}

// CIFAR-100: 32x32 colour images, 50000 training and 10000 test, (N, 3, 32, 32), labelled with
// the 20 superclasses (coarse) or the 100 classes (fine).
inline Dataset load_cifar100(const std::string& dir, Split split, CifarLabels labels) {
  const std::string name = split == Split::train ? "train.bin" : "test.bin";
  Dataset data = read_cifar100(
      detail::find_dataset_files("load_cifar100", dir, "cifar-100-binary", {name}, "cifar100"),
      labels);
  data.class_names =
      labels == CifarLabels::coarse ? cifar100_coarse_class_names() : cifar100_fine_class_names();
  return data;
}

}  // namespace minicnn
