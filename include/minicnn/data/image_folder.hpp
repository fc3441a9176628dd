// Image-folder data sets, Keras's image_dataset_from_directory: a directory with one sub-folder
// of JPEG or PNG files per class, loaded into the Dataset every other loader returns (uint8
// images (N, C, H, W), int32 labels), so fit(), augmentation, the reports and the analysis work
// on it unchanged.
//
//   photos/                        classes: the sub-folders' names, sorted ("cat" 0, "dog" 1)
//     cat/  001.jpg  002.png ...
//     dog/  001.jpg  more/002.jpg  files in nested folders count for their class
//
//   ImageFolderOptions options;
//   options.height = options.width = 64;   // every image is resized to this (image_resize.hpp)
//   options.validation_split = 0.2;        // 20 % of the files, drawn with `seed`
//   options.seed = 1;
//   ImageFolder photos = load_image_folder("photos", options);
//   std::cout << photos.report.summary();  // what was found, used, skipped
//   model.fit(Samples<float>(photos.training, Normalization<float>::scale()), adam, fit_options);
//
// What is listed: every regular file below a class folder whose name ends in .jpg, .jpeg or .png
// (any case), in sorted path order within its class. Names that begin with '.' (.DS_Store,
// .ipynb_checkpoints/) are skipped everywhere, so that Jupyter's checkpoint folder never becomes
// a class as it does in Keras; other files are listed in the report as ignored. Symbolic links to
// folders are not followed (Keras's follow_links=False).
//
// The split: the N listed files are permuted with Random(seed) exactly as split_validation()
// permutes samples, the first floor(validation_split * N) go to validation (Keras's rounding),
// the others to training, and each part keeps the listed order. It is made on the files before
// any is decoded, so that `subset` decodes only the files it keeps.
//
// The cache and its memory bound: the decoded, resized images ARE the Dataset, held in memory as
// bytes, so every epoch after loading decodes nothing (image_decodes() counts). They take
// N * C * H * W bytes (25,000 photos at 3x64x64: 307 MB; at 3x32x32: 77 MB). The bound is
// checked from the file count before anything is decoded, and the load is refused with the sizes
// and the two ways out when it exceeds `max_bytes` (default 2 GiB). While loading, each thread
// also holds one file, its decoded image (at most max_image_pixels * C bytes) and one row of
// doubles; when unreadable files are skipped, the kept images are copied once into a set of
// their own size (so briefly twice the bytes).
//
// Bad input: an unreadable, empty, truncated or non-image file, and a class folder with no image
// file, are either refused (BadImages::refuse, the default: one Error listing every such path and
// what failed) or skipped and listed in the report (BadImages::skip; an empty class keeps its
// label, so that labels always follow the sorted folder names). A missing directory, one without
// class folders or without any image file is always an Error.
//
// Files are decoded in parallel (OpenMP), each into its own slot: the result does not depend on
// the number of threads.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "minicnn/data/dataset.hpp"
#include "minicnn/data/image_file.hpp"
#include "minicnn/data/image_resize.hpp"
#include "minicnn/error.hpp"
#include "minicnn/random.hpp"

namespace minicnn {

// Which part of the split to load (Keras's subset 'training', 'validation', 'both').
enum class ImageSubset { training, validation, both };

// What to do with an unreadable image file or an empty class folder.
enum class BadImages { refuse, skip };

struct ImageFolderOptions {
  Index height = 256, width = 256;  // the size every image is resized to (Keras's default)
  int channels = 3;                 // 3: RGB, 1: grey (Keras's color_mode 'rgb', 'grayscale')
  double validation_split = 0.0;    // the fraction of the files held out, in [0, 1)
  ImageSubset subset = ImageSubset::both;
  std::uint64_t seed = 0;  // of the split
  BadImages bad_images = BadImages::refuse;
  std::uint64_t max_bytes = std::uint64_t{1} << 31;         // bound on N * C * H * W
  std::uint64_t max_image_pixels = kDefaultMaxImagePixels;  // per file, width * height
};

// What loading found, in the order of the listing.
struct ImageFolderReport {
  std::string directory;
  Index files = 0;                         // image files listed in the class folders
  Index classes = 0;                       // class folders
  Index training = 0, validation = 0;      // images in each part after skipping
  std::uint64_t decoded = 0;               // files this load decoded
  std::vector<std::string> unreadable;     // the decoder's message for each skipped file
  std::vector<std::string> empty_classes;  // class folders without an image file
  std::vector<std::string> ignored;        // other files, not .jpg, .jpeg or .png

