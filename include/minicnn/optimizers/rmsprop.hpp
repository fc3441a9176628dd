// RMSprop (Hinton, 2012): each weight's step is divided by a running root mean square of its
// gradients.
//
// With g the gradient of a trainable parameter w, its slots v ("v/<i>") and, when momentum > 0,
// mom ("momentum/<i>"):
//
//   v = rho v + (1 - rho) g^2
//   momentum = 0:  w -= lr g / (sqrt(v) + epsilon)
//   momentum > 0:  mom = momentum mom + lr g / (sqrt(v) + epsilon)
//                  w -= mom
//
// Keras's defaults (lr 1e-3, rho 0.9, epsilon 1e-7), with epsilon added after the square root as
// PyTorch does. Keras adds it under the root, sqrt(v + epsilon): its steps are smaller by a
// relative epsilon / (2 v) or so, 0.05 % for gradients of 0.01 but 5 % for gradients of 0.001
// (docs/optimizers.md). PyTorch's defaults differ: lr 1e-2, alpha (our rho) 0.99, eps 1e-8. Its
// momentum buffer holds g / (sqrt(v) + eps) without lr, the same steps while lr is constant.
#pragma once

#include <memory>

#include "minicnn/optimizer.hpp"
#include "minicnn/optimizers/slot_table.hpp"

namespace minicnn {

template <typename T>
class RMSprop : public Optimizer<T> {
 public:
  explicit RMSprop(double learning_rate = 0.001, double rho = 0.9, double momentum = 0.0,
                   double epsilon = 1e-7)
      : Optimizer<T>(learning_rate),
        initial_learning_rate_(learning_rate),
        rho_(rho),
        momentum_(momentum),
        epsilon_(epsilon),
        slots_(momentum > 0 ? std::vector<std::string>{"v", "momentum"}
                            : std::vector<std::string>{"v"}) {
    if (!(learning_rate > 0)) fail("RMSprop: expected learning_rate > 0, got ", learning_rate);
    if (!(rho >= 0 && rho < 1)) fail("RMSprop: expected rho in [0, 1), got ", rho);
    if (!(momentum >= 0 && momentum < 1))
      fail("RMSprop: expected momentum in [0, 1), got ", momentum);
    if (!(epsilon > 0)) fail("RMSprop: expected epsilon > 0, got ", epsilon);
  }

  static std::unique_ptr<Optimizer<T>> from_config(const Config& config) {
    return std::make_unique<RMSprop>(config.get_double("learning_rate"), config.get_double("rho"),
                                     config.get_double("momentum"), config.get_double("epsilon"));
  }

  std::string kind() const override { return "RMSprop"; }
  // The constructor arguments; the current learning rate is learning_rate().
  Config config() const override {
    return Config()
        .set("learning_rate", initial_learning_rate_)
        .set("rho", rho_)
        .set("momentum", momentum_)
        .set("epsilon", epsilon_);
  }

  void prepare(const std::vector<Parameter<T>*>& parameters) override {
    slots_.prepare(parameters, *this);
  }

  // For each trainable w with gradient g (element-wise):
  //   v = rho v + (1 - rho) g^2;  w -= lr g / (sqrt(v) + epsilon)   when momentum = 0, else
  //   mom = momentum mom + lr g / (sqrt(v) + epsilon);  w -= mom.
  void step(const std::vector<Parameter<T>*>& parameters) override {
    prepare(parameters);
    const T lr = static_cast<T>(this->learning_rate());
    const T rho = static_cast<T>(rho_);
    const T momentum = static_cast<T>(momentum_);
    const T epsilon = static_cast<T>(epsilon_);
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      Parameter<T>& p = *parameters[i];
      if (!p.trainable) continue;
      auto w = p.value.vector().array();  // Eigen views of the storage, not copies
      const auto g = p.grad.vector().array();
      auto v = slots_.slot(i, 0).vector().array();
      v = rho * v + (1 - rho) * g.square();
      if (momentum_ == 0) {
        w -= lr * g / (v.sqrt() + epsilon);
        continue;
      }
      auto mom = slots_.slot(i, 1).vector().array();
      mom = momentum * mom + lr * g / (v.sqrt() + epsilon);
      w -= mom;
    }
    this->set_iterations(this->iterations() + 1);
  }

  // "v/<i>" (and "momentum/<i>" when momentum > 0) for each trainable parameter i.
  std::vector<std::pair<std::string, Tensor<T>*>> slots() override { return slots_.named(); }

 private:
  double initial_learning_rate_;
  double rho_;
  double momentum_;
  double epsilon_;
  detail::SlotTable<T> slots_;
};

}  // namespace minicnn
