// Specification of what happens between the files and the model: Dataset selection (subset,
// take, the seeded validation split), pixel normalisation, the batch iterator, and the loaders
// that find the standard data sets in a directory.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "minicnn/data/batches.hpp"
#include "minicnn/data/loaders.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;
using testing::Bytes;
using testing::read_raw;
using testing::TempDir;
using testing::write_gz;
using testing::write_raw;

namespace {

void write_file(const std::string& path, const Bytes& bytes, bool gz) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  if (gz) {
    gzFile file = gzopen((path + ".gz").c_str(), "wb");
    REQUIRE(file != nullptr);
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()));
    REQUIRE(gzclose(file) == Z_OK);
  } else {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
  }
}

void put_u32(Bytes& bytes, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<unsigned char>(value >> shift));
}

// An MNIST-format pair of files `prefix`-images/labels with `count` 28x28 images; label = i % 10.
void write_idx_split(const std::string& dir, const std::string& prefix, std::uint32_t count,
                     bool gz) {
  Bytes images, labels;
  put_u32(images, 0x00000803);
  put_u32(images, count);
  put_u32(images, 28);
  put_u32(images, 28);
  images.resize(images.size() + count * 28 * 28, 17);
  put_u32(labels, 0x00000801);
  put_u32(labels, count);
  for (std::uint32_t i = 0; i < count; ++i)
    labels.push_back(static_cast<unsigned char>(i % 10));
  write_file(dir + "/" + prefix + "-images-idx3-ubyte", images, gz);
  write_file(dir + "/" + prefix + "-labels-idx1-ubyte", labels, gz);
}

// `count` CIFAR records with `label_bytes` label bytes, all labels equal to `label`.
Bytes cifar_file(Index count, int label_bytes, int label) {
  Bytes bytes;
  for (Index i = 0; i < count; ++i) {
    bytes.insert(bytes.end(), static_cast<std::size_t>(label_bytes),
                 static_cast<unsigned char>(label));
    bytes.insert(bytes.end(), 3072, 200);
  }
  return bytes;
}

// n samples of shape (channels, 2, 3); every pixel of sample i is (i * 10 + channel) % 256 and
// its label is i, so a batch tells which samples it holds.
Dataset numbered(Index n, Index channels = 1) {
  Dataset data;
  data.images.resize({n, channels, 2, 3});
  data.labels.resize({n});
  data.classes = n;
  for (Index i = 0; i < n; ++i) {
    data.labels[i] = static_cast<std::int32_t>(i);
    for (Index c = 0; c < channels; ++c)
      for (Index p = 0; p < 6; ++p)
        data.images(i, c, p / 3, p % 3) = static_cast<std::uint8_t>((i * 10 + c) % 256);
  }
  return data;
}

std::vector<std::int32_t> labels_of(const Dataset& data) {
  return {data.labels.begin(), data.labels.end()};
}

// The labels of every batch of one epoch, in order.
std::vector<std::vector<double>> epoch_batches(BatchIterator<double>& batches, Index epoch) {
  batches.start_epoch(epoch);
  std::vector<std::vector<double>> seen;
  Tensor<double> x, y;
  while (batches.next(x, y))
    seen.emplace_back(y.begin(), y.end());
  return seen;
}

}  // namespace

TEST_CASE("take() and subset() pick samples, images and labels together") {
  const Dataset data = numbered(6);
  const Dataset first = take(data, 3);
  CHECK(labels_of(first) == std::vector<std::int32_t>{0, 1, 2});
  CHECK(first.images.shape() == Shape{3, 1, 2, 3});
  CHECK(first.classes == 6);
  const Dataset picked = subset(data, {5, 1, 5});
  CHECK(labels_of(picked) == std::vector<std::int32_t>{5, 1, 5});
  CHECK(picked.images(0, 0, 1, 2) == 50);
  CHECK(picked.images(1, 0, 0, 0) == 10);
  CHECK_THROWS_WITH_AS(take(data, 7), "take: expected a count in [0, 6], got 7", Error);
  CHECK_THROWS_WITH_AS(subset(data, {0, 6}), "subset: index 6 at position 1 is out of range [0, 6)",
                       Error);
}

