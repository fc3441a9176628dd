// Specification of image-folder data sets (data/image_folder.hpp): listing, class names, the
// split, the cache, the memory bound, unreadable files and empty class folders, and a small CNN
// that learns from such a folder. The folders are written by the test into a temporary directory,
// PNG and JPEG files of mixed sizes and colour modes.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "minicnn/data/image_file.hpp"
#include "minicnn/data/image_folder.hpp"
#include "minicnn/minicnn.hpp"
#include "support/image_files.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;
using namespace minicnn::testing;

namespace {

// A folder of two classes of colour photos in every format and colour mode, of mixed sizes:
//   dir/blue/   blue-dominant images    dir/red/   red-dominant images, one in red/more/
// `bad`: plus red/broken.jpg (a JPEG cut in half) and empty/ (a class folder without images).
// Also a hidden folder, a hidden file and non-image files, which are never classes or samples.
struct ColourFolder {
  TempDir temp;
  std::string dir = temp / "photos";
  Index images = 0;

  explicit ColourFolder(bool bad) {
    namespace fs = std::filesystem;
    for (const char* sub : {"blue", "red", "red/more", ".ipynb_checkpoints/red"})
      fs::create_directories(fs::path(dir) / sub);
    const struct {
      const char* name;
      const char* format;
      Index width, height;
      int channels;
    } files[] = {{"a.png", "png", 20, 16, 3},
                 {"b.jpg", "jpg", 33, 21, 3},
                 {"c.png", "png", 9, 12, 4},
                 {"d.JPEG", "jpg", 16, 16, 3},
                 {"e.jpeg", "jpg", 40, 30, 3}};
    for (const char* colour : {"blue", "red"})
      for (const auto& f : files) {
        std::vector<std::uint8_t> pixel = colour == std::string("blue")
                                              ? std::vector<std::uint8_t>{20, 40, 220}
                                              : std::vector<std::uint8_t>{230, 30, 10};
        if (f.channels == 4) pixel.push_back(128);
        const std::string name = std::string(colour) == "red" && f.name[0] == 'e'
                                     ? std::string("more/") + f.name
                                     : std::string(f.name);
        write_raw(dir + "/" + colour + "/" + name,
                  encode(f.format, f.width, f.height, f.channels, plain(f.width, f.height, pixel)));
        ++images;
      }
    // A grey PNG and a grey + alpha PNG: they become RGB with R = G = B.
    write_raw(dir + "/blue/grey.png", encode("png", 7, 5, 1, plain(7, 5, {90})));
    write_raw(dir + "/red/grey-alpha.png", encode("png", 6, 6, 2, plain(6, 6, {160, 255})));
    images += 2;
    write_raw(dir + "/blue/notes.txt", {'h', 'i'});
    write_raw(dir + "/README", {'h', 'i'});
    write_raw(dir + "/blue/.DS_Store", {0, 1, 2});
    write_raw(dir + "/.ipynb_checkpoints/red/x.png", encode("png", 4, 4, 1, plain(4, 4, {1})));
    if (bad) {
      Bytes jpeg = encode("jpg", 32, 32, 3, noise(32 * 32 * 3, 4));
      jpeg.resize(jpeg.size() / 2);
      write_raw(dir + "/red/broken.jpg", jpeg);
      fs::create_directories(fs::path(dir) / "empty");
    }
  }
};

ImageFolderOptions options_of(Index size, double validation_split = 0.0,
                              BadImages bad = BadImages::refuse) {
  ImageFolderOptions options;
  options.height = options.width = size;
  options.validation_split = validation_split;
  options.seed = 3;
  options.bad_images = bad;
  return options;
}

bool same(const Dataset& a, const Dataset& b) {
  return a.images.shape() == b.images.shape() && a.labels.shape() == b.labels.shape() &&
         std::equal(a.images.begin(), a.images.end(), b.images.begin()) &&
         std::equal(a.labels.begin(), a.labels.end(), b.labels.begin());
}

}  // namespace

TEST_CASE("An image folder loads every image of every class, resized, with sorted class names") {
  ColourFolder folder(false);
  const ImageFolder photos = load_image_folder(folder.dir, options_of(8));
  const Dataset& data = photos.training;
  CHECK(data.class_names == std::vector<std::string>{"blue", "red"});
  CHECK(data.classes == 2);
  REQUIRE(data.images.shape() == Shape{folder.images, 3, 8, 8});
  CHECK(photos.validation.size() == 0);
  REQUIRE(photos.training_files.size() == static_cast<std::size_t>(folder.images));
  // Listed class by class, sorted within a class; nested folders count for their class.
  CHECK(photos.training_files.front() == folder.dir + "/blue/a.png");
  CHECK(std::count(photos.training_files.begin(), photos.training_files.end(),
                   folder.dir + "/red/more/e.jpeg") == 1);
  for (Index n = 0; n < data.size(); ++n) {
    const std::string& path = photos.training_files[static_cast<std::size_t>(n)];
    CAPTURE(path);
    const bool blue = contains(path, "/blue/");
    CHECK(data.labels[n] == (blue ? 0 : 1));
    const auto r = data.images(n, 0, 4, 4), g = data.images(n, 1, 4, 4),
               b = data.images(n, 2, 4, 4);
    if (contains(path, "grey")) {
      CHECK(r == g);
      CHECK(g == b);
    } else {
      CHECK((blue ? b > r + 100 : r > b + 100));
    }
  }
  const ImageFolderReport& report = photos.report;
  CHECK(report.files == folder.images);
  CHECK(report.classes == 2);
  CHECK(report.unreadable.empty());
  CHECK(report.empty_classes.empty());
  CHECK(report.ignored ==
        std::vector<std::string>{folder.dir + "/README", folder.dir + "/blue/notes.txt"});
  CHECK(contains(report.summary(), "Found 12 files belonging to 2 classes"));

  // Grey: one channel.
  auto grey = options_of(5);
  grey.channels = 1;
  CHECK(load_image_folder(folder.dir, grey).training.images.shape() == Shape{12, 1, 5, 5});
}

