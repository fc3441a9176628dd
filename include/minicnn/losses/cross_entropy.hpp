// Cross-entropy losses for classification, as Keras defines them.
//
//   CategoricalCrossentropy        target (N, K): one-hot rows or any distributions.
//   SparseCategoricalCrossentropy  target (N): the class index of each sample, stored as T;
//                                  the same loss as a one-hot target with a 1 at that index.
//
// prediction (N, K) holds probabilities (from_logits = false, after a Softmax) or logits z
// (from_logits = true). Both return the mean over the batch of the per-sample losses
//
//   from logits:         loss_n = sum_k t_nk (logsumexp(z_n) - z_nk)
//                               = logsumexp(z_n) - sum_k t_nk z_nk        (rows of t sum to 1)
//                        dL/dz_nk = (softmax(z_n)_k sum_j t_nj - t_nk) / N
//   from probabilities:  loss_n = -sum_k t_nk log(max(p_nk, 1e-7))
//                        dL/dp_nk = -t_nk / p_nk / N  where p_nk >= 1e-7, 0 where it is clipped
//
// logsumexp(z) = m + log(sum_k exp(z_k - m)) with m = max_k z_k: every exponent is <= 0, so
// nothing overflows, and the loss stays exact for logits of +-1000. The probability path clips
// at Keras's epsilon 1e-7 so that a probability that rounded to 0 costs -log(1e-7) = 16.1
// instead of infinity. Keras also rescales each row of p to sum 1 and clips at 1 - 1e-7; we
// leave p as it is (a Softmax output already sums to 1), so the gradient is exactly the
// derivative of the loss.
//
// A model that ends with Softmax should not use the probability path at all: on_logits() gives
// the equivalent loss on the Softmax's input, which Sequential fuses (see loss.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>

#include "minicnn/error.hpp"
#include "minicnn/loss.hpp"

namespace minicnn {

namespace detail {

// The clipping floor of the probability path (Keras's backend epsilon).
template <typename T>
inline constexpr T kProbabilityEpsilon = T(1e-7);

// Throws unless prediction is (N, K) with N, K >= 1; `loss` names the loss in the message.
template <typename T>
void check_class_scores(const Loss<T>& loss, const Tensor<T>& prediction) {
  if (prediction.rank() != 2 || prediction.dim(0) < 1 || prediction.dim(1) < 1)
    fail(loss.kind(), ": expected a prediction of shape (N, K) with N, K >= 1, got ",
         prediction.shape());
}

}  // namespace detail

// What both cross-entropies share: the from_logits switch, the batch mean, per-sample losses and
// the logits equivalent. Derived supplies kind(), check(prediction, target) and
// sample_loss(prediction, target, n, gradient, scale).
template <typename T, typename Derived>
class CrossEntropy : public Loss<T> {
 public:
  explicit CrossEntropy(bool from_logits) : from_logits_(from_logits) {}

  static std::unique_ptr<Loss<T>> from_config(const Config& config) {
    return std::make_unique<Derived>(config.get_bool("from_logits"));
  }

  Config config() const override { return Config().set("from_logits", from_logits_); }
  bool from_logits() const { return from_logits_; }

  // L = mean_n loss_n; dL/dprediction = (d loss_n / d prediction_n) / N, row by row.
  T compute(const Tensor<T>& prediction, const Tensor<T>& target,
            Tensor<T>* gradient) const override {
    derived().check(prediction, target);
    const Index batch = prediction.dim(0);
    if (gradient != nullptr) gradient->resize(prediction.shape());
    const T scale = T(1) / static_cast<T>(batch);
    double total = 0.0;  // summed in double: a float batch sum would lose the small losses
    for (Index n = 0; n < batch; ++n)
      total += derived().sample_loss(prediction, target, n,
                                     gradient == nullptr ? nullptr : gradient->data(), scale);
    return static_cast<T>(total / static_cast<double>(batch));
  }

  // losses (N): loss_n for each sample.
  void per_sample(const Tensor<T>& prediction, const Tensor<T>& target,
                  Tensor<T>& losses) const override {
    derived().check(prediction, target);
    const Index batch = prediction.dim(0);
    losses.resize({batch});
    for (Index n = 0; n < batch; ++n)
      losses[n] = derived().sample_loss(prediction, target, n, nullptr, T(0));
  }

  // The probability path's equivalent on logits; nullptr when this loss already takes logits.
  std::unique_ptr<Loss<T>> on_logits() const override {
    if (from_logits_) return nullptr;
    return std::make_unique<Derived>(true);
  }

 protected:
  bool from_logits_;

 private:
  const Derived& derived() const { return static_cast<const Derived&>(*this); }
};

template <typename T>
class CategoricalCrossentropy : public CrossEntropy<T, CategoricalCrossentropy<T>> {
 public:
  explicit CategoricalCrossentropy(bool from_logits = false)
      : CrossEntropy<T, CategoricalCrossentropy>(from_logits) {}

  std::string kind() const override { return "CategoricalCrossentropy"; }

 private:
  friend class CrossEntropy<T, CategoricalCrossentropy>;
  using CrossEntropy<T, CategoricalCrossentropy>::from_logits_;