TEST_CASE("split_validation draws a seeded, disjoint split that covers every sample") {
  const Dataset data = numbered(100);
  const TrainValidation parts = split_validation(data, 20, 7);
  CHECK(parts.train.size() == 80);
  CHECK(parts.validation.size() == 20);
  std::vector<std::int32_t> all = labels_of(parts.train);
  const std::vector<std::int32_t> validation = labels_of(parts.validation);
  CHECK(std::is_sorted(all.begin(), all.end()));  // each part keeps the stored order
  CHECK(std::is_sorted(validation.begin(), validation.end()));
  all.insert(all.end(), validation.begin(), validation.end());
  std::sort(all.begin(), all.end());
  for (std::int32_t i = 0; i < 100; ++i)
    CHECK(all[static_cast<std::size_t>(i)] == i);  // disjoint and complete
  CHECK(labels_of(split_validation(data, 20, 7).validation) == validation);
  CHECK(labels_of(split_validation(data, 20, 8).validation) != validation);

  CHECK(split_validation_fraction(data, 0.25, 7).validation.size() == 25);
  CHECK(split_validation_fraction(data, 0.0, 7).train.size() == 100);
  CHECK_THROWS_WITH_AS(split_validation(data, 101, 7),
                       "split_validation: expected a validation count in [0, 100], got 101", Error);
  CHECK_THROWS_WITH_AS(split_validation_fraction(data, 1.5, 7),
                       "split_validation_fraction: expected a fraction in [0, 1], got 1.5", Error);
}

TEST_CASE("Normalization::scale maps a byte p to p / 255") {
  const auto scale = Normalization<float>::scale();
  const std::uint8_t pixels[] = {0, 51, 128, 255};
  float out[4];
  scale.apply(pixels, out, 2, 2);  // any number of channels
  CHECK(out[0] == 0.0f);
  CHECK(out[1] == 0.2f);
  CHECK(out[2] == static_cast<float>(128 / 255.0));
  CHECK(out[3] == 1.0f);
}

