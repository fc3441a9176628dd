// MeanSquaredError: the mean of the squared differences, for regression, as Keras defines it.
//
//   prediction, target  (N, K): same shape, any K (or any (N, ...): a sample is all its values)
//   loss_n = sum_k (p_nk - t_nk)^2 / K                 (mean over the values of one sample)
//   L      = mean_n loss_n = sum_nk (p_nk - t_nk)^2 / (N K)
//   dL/dp  = 2 (p - t) / (N K)
#pragma once

#include <memory>

#include "minicnn/error.hpp"
#include "minicnn/loss.hpp"

namespace minicnn {

template <typename T>
class MeanSquaredError : public Loss<T> {
 public:
  MeanSquaredError() = default;

  static std::unique_ptr<Loss<T>> from_config(const Config&) {
    return std::make_unique<MeanSquaredError>();
  }

  std::string kind() const override { return "MeanSquaredError"; }
  Config config() const override { return Config(); }

  // L = sum (p - t)^2 / (N K), dL/dp = 2 (p - t) / (N K)        p, t, dL/dp: (N, K)
  T compute(const Tensor<T>& prediction, const Tensor<T>& target,
            Tensor<T>* gradient) const override {
    check(prediction, target);
    const auto p = prediction.vector();  // maps of all N K values
    const auto t = target.vector();
    const T count = static_cast<T>(prediction.size());
    if (gradient != nullptr) {
      gradient->resize(prediction.shape());
      gradient->vector() = (p - t) * (T(2) / count);
    }
    return (p - t).squaredNorm() / count;
  }

  // losses (N): loss_n = sum_k (p_nk - t_nk)^2 / K.
  void per_sample(const Tensor<T>& prediction, const Tensor<T>& target,
                  Tensor<T>& losses) const override {
    check(prediction, target);
    const auto p = prediction.matrix();  // (N, K)
    const auto t = target.matrix();
    losses.resize({p.rows()});
    losses.vector() = (p - t).rowwise().squaredNorm() / static_cast<T>(p.cols());
  }

 private:
  void check(const Tensor<T>& prediction, const Tensor<T>& target) const {
    if (prediction.rank() < 1 || prediction.empty())
      fail(kind(), ": expected a non-empty prediction of shape (N, ...), got ", prediction.shape());
    if (target.shape() != prediction.shape())
      fail(kind(), ": expected target of shape ", prediction.shape(), ", like the prediction, got ",
           target.shape());
  }
};

}  // namespace minicnn
