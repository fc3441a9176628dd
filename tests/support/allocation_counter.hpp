// Counts every heap allocation of the test program that includes this header, by replacing the
// global operator new (so include it from exactly one file of a test program). A test reads
// minicnn::testing::allocations before and after the code under test: a difference of 0 proves
// that the code allocated nothing, e.g. a training step in steady state.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace minicnn::testing {
inline std::atomic<long> allocations{0};
}  // namespace minicnn::testing

void* operator new(std::size_t size) {
  ++minicnn::testing::allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  ++minicnn::testing::allocations;
  const auto align = static_cast<std::size_t>(alignment);
  if (void* p = std::aligned_alloc(align, (size + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
// Not inlined: GCC would otherwise see "operator new ... free" at call sites and warn of a
// mismatch that is not one (these replacements pair malloc with free).
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
