// Random: a small, seedable generator whose streams are identical on every platform and
// compiler (the standard distributions are not), so that a seed reproduces a run exactly.
// Engine: xoshiro256** (Blackman & Vigna), state seeded through splitmix64.
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "minicnn/shape.hpp"

namespace minicnn {

class Random {
 public:
  explicit Random(std::uint64_t seed = 0) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    for (auto& word : state_)
      word = splitmix64(seed);
    has_spare_normal_ = false;
  }

  // 64 uniformly distributed bits.
  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform in [low, high).
  double uniform(double low, double high) { return low + (high - low) * uniform(); }

  // Standard normal by the Box-Muller transform; the second value of each pair is kept.
  double normal() {
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return spare_normal_;
    }
    const double u1 = 1.0 - uniform();  // in (0, 1], so log(u1) is finite
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586476925 * u2;
    spare_normal_ = radius * std::sin(angle);
    has_spare_normal_ = true;
    return radius * std::cos(angle);
  }

  // Uniform integer in [0, n), without modulo bias: draws above the largest multiple of n are
  // rejected.
  Index below(Index n) {
    if (n <= 0) fail("Random::below: expected n > 0, got ", n);
    const auto range = static_cast<std::uint64_t>(n);
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    std::uint64_t draw = next_u64();
    while (draw >= limit)
      draw = next_u64();
    return static_cast<Index>(draw % range);
  }

  // Fisher-Yates shuffle.
  template <typename Element>
  void shuffle(std::vector<Element>& items) {
    for (Index i = static_cast<Index>(items.size()) - 1; i > 0; --i)
      std::swap(items[static_cast<std::size_t>(i)], items[static_cast<std::size_t>(below(i + 1))]);
  }

  // A new generator whose stream is independent of this one (seeded from it).
  Random fork() { return Random(next_u64()); }

  // The full state, for checkpoints: 4 state words, the spare flag and the spare normal value.
  struct State {
    std::uint64_t words[4];
    bool has_spare_normal;
    double spare_normal;
  };
  State state() const {
    return {{state_[0], state_[1], state_[2], state_[3]}, has_spare_normal_, spare_normal_};
  }
  void set_state(const State& s) {
    for (int i = 0; i < 4; ++i)
      state_[i] = s.words[i];
    has_spare_normal_ = s.has_spare_normal;
    spare_normal_ = s.spare_normal;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t state_[4];
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace minicnn