TEST_CASE("The split is seeded, disjoint, and the split of the whole folder by split_validation") {
  ColourFolder folder(false);
  const ImageFolder whole = load_image_folder(folder.dir, options_of(6));
  const ImageFolder split = load_image_folder(folder.dir, options_of(6, 0.25));
  CHECK(split.validation.size() == 3);  // floor(0.25 * 12), Keras's rounding
  CHECK(split.training.size() == 9);
  const auto expected = split_validation(whole.training, 3, 3);
  CHECK(same(split.training, expected.train));
  CHECK(same(split.validation, expected.validation));
  for (const auto& path : split.validation_files)
    CHECK(std::count(split.training_files.begin(), split.training_files.end(), path) == 0);
  CHECK(same(load_image_folder(folder.dir, options_of(6, 0.25)).validation, split.validation));
  auto other = options_of(6, 0.25);
  other.seed = 4;
  CHECK(load_image_folder(folder.dir, other).validation_files != split.validation_files);

  // A subset decodes only its own files, and is the same part as with both.
  for (const ImageSubset subset : {ImageSubset::training, ImageSubset::validation}) {
    auto options = options_of(6, 0.25);
    options.subset = subset;
    const auto before = image_decodes();
    const ImageFolder part = load_image_folder(folder.dir, options);
    const bool training = subset == ImageSubset::training;
    CHECK(image_decodes() - before == (training ? 9u : 3u));
    CHECK(part.report.decoded == (training ? 9u : 3u));
    CHECK(same(training ? part.training : part.validation,
               training ? split.training : split.validation));
    CHECK((training ? part.validation : part.training).size() == 0);
  }
}

TEST_CASE("Loading gives the same bytes whatever the number of threads") {
  ColourFolder folder(true);
  const int threads = omp_get_max_threads();
  std::vector<ImageFolder> loads;
  for (const int count : {1, 3}) {
    omp_set_num_threads(count);
    loads.push_back(load_image_folder(folder.dir, options_of(7, 0.25, BadImages::skip)));
  }
  omp_set_num_threads(threads);
  CHECK(same(loads[0].training, loads[1].training));
  CHECK(same(loads[0].validation, loads[1].validation));
  CHECK(loads[0].training_files == loads[1].training_files);
  CHECK(loads[0].report.unreadable == loads[1].report.unreadable);
}

TEST_CASE("Unreadable files and empty class folders are refused or skipped and reported") {
  ColourFolder folder(true);
  const std::string broken = folder.dir + "/red/broken.jpg", empty = folder.dir + "/empty";
  const std::string refused_empty =
      message_of([&] { load_image_folder(folder.dir, options_of(8)); });
  CHECK(contains(refused_empty, "load_image_folder '" + folder.dir +
                                    "': expected an image file in every class folder, found 1 "
                                    "empty"));
  CHECK(contains(refused_empty, "\n  " + empty));

  std::filesystem::remove(empty);
  const std::string refused_file =
      message_of([&] { load_image_folder(folder.dir, options_of(8)); });
  CHECK(contains(refused_file,
                 "load_image_folder '" + folder.dir + "': 1 of 13 image files cannot be read"));
  CHECK(contains(refused_file, "\n  image file '" + broken + "': cannot decode its 32x32 image"));

  std::filesystem::create_directory(empty);
  const ImageFolder skipped = load_image_folder(folder.dir, options_of(8, 0.0, BadImages::skip));
  CHECK(skipped.training.class_names == std::vector<std::string>{"blue", "empty", "red"});
  CHECK(skipped.training.classes == 3);
  CHECK(skipped.training.size() == folder.images);
  CHECK(std::count(skipped.training_files.begin(), skipped.training_files.end(), broken) == 0);
  for (Index n = 0; n < skipped.training.size(); ++n)  // red keeps label 2 after the empty class
    CHECK(skipped.training.labels[n] ==
          (contains(skipped.training_files[static_cast<std::size_t>(n)], "/red/") ? 2 : 0));
  const ImageFolderReport& report = skipped.report;
  CHECK(report.empty_classes == std::vector<std::string>{empty});
  REQUIRE(report.unreadable.size() == 1);
  CHECK(contains(report.unreadable[0], "image file '" + broken + "'"));
  CHECK(report.decoded == 13u);
  const std::string summary = report.summary();
  CHECK(contains(summary, "Found 13 files belonging to 3 classes"));
  CHECK(contains(summary, "Using 12 for training and 0 for validation"));
  CHECK(contains(summary, "empty class folder '" + empty + "'"));
  CHECK(contains(summary, "skipped image file '" + broken + "'"));
}

