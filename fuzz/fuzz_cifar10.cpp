// libFuzzer target: the CIFAR-10 reader (cifar.hpp), raw and gzip-compressed (fuzz_cifar.hpp).
#include "fuzz_cifar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  minicnn::fuzz::fuzz_cifar(data, size, 10, [](const std::vector<std::string>& paths) {
    return minicnn::read_cifar10(paths);
  });
  return 0;
}
