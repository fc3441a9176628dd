// Adam (Kingma & Ba, 2015) in Keras's formulation.
//
// With g the gradient of a trainable parameter w, its slots m ("m/<i>") and v ("v/<i>"), and
// t = iterations() + 1 the number of this step:
//
//   m = beta_1 m + (1 - beta_1) g
//   v = beta_2 v + (1 - beta_2) g^2
//   alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)        the bias corrections, folded into lr
//   w -= alpha m / (sqrt(v) + epsilon)
//
// PyTorch corrects m and v themselves and adds epsilon after the correction:
// w -= lr m_hat / (sqrt(v_hat) + epsilon) with m_hat = m / (1 - beta_1^t),
// v_hat = v / (1 - beta_2^t). Keras's form is the same with epsilon / sqrt(1 - beta_2^t) in place
// of epsilon ("epsilon hat" in the paper): 31.6 epsilon at t = 1, tending to epsilon as t grows.
// The steps differ by a relative epsilon (1 / sqrt(1 - beta_2^t) - 1) / sqrt(v_hat): about
// 3e-6 / |g| at t = 1 with epsilon = 1e-7, negligible for gradients far above epsilon, not for
// tiny ones. PyTorch's default epsilon is 1e-8, Keras's (ours) 1e-7.
#pragma once

#include <cmath>
#include <memory>

#include "minicnn/optimizer.hpp"
#include "minicnn/optimizers/slot_table.hpp"

namespace minicnn {

template <typename T>
class Adam : public Optimizer<T> {
 public:
  explicit Adam(double learning_rate = 0.001, double beta_1 = 0.9, double beta_2 = 0.999,
                double epsilon = 1e-7)
      : Optimizer<T>(learning_rate),
        initial_learning_rate_(learning_rate),
        beta_1_(beta_1),
        beta_2_(beta_2),
        epsilon_(epsilon),
        slots_({"m", "v"}) {
    if (!(learning_rate > 0)) fail("Adam: expected learning_rate > 0, got ", learning_rate);
    if (!(beta_1 >= 0 && beta_1 < 1)) fail("Adam: expected beta_1 in [0, 1), got ", beta_1);
    if (!(beta_2 >= 0 && beta_2 < 1)) fail("Adam: expected beta_2 in [0, 1), got ", beta_2);
    if (!(epsilon > 0)) fail("Adam: expected epsilon > 0, got ", epsilon);
  }

  static std::unique_ptr<Optimizer<T>> from_config(const Config& config) {
    return std::make_unique<Adam>(config.get_double("learning_rate"), config.get_double("beta_1"),
                                  config.get_double("beta_2"), config.get_double("epsilon"));
  }

  std::string kind() const override { return "Adam"; }
  // The constructor arguments; the current learning rate is learning_rate().
  Config config() const override {
    return Config()
        .set("learning_rate", initial_learning_rate_)
        .set("beta_1", beta_1_)
        .set("beta_2", beta_2_)
        .set("epsilon", epsilon_);
  }

  void prepare(const std::vector<Parameter<T>*>& parameters) override {
    slots_.prepare(parameters, *this);
  }

  // For each trainable w with gradient g (element-wise), at step t = iterations() + 1:
  //   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
  //   w -= alpha m / (sqrt(v) + epsilon),  alpha = lr sqrt(1 - b2^t) / (1 - b1^t).
  void step(const std::vector<Parameter<T>*>& parameters) override {
    prepare(parameters);
    const double t = static_cast<double>(this->iterations() + 1);
    const T alpha = static_cast<T>(this->learning_rate() * std::sqrt(1 - std::pow(beta_2_, t)) /
                                   (1 - std::pow(beta_1_, t)));
    const T beta_1 = static_cast<T>(beta_1_);
    const T beta_2 = static_cast<T>(beta_2_);
    const T epsilon = static_cast<T>(epsilon_);
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      Parameter<T>& p = *parameters[i];
      if (!p.trainable) continue;
      auto w = p.value.vector().array();  // Eigen views of the storage, not copies
      const auto g = p.grad.vector().array();
      auto m = slots_.slot(i, 0).vector().array();
      auto v = slots_.slot(i, 1).vector().array();
      m = beta_1 * m + (1 - beta_1) * g;
      v = beta_2 * v + (1 - beta_2) * g.square();
      w -= alpha * m / (v.sqrt() + epsilon);
    }
    this->set_iterations(this->iterations() + 1);
  }

  // "m/<i>" and "v/<i>" for each trainable parameter i.
  std::vector<std::pair<std::string, Tensor<T>*>> slots() override { return slots_.named(); }

 private:
  double initial_learning_rate_;
  double beta_1_;
  double beta_2_;
  double epsilon_;
  detail::SlotTable<T> slots_;
};

}  // namespace minicnn