TEST_CASE("channel_stats and standardize give zero mean and unit variance per channel") {
  // Channel 0 holds 0 and 255 in equal numbers: mean 0.5, std 0.5.
  // Channel 1 holds 51 and 102 in equal numbers: mean 0.3, std 0.1.
  Dataset data;
  data.images = Tensor<std::uint8_t>::of({2, 2, 1, 2}, {0, 255, 51, 102, 255, 0, 102, 51});
  data.labels = Tensor<std::int32_t>::of({2}, {0, 1});
  data.classes = 2;
  const ChannelStats stats = channel_stats(data);
  REQUIRE(stats.mean.size() == 2);
  CHECK(stats.mean[0] == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(stats.stddev[0] == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(stats.mean[1] == doctest::Approx(0.3).epsilon(1e-15));
  CHECK(stats.stddev[1] == doctest::Approx(0.1).epsilon(1e-14));

  const auto standardize = Normalization<double>::standardize(stats);
  CHECK(standardize.channels() == 2);
  Tensor<double> x, y;
  to_tensors(data, standardize, x, y);
  CHECK(x.shape() == Shape{2, 2, 1, 2});
  const double expected[] = {-1, 1, -1, 1, 1, -1, 1, -1};
  for (Index i = 0; i < 8; ++i)
    CHECK(x[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  CHECK(y[0] == 0.0);
  CHECK(y[1] == 1.0);

  const Dataset grey = numbered(3);
  CHECK_THROWS_WITH_AS(to_tensors(grey, standardize, x, y),
                       "Normalization: statistics are for 2 channels, the images have 1", Error);
  CHECK_THROWS_WITH_AS(
      Normalization<float>::standardize({{0.5, 0.5}, {0.2, 0.0}}),
      "Normalization::standardize: expected a positive standard deviation, got 0 for channel 1",
      Error);
  CHECK_THROWS_WITH_AS(Normalization<float>::standardize({{0.5}, {}}),
                       "Normalization::standardize: expected as many means as standard deviations "
                       "(at least one), got 1 and 0",
                       Error);
  CHECK_THROWS_WITH_AS(channel_stats(Dataset{}),
                       "channel_stats: expected a non-empty dataset of (N, C, H, W) images, got "
                       "images of shape (0)",
                       Error);
}

TEST_CASE("BatchIterator visits every sample once per epoch, the last batch holding the rest") {
  const Dataset data = numbered(10, 3);
  BatchIterator<double> batches(data, 4, Normalization<double>::scale(), 42);
  CHECK(batches.batches_per_epoch() == 3);
  batches.start_epoch(0);
  Tensor<double> x, y;
  std::vector<Index> sizes;
  std::multiset<double> seen;
  const double* storage = nullptr;
  while (batches.next(x, y)) {
    sizes.push_back(y.size());
    CHECK(x.shape() == Shape{y.size(), 3, 2, 3});
    // Each image is its sample's pixels scaled: sample i, channel c is (10 i + c) / 255.
    for (Index n = 0; n < y.size(); ++n)
      for (Index c = 0; c < 3; ++c)
        CHECK(x(n, c, 1, 2) == (10 * y[n] + static_cast<double>(c)) / 255.0);
    seen.insert(y.begin(), y.end());
    // The tensors are reused: after the first batch, no batch reallocates them.
    if (storage == nullptr) storage = x.data();
    CHECK(x.data() == storage);
  }
  CHECK(sizes == std::vector<Index>{4, 4, 2});
  CHECK(seen == std::multiset<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK_FALSE(batches.next(x, y));  // stays exhausted until the next start_epoch()
}

TEST_CASE("BatchIterator's order is a pure function of (seed, epoch)") {
  const Dataset data = numbered(50);
  BatchIterator<double> run(data, 8, Normalization<double>::scale(), 1234);
  const auto epoch0 = epoch_batches(run, 0);
  const auto epoch1 = epoch_batches(run, 1);
  const auto epoch2 = epoch_batches(run, 2);
  CHECK(epoch0 != epoch1);
  CHECK(epoch1 != epoch2);
  CHECK(epoch_batches(run, 0) == epoch0);  // repeatable

  // A run resumed at epoch 2 without epochs 0 and 1 sees the same batches.
  BatchIterator<double> resumed(data, 8, Normalization<double>::scale(), 1234);
  CHECK(epoch_batches(resumed, 2) == epoch2);

  BatchIterator<double> other_seed(data, 8, Normalization<double>::scale(), 1235);
  CHECK(epoch_batches(other_seed, 0) != epoch0);

  BatchIterator<double> in_order(data, 8, Normalization<double>::scale(), 1234, Order::sequential);
  for (Index epoch : {0, 5}) {
    in_order.start_epoch(epoch);
    for (Index i = 0; i < 50; ++i)
      CHECK(in_order.order()[static_cast<std::size_t>(i)] == i);
  }
}

TEST_CASE("BatchIterator refuses bad arguments") {
  const Dataset data = numbered(4);
  const auto scale = Normalization<float>::scale();
  CHECK_THROWS_WITH_AS(BatchIterator<float>(data, 0, scale, 1),
                       "BatchIterator: expected batch_size > 0, got 0", Error);
  const Dataset empty = take(data, 0);
  CHECK_THROWS_WITH_AS(BatchIterator<float>(empty, 2, scale, 1),
                       "BatchIterator: expected a non-empty dataset, got 0 samples", Error);
  BatchIterator<float> batches(data, 2, scale, 1);
  CHECK_THROWS_WITH_AS(batches.start_epoch(-1), "BatchIterator: expected epoch >= 0, got -1",
                       Error);
  Tensor<float> x, y;
  const Index bad[] = {1, 4};
  CHECK_THROWS_WITH_AS(gather(data, bad, 2, scale, x, y),
                       "gather: index 4 at position 1 is out of range [0, 4)", Error);
}

TEST_CASE("The loaders find MNIST-format files raw or gzipped, in the data directory or beneath") {
  TempDir dir;
  write_idx_split(dir / "mnist", "train", 12, false);
  write_idx_split(dir / "mnist", "t10k", 5, false);
  write_idx_split(dir / "fashion-mnist", "train", 7, true);
  write_idx_split(dir / "fashion-mnist", "t10k", 3, true);

  const Dataset train = load_mnist(dir / "", Split::train);
  CHECK(train.images.shape() == Shape{12, 1, 28, 28});
  CHECK(train.classes == 10);
  CHECK(train.class_names == mnist_class_names());
  CHECK(train.labels[11] == 1);
  CHECK(load_mnist(dir / "mnist", Split::test).size() == 5);

  const Dataset fashion = load_fashion_mnist(dir / "", Split::train);
  CHECK(fashion.size() == 7);
  CHECK(fashion.class_names.size() == 10);
  CHECK(fashion.class_names[9] == "Ankle boot");
  CHECK(load_fashion_mnist(dir / "fashion-mnist", Split::test).size() == 3);
}

TEST_CASE("The loaders read CIFAR from its standard sub-directories") {
  TempDir dir;
  for (int batch = 1; batch <= 5; ++batch)
    write_file(dir / ("cifar-10-batches-bin/data_batch_" + std::to_string(batch) + ".bin"),
               cifar_file(batch, 1, batch), false);
  write_file(dir / "cifar-10-batches-bin/test_batch.bin", cifar_file(2, 1, 9), false);
  write_file(dir / "cifar-100-binary/train.bin", cifar_file(3, 2, 19), false);
  write_file(dir / "cifar-100-binary/test.bin", cifar_file(1, 2, 7), false);

  const Dataset train = load_cifar10(dir / "", Split::train);
  CHECK(train.images.shape() == Shape{15, 3, 32, 32});  // 1 + 2 + 3 + 4 + 5 records
  CHECK(train.labels[0] == 1);
  CHECK(train.labels[14] == 5);
  CHECK(train.class_names[0] == "airplane");
  CHECK(load_cifar10(dir / "cifar-10-batches-bin", Split::test).size() == 2);

  const Dataset coarse = load_cifar100(dir / "", Split::train, CifarLabels::coarse);
  CHECK(coarse.size() == 3);
  CHECK(coarse.classes == 20);
  CHECK(coarse.class_names.size() == 20);
  CHECK(coarse.class_names[19] == "vehicles_2");
  const Dataset fine = load_cifar100(dir / "", Split::test, CifarLabels::fine);
  CHECK(fine.classes == 100);
  CHECK(fine.class_names.size() == 100);
  CHECK(fine.class_names[fine.labels[0]] == "beetle");
  CHECK(fine.class_names[99] == "worm");
}

TEST_CASE("The loaders say which file is missing and how to fetch it") {
  TempDir dir;
  const std::string hint = " (it downloads into $MINICNN_DATA, default ./data)";
  CHECK_THROWS_WITH_AS(load_mnist(dir / "nowhere", Split::train),
                       ("load_mnist: expected a data directory, got '" + (dir / "nowhere") +
                        "', which does not exist; run scripts/fetch_data.sh mnist" + hint)
                           .c_str(),
                       Error);
  CHECK_THROWS_WITH_AS(load_fashion_mnist(dir / "", Split::test),
                       ("load_fashion_mnist: expected 't10k-images-idx3-ubyte' (or "
                        "'t10k-images-idx3-ubyte.gz') in '" +
                        (dir / "") + "' or '" + (dir / "fashion-mnist") +
                        "', found neither; run scripts/fetch_data.sh fashion-mnist" + hint)
                           .c_str(),
                       Error);
  // The images are there but not the labels: the message names the directory holding the images.
  write_file(dir / "mnist/train-images-idx3-ubyte", Bytes(16, 0), false);
  CHECK_THROWS_WITH_AS(
      load_mnist(dir / "", Split::train),
      ("load_mnist: expected 'train-labels-idx1-ubyte' (or "
       "'train-labels-idx1-ubyte.gz') in '" +
       (dir / "mnist") + "', found neither; run scripts/fetch_data.sh mnist" + hint)
          .c_str(),
      Error);
  CHECK_THROWS_WITH_AS(
      load_cifar10(dir / "", Split::train),
      ("load_cifar10: expected 'data_batch_1.bin' (or 'data_batch_1.bin.gz') in '" + (dir / "") +
       "' or '" + (dir / "cifar-10-batches-bin") +
       "', found neither; run scripts/fetch_data.sh cifar10" + hint)
          .c_str(),
      Error);
  CHECK_THROWS_WITH_AS(
      load_cifar100(dir / "", Split::test, CifarLabels::fine),
      ("load_cifar100: expected 'test.bin' (or 'test.bin.gz') in '" + (dir / "") + "' or '" +
       (dir / "cifar-100-binary") + "', found neither; run scripts/fetch_data.sh cifar100" + hint)
          .c_str(),
      Error);
}

TEST_CASE("data_dir() is $MINICNN_DATA, or ./data when it is unset or empty") {
  const char* saved = std::getenv("MINICNN_DATA");
  const std::string restore = saved != nullptr ? saved : "";
  setenv("MINICNN_DATA", "/srv/datasets", 1);
  CHECK(data_dir() == "/srv/datasets");
  setenv("MINICNN_DATA", "", 1);
  CHECK(data_dir() == "data");
  unsetenv("MINICNN_DATA");
  CHECK(data_dir() == "data");
  if (saved != nullptr) setenv("MINICNN_DATA", restore.c_str(), 1);
}