  // Keras's lines ("Found 2000 files belonging to 2 classes.") and the skipped paths.
  std::string summary() const {
    std::string text = detail::concat("Found ", files, " files belonging to ", classes,
                                      " classes in '", directory, "'. Using ", training,
                                      " for training and ", validation, " for validation.\n");
    for (const auto& folder : empty_classes)
      text += "  empty class folder '" + folder + "'\n";
    for (const auto& message : unreadable)
      text += "  skipped " + message + "\n";
    if (!ignored.empty())
      text += detail::concat("  ignored ", ignored.size(), " files that are not .jpg, .jpeg or ",
                             ".png, e.g. '", ignored.front(), "'\n");
    return text;
  }
};

struct ImageFolder {
  Dataset training;    // empty unless subset is training or both
  Dataset validation;  // empty unless subset is validation or both, and validation_split > 0
  std::vector<std::string> training_files, validation_files;  // the path of each sample
  ImageFolderReport report;
};

namespace detail {

inline bool hidden(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

inline bool image_extension(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  for (char& c : extension)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png";
}

// The listed image files of one class folder, sorted; other files go to `ignored`.
inline std::vector<std::string> list_class_files(const std::filesystem::path& folder,
                                                 std::vector<std::string>& ignored) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::vector<std::string> files;
  fs::recursive_directory_iterator it(folder, error), end;
  for (; !error && it != end; it.increment(error)) {
    // A file that cannot be examined (a broken link) is listed all the same when its name says
    // image: reading it then fails with its path, and it is reported, not silently dropped.
    std::error_code unknown;
    const bool folder_entry = it->is_directory(unknown);
    if (hidden(it->path())) {
      if (folder_entry) it.disable_recursion_pending();
      continue;
    }
    if (folder_entry) continue;
    (image_extension(it->path()) ? files : ignored).push_back(it->path().string());
  }
  if (error)
    fail("load_image_folder: cannot list the class folder '", folder.string(), "' (",
         error.message(), ")");
  std::sort(files.begin(), files.end());
  return files;
}

// a * b, or fail when it exceeds 2^64 - 1.
inline std::uint64_t checked_product(std::uint64_t a, std::uint64_t b, const std::string& what) {
  if (a != 0 && b > UINT64_MAX / a) fail("load_image_folder: ", what, " overflows 64 bits");
  return a * b;
}

inline void check_options(const std::string& dir, const ImageFolderOptions& o) {
  if (o.height < 1 || o.width < 1)
    fail("load_image_folder '", dir, "': expected an image size of at least 1x1, got ", o.width,
         "x", o.height);
  if (o.channels != 1 && o.channels != 3)
    fail("load_image_folder '", dir, "': expected channels 1 (grey) or 3 (RGB), got ", o.channels);
  if (!(o.validation_split >= 0.0 && o.validation_split < 1.0))
    fail("load_image_folder '", dir, "': expected validation_split in [0, 1), got ",
         o.validation_split);
  if (o.subset == ImageSubset::validation && o.validation_split == 0.0)
    fail("load_image_folder '", dir,
         "': subset validation needs a validation_split above 0, got 0");
}

// The message of a refused load: the first few problems in full, then how many more.
inline std::string problem_list(const std::vector<std::string>& problems) {
  constexpr std::size_t kShown = 10;
  std::string text;
  for (std::size_t i = 0; i < std::min(problems.size(), kShown); ++i)
    text += "\n  " + problems[i];
  if (problems.size() > kShown) text += concat("\n  ... and ", problems.size() - kShown, " more");
  return text;
}

}  // namespace detail

inline ImageFolder load_image_folder(const std::string& dir, const ImageFolderOptions& options) {
  namespace fs = std::filesystem;
  detail::check_options(dir, options);
  std::error_code error;
  if (!fs::is_directory(dir, error))
    fail("load_image_folder: expected a directory of class folders, got '", dir,
         "', which does not exist or is not a directory");

  ImageFolder result;
  ImageFolderReport& report = result.report;
  report.directory = dir;
  std::vector<std::string> class_names;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    if (detail::hidden(it->path())) continue;
    std::error_code unknown;  // an entry that cannot be examined is no class folder
    if (it->is_directory(unknown))
      class_names.push_back(it->path().filename().string());
    else
      report.ignored.push_back(it->path().string());
  }
  if (error) fail("load_image_folder: cannot list '", dir, "' (", error.message(), ")");
  if (class_names.empty())
    fail("load_image_folder '", dir,
         "': expected one sub-folder per class (cat/, dog/, ...), found none");
  std::sort(class_names.begin(), class_names.end());

  // Every file with its label, class by class: the listed order.
  std::vector<std::string> files;
  std::vector<std::int32_t> labels;
  for (std::size_t c = 0; c < class_names.size(); ++c) {
    const fs::path folder = fs::path(dir) / class_names[c];
    const auto found = detail::list_class_files(folder, report.ignored);
    if (found.empty()) report.empty_classes.push_back(folder.string());
    files.insert(files.end(), found.begin(), found.end());
    labels.insert(labels.end(), found.size(), static_cast<std::int32_t>(c));
  }
  const auto count = static_cast<Index>(files.size());
  report.files = count;
  report.classes = static_cast<Index>(class_names.size());
  if (count == 0)
    fail("load_image_folder '", dir, "': expected .jpg, .jpeg or .png files in its ",
         class_names.size(), " class folders, found none");
  if (options.bad_images == BadImages::refuse && !report.empty_classes.empty())
    fail("load_image_folder '", dir, "': expected an image file in every class folder, found ",
         report.empty_classes.size(), " empty (BadImages::skip keeps their labels and goes on):",
         detail::problem_list(report.empty_classes));