  void check(const Tensor<T>& prediction, const Tensor<T>& target) const {
    detail::check_class_scores(*this, prediction);
    if (target.shape() != prediction.shape())
      fail(kind(), ": expected target of shape ", prediction.shape(), ", like the prediction, got ",
           target.shape());
  }

  // loss_n of sample n; when gradient is not null, also writes row n of dL/dprediction, using
  // scale = 1/N for the mean over the batch:
  //   L = mean_n loss_n                      prediction, target, *gradient: (N, K)
  //   logits z:         loss_n = sum_k t_nk (logsumexp(z_n) - z_nk)
  //                     dL/dz_nk = (softmax(z_n)_k sum_j t_nj - t_nk) / N
  //   probabilities p:  loss_n = -sum_k t_nk log(max(p_nk, 1e-7))
  //                     dL/dp_nk = -t_nk / p_nk / N, or 0 where p_nk < 1e-7
  T sample_loss(const Tensor<T>& prediction, const Tensor<T>& target, Index n, T* gradient,
                T scale) const {
    const Index classes = prediction.dim(1);
    const ConstVectorMap<T> x(prediction.data() + n * classes, classes);  // z or p, (K)
    const ConstVectorMap<T> t(target.data() + n * classes, classes);      // (K)
    if (from_logits_) {
      // sum_k t_k (logsumexp(z) - z_k) = (sum_k t_k) log(s) + sum_k t_k (m - z_k),
      // with m = max z and s = sum_k exp(z_k - m) in [1, K].
      const T m = x.maxCoeff();
      const T s = (x.array() - m).exp().sum();
      const T t_sum = t.sum();
      if (gradient != nullptr) {
        VectorMap<T> g(gradient + n * classes, classes);
        g.array() = (t_sum / s * (x.array() - m).exp() - t.array()) * scale;
      }
      return t_sum * std::log(s) + (t.array() * (m - x.array())).sum();
    }
    const T epsilon = detail::kProbabilityEpsilon<T>;
    if (gradient != nullptr) {
      VectorMap<T> g(gradient + n * classes, classes);
      g.array() = (x.array() >= epsilon).select(-t.array() / x.array() * scale, T(0));
    }
    return -(t.array() * x.array().max(epsilon).log()).sum();
  }
};

template <typename T>
class SparseCategoricalCrossentropy : public CrossEntropy<T, SparseCategoricalCrossentropy<T>> {
 public:
  explicit SparseCategoricalCrossentropy(bool from_logits = false)
      : CrossEntropy<T, SparseCategoricalCrossentropy>(from_logits) {}

  std::string kind() const override { return "SparseCategoricalCrossentropy"; }

 private:
  friend class CrossEntropy<T, SparseCategoricalCrossentropy>;
  using CrossEntropy<T, SparseCategoricalCrossentropy>::from_logits_;

  // Also checks every label, so that sample_loss() may index with it.
  void check(const Tensor<T>& prediction, const Tensor<T>& target) const {
    detail::check_class_scores(*this, prediction);
    const Index batch = prediction.dim(0);
    const Index classes = prediction.dim(1);
    if (target.shape() != Shape{batch})
      fail(kind(), ": expected target of shape (", batch, "), one class index per sample, got ",
           target.shape());
    for (Index n = 0; n < batch; ++n) {
      const T label = target[n];
      // Written so that NaN fails too.
      if (!(label >= T(0) && label < static_cast<T>(classes) && label == std::floor(label)))
        fail(kind(), ": sample ", n, ": expected a class index in [0, ", classes, "), got ", label);
    }
  }

  // loss_n of sample n; when gradient is not null, also writes row n of dL/dprediction, using
  // scale = 1/N for the mean over the batch:
  //   L = mean_n loss_n      prediction, *gradient: (N, K); target (N), class indices y_n
  //   logits z:         loss_n = logsumexp(z_n) - z_n,y_n
  //                     dL/dz_n = (softmax(z_n) - onehot(y_n)) / N
  //   probabilities p:  loss_n = -log(max(p_n,y_n, 1e-7))
  //                     dL/dp_n,y_n = -1 / p_n,y_n / N (0 where clipped), 0 for the other classes
  T sample_loss(const Tensor<T>& prediction, const Tensor<T>& target, Index n, T* gradient,
                T scale) const {
    const Index classes = prediction.dim(1);
    const Index label = static_cast<Index>(target[n]);
    const ConstVectorMap<T> x(prediction.data() + n * classes, classes);  // z or p, (K)
    if (from_logits_) {
      // logsumexp(z) - z_y = log(s) + (m - z_y), with m = max z and s = sum_k exp(z_k - m).
      const T m = x.maxCoeff();
      const T s = (x.array() - m).exp().sum();
      if (gradient != nullptr) {
        VectorMap<T> g(gradient + n * classes, classes);
        g.array() = (x.array() - m).exp() * (scale / s);
        g[label] -= scale;
      }
      return std::log(s) + (m - x[label]);
    }
    const T epsilon = detail::kProbabilityEpsilon<T>;
    const T p = x[label];
    if (gradient != nullptr) {
      VectorMap<T> g(gradient + n * classes, classes);
      g.setZero();
      if (p >= epsilon) g[label] = -scale / p;
    }
    return -std::log(std::max(p, epsilon));
  }
};

}  // namespace minicnn
