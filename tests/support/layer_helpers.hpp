// Helpers that several layer specifications share (tests/layers/): a random input, a layer's
// inference output, a body run on a given number of OpenMP threads. Shared rather than copied so
// that the files of one test program, compiled as one unity source (tests/CMakeLists.txt), do not
// define the same function twice.
#pragma once

#include <omp.h>

#include <cstdint>

#include "minicnn/layer.hpp"
#include "minicnn/random.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn::testing {

// A tensor of `shape` filled uniformly in [-1, 1) from `seed`.
template <typename T>
Tensor<T> random_tensor(const Shape& shape, std::uint64_t seed) {
  Random random(seed);
  Tensor<T> t(shape);
  t.fill_uniform(random, T(-1), T(1));
  return t;
}

// Builds `layer` for x's samples and returns its inference output.
template <typename T>
Tensor<T> apply(Layer<T>& layer, const Tensor<T>& x) {
  Random random(1);
  layer.build(x.shape().sample(), random);
  Tensor<T> y;
  layer.forward(x, y, Mode::inference);
  return y;
}

// Runs `body` with OpenMP limited to `threads`, then restores the previous limit.
template <typename Body>
void with_threads(int threads, Body body) {
  const int previous = omp_get_max_threads();
  omp_set_num_threads(threads);
  body();
  omp_set_num_threads(previous);
}

}  // namespace minicnn::testing
