// fma_peak: the machine's measured single-precision peak, the denominator of every "fraction of
// the FMA peak" in docs/performance.md. A processor's nominal peak (cores x FMA units x lanes x 2 x
// clock) assumes a clock it may not hold under load, so the bar is measured, on the same threads
// as the model benchmarks, with the instruction set they are compiled for (-march=native).
//
// Each thread runs kChains independent fused multiply-adds on vector registers,
//
//   acc[i] = acc[i] * m + c      (one FMA: 2 x kLanes FLOPs),
//
// in a loop. An FMA's result is ready after its latency (4 cycles on Zen 3 and Skylake), and a core
// starts up to 2 per cycle, so 8 chains in flight keep both units busy; kChains = 12 leaves margin
// without spilling registers (16 vector registers with AVX2). The accumulators converge to
// c / (1 - m), so no value overflows or turns denormal (which would slow the units down).
//
//   fma_peak [--threads 1] [--seconds 1] [--repeats 5]
//
// prints one JSON line: {"threads": 1, "lanes": 8, "gflops": 114.2, "gflops_per_thread": 114.2}.
// The figure is the best of --repeats timed rounds: a peak is what the machine can do, so the
// rounds a neighbouring process slowed down are not averaged in.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/command_line.hpp"
#include "minicnn/error.hpp"

namespace {

constexpr int kChains = 12;

#if defined(__AVX512F__)
using Vector = __m512;
constexpr int kLanes = 16;
inline Vector broadcast(float x) {
  return _mm512_set1_ps(x);
}
inline Vector fma(Vector a, Vector b, Vector c) {
  return _mm512_fmadd_ps(a, b, c);
}
inline float first_lane(Vector v) {
  return _mm512_cvtss_f32(v);
}
#elif defined(__AVX2__) && defined(__FMA__)
using Vector = __m256;
constexpr int kLanes = 8;
inline Vector broadcast(float x) {
  return _mm256_set1_ps(x);
}
inline Vector fma(Vector a, Vector b, Vector c) {
  return _mm256_fmadd_ps(a, b, c);
}
inline float first_lane(Vector v) {
  return _mm256_cvtss_f32(v);
}
#else
#error "fma_peak needs FMA instructions (AVX2+FMA or AVX-512): build with -march=native"
#endif

// Runs `iterations` rounds of kChains FMAs on one thread; returns a value that depends on every
// accumulator, so that the compiler cannot drop the loop.
float run_chains(long long iterations) {
  const Vector m = broadcast(0.999f), c = broadcast(0.001f);
  Vector acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = broadcast(static_cast<float>(i));
  for (long long n = 0; n < iterations; ++n)
    for (int i = 0; i < kChains; ++i)
      acc[i] = fma(acc[i], m, c);
  float sum = 0;
  for (int i = 0; i < kChains; ++i)
    sum += first_lane(acc[i]);
  return sum;
}

// Seconds for every thread of the team to run `iterations` rounds, between two barriers.
double timed_round(int threads, long long iterations, float& sink) {
  const auto start = std::chrono::steady_clock::now();
  float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  total += run_chains(iterations);
  sink += total;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace minicnn;
  examples::CommandLine cli("fma_peak",
                            "The measured fp32 FMA peak of this machine on a number of threads, "
                            "printed as one JSON line.");
  cli.option("threads", "1", "OpenMP threads")
      .option("seconds", "1", "approximate seconds per timed round")
      .option("repeats", "5", "timed rounds; the best one is reported");
  if (!cli.parse(argc, argv)) return 0;
  const int threads = static_cast<int>(cli.get_int("threads"));
  const long long repeats = cli.get_int("repeats");
  const double seconds = cli.get_double("seconds");
  if (threads < 1 || repeats < 1 || !(seconds > 0))
    fail("fma_peak: expected --threads >= 1, --repeats >= 1 and --seconds > 0");

  // Calibrate the iteration count to about --seconds per round on a short untimed round.
  float sink = 0;
  long long iterations = 1 << 16;
  double elapsed = timed_round(threads, iterations, sink);
  while (elapsed < 0.05) {
    iterations *= 4;
    elapsed = timed_round(threads, iterations, sink);
  }
  iterations =
      std::max(1LL, static_cast<long long>(static_cast<double>(iterations) * seconds / elapsed));

  double best = 0;
  for (long long r = 0; r < repeats; ++r)
    best = std::max(best, 1 / timed_round(threads, iterations, sink));
  const double flops_per_round =
      static_cast<double>(threads) * static_cast<double>(iterations) * kChains * kLanes * 2.0;
  const double gflops = flops_per_round * best / 1e9;
  std::printf(
      "{\"threads\": %d, \"lanes\": %d, \"gflops\": %.1f, \"gflops_per_thread\": %.1f, "
      "\"checksum\": %.3g}\n",
      threads, kLanes, gflops, gflops / threads, static_cast<double>(sink));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
