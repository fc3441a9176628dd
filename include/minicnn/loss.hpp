// Loss<T>: the contract every loss implements.
//
//   prediction  (N, K): model outputs, probabilities or logits depending on the loss.
//   target      (N) class indices stored as T (sparse losses), or (N, K) (one-hot, regression).
//
// compute() returns the mean of the per-sample losses over the batch (Keras's
// "sum_over_batch_size" reduction) and, when asked, its gradient dL/dprediction.
#pragma once

#include <memory>
#include <string>

#include "minicnn/config.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

template <typename T>
class Loss {
 public:
  virtual ~Loss() = default;

  // The loss's type as Keras names it, e.g. "SparseCategoricalCrossentropy".
  virtual std::string kind() const = 0;
  virtual Config config() const = 0;

  // Mean loss over the batch; writes dL/dprediction into *gradient when it is not null.
  virtual T compute(const Tensor<T>& prediction, const Tensor<T>& target,
                    Tensor<T>* gradient) const = 0;

  // One loss per sample: losses becomes (N).
  virtual void per_sample(const Tensor<T>& prediction, const Tensor<T>& target,
                          Tensor<T>& losses) const = 0;

  // For a cross-entropy that takes probabilities: the same loss computed from logits. A model
  // whose last layer is Softmax uses it on the Softmax's input, which is exact where the
  // probability path would lose precision (log of a probability that rounded to 0). nullptr for
  // losses without such an equivalent.
  virtual std::unique_ptr<Loss<T>> on_logits() const { return nullptr; }
};

}  // namespace minicnn
