// How the throughput drivers time a phase (minicnn_throughput, dlib_throughput): the same loop
// and the same memory figure for every engine, so that their numbers compare.
#pragma once

#include <sys/resource.h>

#include <chrono>

namespace bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `step` (which processes one batch; it gets the call's index) for at least `min_seconds`
// and `min_steps`, after `warmup` untimed calls; returns batches per second.
template <typename Step>
double batches_per_second(Step step, long long warmup, long long min_steps, double min_seconds) {
  for (long long i = 0; i < warmup; ++i)
    step(i);
  const auto start = Clock::now();
  long long steps = 0;
  while (steps < min_steps || seconds_since(start) < min_seconds)
    step(warmup + steps++);
  return static_cast<double>(steps) / seconds_since(start);
}

// The process's peak resident set so far (Linux reports ru_maxrss in KiB).
inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace bench
