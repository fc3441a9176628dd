// SGD: stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.
//
// With g the gradient of a trainable parameter w and v its velocity slot ("velocity/<i>"):
//
//   g' = g + weight_decay w                  weight decay coupled to the gradient (PyTorch's)
//   momentum = 0:  w -= lr g'                (no slot)
//   momentum > 0:  v = momentum v + g'
//                  w -= lr v                 (plain)
//                  w -= lr (g' + momentum v) (nesterov, with the new v)
//
// This is PyTorch's form. Keras keeps v' = momentum v' - lr g and adds it to w: v' = -lr v, so
// both give the same steps while lr is constant (they differ only when a schedule changes lr,
// since PyTorch's v has not yet been multiplied by lr). Keras's weight_decay is decoupled
// (w -= lr wd w beside the step, untouched by momentum); ours goes through the momentum, as
// PyTorch's SGD does.
#pragma once

#include <memory>

#include "minicnn/optimizer.hpp"
#include "minicnn/optimizers/slot_table.hpp"

namespace minicnn {

template <typename T>
class SGD : public Optimizer<T> {
 public:
  explicit SGD(double learning_rate = 0.01, double momentum = 0.0, bool nesterov = false,
               double weight_decay = 0.0)
      : Optimizer<T>(learning_rate),
        initial_learning_rate_(learning_rate),
        momentum_(momentum),
        nesterov_(nesterov),
        weight_decay_(weight_decay),
        slots_(momentum > 0 ? std::vector<std::string>{"velocity"} : std::vector<std::string>{}) {
    if (!(learning_rate > 0)) fail("SGD: expected learning_rate > 0, got ", learning_rate);
    if (!(momentum >= 0 && momentum < 1)) fail("SGD: expected momentum in [0, 1), got ", momentum);
    if (nesterov && momentum == 0)
      fail("SGD: nesterov needs momentum > 0, got momentum ", momentum);
    if (!(weight_decay >= 0)) fail("SGD: expected weight_decay >= 0, got ", weight_decay);
  }

  static std::unique_ptr<Optimizer<T>> from_config(const Config& config) {
    return std::make_unique<SGD>(config.get_double("learning_rate"), config.get_double("momentum"),
                                 config.get_bool("nesterov"), config.get_double("weight_decay"));
  }

  std::string kind() const override { return "SGD"; }
  // The constructor arguments; the current learning rate is learning_rate().
  Config config() const override {
    return Config()
        .set("learning_rate", initial_learning_rate_)
        .set("momentum", momentum_)
        .set("nesterov", nesterov_)
        .set("weight_decay", weight_decay_);
  }

  void prepare(const std::vector<Parameter<T>*>& parameters) override {
    slots_.prepare(parameters, *this);
  }

  // For each trainable w with gradient g (element-wise; v is w's velocity slot):
  //   g' = g + weight_decay w;  v = momentum v + g';  w -= lr v   or   w -= lr (g' + momentum v)
  //   (nesterov);  w -= lr g' when momentum = 0.
  void step(const std::vector<Parameter<T>*>& parameters) override {
    prepare(parameters);
    const T lr = static_cast<T>(this->learning_rate());
    const T momentum = static_cast<T>(momentum_);
    const T decay = static_cast<T>(weight_decay_);
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      Parameter<T>& p = *parameters[i];
      if (!p.trainable) continue;
      auto w = p.value.vector().array();  // Eigen views of the storage, not copies
      const auto g = p.grad.vector().array();
      if (momentum_ == 0) {
        w -= lr * (g + decay * w);
        continue;
      }
      auto v = slots_.slot(i, 0).vector().array();
      v = momentum * v + (g + decay * w);
      if (nesterov_)
        w -= lr * ((g + decay * w) + momentum * v);
      else
        w -= lr * v;
    }
    this->set_iterations(this->iterations() + 1);
  }

  // "velocity/<i>" for each trainable parameter i when momentum > 0; nothing otherwise.
  std::vector<std::pair<std::string, Tensor<T>*>> slots() override { return slots_.named(); }

 private:
  double initial_learning_rate_;
  double momentum_;
  bool nesterov_;
  double weight_decay_;
  detail::SlotTable<T> slots_;
};

}  // namespace minicnn
