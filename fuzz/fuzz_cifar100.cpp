// libFuzzer target: the CIFAR-100 reader (cifar.hpp), raw and gzip-compressed (fuzz_cifar.hpp),
// keeping the coarse labels (20 classes); then read once more keeping the fine ones (100
// classes): both label bytes are checked whichever is kept, so the file must be accepted or
// refused the same way, with the same images.
#include "fuzz_cifar.hpp"

namespace {

minicnn::Dataset read_coarse(const std::vector<std::string>& paths) {
  return minicnn::read_cifar100(paths, minicnn::CifarLabels::coarse);
}
minicnn::Dataset read_fine(const std::vector<std::string>& paths) {
  return minicnn::read_cifar100(paths, minicnn::CifarLabels::fine);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace minicnn::fuzz;
  const auto coarse = fuzz_cifar(data, size, 20, read_coarse);
  const auto fine = read_cifar_outcome({write_raw("input", data, size)}, 100, read_fine);
  require(fine.failed == coarse.failed && fine.error == coarse.error,
          "CIFAR-100 accepts or refuses a file differently with coarse and fine labels");
  if (!fine.failed)
    require(
        std::equal(fine.data.images.begin(), fine.data.images.end(), coarse.data.images.begin()),
        "CIFAR-100 images differ between coarse and fine labels");
  return 0;
}
