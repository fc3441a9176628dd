// Weight initialisers, with Keras's definitions. fan_in and fan_out count the connections of one
// output and one input unit: for a Dense kernel (in, out) they are in and out; for a Conv2D kernel
// (filters, channels, kh, kw) they are channels*kh*kw and filters*kh*kw.
#pragma once

#include <cmath>
#include <string>

#include "minicnn/error.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

enum class Initializer {
  glorot_uniform,  // U(-l, l), l = sqrt(6 / (fan_in + fan_out))   (Keras's default)
  he_uniform,      // U(-l, l), l = sqrt(6 / fan_in)
  he_normal,       // N(0, s^2) truncated at 2s, s = sqrt(2 / fan_in) / 0.8796 (Keras's rule)
  zeros,
};

inline std::string to_string(Initializer initializer) {
  switch (initializer) {
    case Initializer::glorot_uniform:
      return "glorot_uniform";
    case Initializer::he_uniform:
      return "he_uniform";
    case Initializer::he_normal:
      return "he_normal";
    case Initializer::zeros:
      return "zeros";
  }
  fail("Initializer: unknown value ", static_cast<int>(initializer));
}

inline Initializer initializer_from_string(const std::string& name) {
  for (Initializer i : {Initializer::glorot_uniform, Initializer::he_uniform,
                        Initializer::he_normal, Initializer::zeros})
    if (to_string(i) == name) return i;
  fail("Initializer: expected glorot_uniform, he_uniform, he_normal or zeros, got '", name, "'");
}

template <typename T>
void initialize(Tensor<T>& weights, Initializer initializer, Index fan_in, Index fan_out,
                Random& random) {
  switch (initializer) {
    case Initializer::glorot_uniform: {
      const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
      weights.fill_uniform(random, static_cast<T>(-limit), static_cast<T>(limit));
      return;
    }
    case Initializer::he_uniform: {
      const double limit = std::sqrt(6.0 / static_cast<double>(fan_in));
      weights.fill_uniform(random, static_cast<T>(-limit), static_cast<T>(limit));
      return;
    }
    case Initializer::he_normal: {
      // Keras divides by the standard deviation of a unit normal truncated at +-2.
      const double stddev = std::sqrt(2.0 / static_cast<double>(fan_in)) / 0.87962566103423978;
      for (T& w : weights) {
        double z = random.normal();
        while (std::abs(z) > 2.0)
          z = random.normal();
        w = static_cast<T>(stddev * z);
      }
      return;
    }
    case Initializer::zeros:
      weights.set_zero();
      return;
  }
}

}  // namespace minicnn