TEST_CASE("Loading refuses a size above the memory bound and bad folders, naming them") {
  ColourFolder folder(false);
  auto options = options_of(64);
  options.max_bytes = 12 * 3 * 64 * 64 - 1;
  CHECK(contains(message_of([&] { load_image_folder(folder.dir, options); }),
                 "load_image_folder '" + folder.dir +
                     "': 12 images of 3x64x64 bytes need 147456 "
                     "bytes in memory, above the limit of 147455"));
  options.max_bytes = 12 * 3 * 64 * 64;
  CHECK(load_image_folder(folder.dir, options).training.size() == 12);

  TempDir temp;
  CHECK(contains(message_of([&] { load_image_folder(temp / "none", options_of(8)); }),
                 "load_image_folder: expected a directory of class folders, got '" + temp / "none" +
                     "', which does not exist"));
  CHECK(contains(message_of([&] { load_image_folder(temp.path.string(), options_of(8)); }),
                 "expected one sub-folder per class (cat/, dog/, ...), found none"));
  std::filesystem::create_directory(temp / "cat");
  write_raw(temp / "cat/notes.txt", {'x'});
  CHECK(contains(message_of([&] { load_image_folder(temp.path.string(), options_of(8)); }),
                 "expected .jpg, .jpeg or .png files in its 1 class folders, found none"));
  auto bad = options_of(0);
  CHECK(contains(message_of([&] { load_image_folder(folder.dir, bad); }),
                 "expected an image size of at least 1x1, got 0x0"));
  bad = options_of(8, 1.0);
  CHECK(contains(message_of([&] { load_image_folder(folder.dir, bad); }),
                 "expected validation_split in [0, 1), got 1"));
  bad = options_of(8);
  bad.subset = ImageSubset::validation;
  CHECK(contains(message_of([&] { load_image_folder(folder.dir, bad); }),
                 "subset validation needs a validation_split above 0"));
}

TEST_CASE("A small CNN learns an image folder well above chance, and training decodes nothing") {
  // Two classes that differ by shape, not colour: horizontal and vertical stripes of random
  // colours, phases and sizes, as JPEG and PNG files.
  TempDir temp;
  const std::string dir = temp / "stripes";
  Random random(21);
  for (const char* orientation : {"horizontal", "vertical"}) {
    std::filesystem::create_directories(dir + "/" + orientation);
    for (int k = 0; k < 50; ++k) {
      const Index width = 16 + static_cast<Index>(random.below(24));
      const Index height = 16 + static_cast<Index>(random.below(24));
      // Two colours 128 apart in every channel; two or three periods across the image.
      const std::vector<std::uint8_t> a = noise(3, random.next_u64());
      std::vector<std::uint8_t> b = a;
      for (auto& v : b)
        v = static_cast<std::uint8_t>(v + 128);
      const bool horizontal = orientation == std::string("horizontal");
      const Index period =
          (horizontal ? height : width) / (2 + static_cast<Index>(random.below(2)));
      const Index phase = static_cast<Index>(random.below(period));
      std::vector<std::uint8_t> pixels;
      for (Index y = 0; y < height; ++y)
        for (Index x = 0; x < width; ++x) {
          const Index along = horizontal ? y : x;
          const auto& colour = ((along + phase) % period) < period / 2 ? a : b;
          pixels.insert(pixels.end(), colour.begin(), colour.end());
        }
      const char* format = k % 2 == 0 ? "png" : "jpg";
      write_raw(dir + "/" + orientation + "/" + std::to_string(k) + "." + format,
                encode(format, width, height, 3, pixels));
    }
  }
  const ImageFolder stripes = load_image_folder(dir, options_of(16, 0.25));
  REQUIRE(stripes.training.size() == 75);

  Sequential<float> model;
  model.add<Conv2D>(8, 3).add<ReLU>().add<MaxPool2D>(2);
  model.add<Flatten>().add<Dense>(2).add<Softmax>();
  model.build({3, 16, 16}, 7);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  Adam<float> adam(0.01);
  FitOptions<float> options;
  options.epochs = 20;
  options.batch_size = 15;
  options.seed = 8;
  options.verbose = Verbose::silent;
  const auto scale = Normalization<float>::scale();
  const auto decodes = image_decodes();
  model.fit(Samples<float>(stripes.training, scale), adam, options);
  CHECK(image_decodes() == decodes);  // every epoch read the cache
  const auto validation = model.evaluate(Samples<float>(stripes.validation, scale));
  CHECK(validation.accuracy >= 0.9);  // chance: 0.5; 1.0 here at 1 and 2 threads
}