  // The split of split_validation(), on the listing.
  std::vector<Index> order(static_cast<std::size_t>(count));
  for (Index i = 0; i < count; ++i)
    order[static_cast<std::size_t>(i)] = i;
  Random random(options.seed);
  random.shuffle(order);
  const auto held_out =
      static_cast<Index>(std::floor(options.validation_split * static_cast<double>(count)));
  std::vector<Index> validation(order.begin(), order.begin() + held_out);
  std::vector<Index> training(order.begin() + held_out, order.end());
  std::sort(validation.begin(), validation.end());
  std::sort(training.begin(), training.end());
  if (options.subset == ImageSubset::validation) training.clear();
  if (options.subset == ImageSubset::training) validation.clear();

  // The memory bound, before anything is decoded.
  const auto loaded = static_cast<std::uint64_t>(training.size() + validation.size());
  const std::uint64_t sample_bytes = detail::checked_product(
      detail::checked_product(static_cast<std::uint64_t>(options.channels),
                              static_cast<std::uint64_t>(options.height), "the image size"),
      static_cast<std::uint64_t>(options.width), "the image size");
  const std::uint64_t bytes = detail::checked_product(loaded, sample_bytes, "the data set's size");
  if (bytes > options.max_bytes)
    fail("load_image_folder '", dir, "': ", loaded, " images of ", options.channels, "x",
         options.height, "x", options.width, " bytes need ", bytes,
         " bytes in memory, above the limit of ", options.max_bytes,
         " (ImageFolderOptions::max_bytes); choose a smaller image size or raise the limit");

  // Both parts in one job list, each job decoding one file into its own slot.
  struct Part {
    const std::vector<Index>* picked;
    Dataset* data;
    std::vector<std::string>* paths;
  };
  const Part parts[] = {{&training, &result.training, &result.training_files},
                        {&validation, &result.validation, &result.validation_files}};
  std::vector<std::pair<const Part*, Index>> jobs;
  for (const Part& part : parts) {
    const auto n = static_cast<Index>(part.picked->size());
    part.data->images.resize({n, options.channels, options.height, options.width});
    part.data->labels.resize({n});
    part.data->classes = static_cast<Index>(class_names.size());
    part.data->class_names = class_names;
    for (Index slot = 0; slot < n; ++slot)
      jobs.emplace_back(&part, slot);
  }
  const auto job_count = static_cast<Index>(jobs.size());
  std::vector<std::string> failures(jobs.size());  // empty where the file was read
  const auto sample = static_cast<Index>(sample_bytes);
#pragma omp parallel for schedule(dynamic) if (job_count > 1)
  for (Index j = 0; j < job_count; ++j) {
    const auto [part, slot] = jobs[static_cast<std::size_t>(j)];
    const Index file = (*part->picked)[static_cast<std::size_t>(slot)];
    const std::string& path = files[static_cast<std::size_t>(file)];
    part->data->labels[slot] = labels[static_cast<std::size_t>(file)];
    // An exception must not leave an OpenMP loop: it is kept as the file's message.
    try {
      const Image image = read_image(path, options.channels, options.max_image_pixels);
      resize_image(image, options.height, options.width, part->data->images.data() + slot * sample);
    } catch (const std::exception& failure) {
      failures[static_cast<std::size_t>(j)] = failure.what();
    }
  }
  report.decoded = loaded;

  std::vector<std::string> problems;
  for (const std::string& failure : failures)
    if (!failure.empty()) problems.push_back(failure);
  if (!problems.empty() && options.bad_images == BadImages::refuse)
    fail("load_image_folder '", dir, "': ", problems.size(), " of ", loaded,
         " image files cannot be read (BadImages::skip skips and reports them):",
         detail::problem_list(problems));
  report.unreadable = problems;

  // Paths, and with skipped files, sets of the kept samples only.
  std::size_t job = 0;
  for (const Part& part : parts) {
    std::vector<Index> kept;
    for (Index slot = 0; slot < static_cast<Index>(part.picked->size()); ++slot, ++job)
      if (failures[job].empty()) {
        kept.push_back(slot);
        part.paths->push_back(
            files[static_cast<std::size_t>((*part.picked)[static_cast<std::size_t>(slot)])]);
      }
    if (kept.size() != part.picked->size()) *part.data = subset(*part.data, kept);
  }
  if (result.training.size() + result.validation.size() == 0)
    fail("load_image_folder '", dir, "': none of its ", loaded,
         " image files can be read:", detail::problem_list(problems));
  report.training = result.training.size();
  report.validation = result.validation.size();
  return result;
}

}  // namespace minicnn
