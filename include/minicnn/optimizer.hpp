// Optimizer<T>: the contract every optimizer implements.
//
// The gradient contract (see parameter.hpp): backward() adds into Parameter::grad; zero_grad()
// clears the grads; step() updates every trainable parameter from its grad. A training step is
// therefore zero_grad -> forward -> backward -> step.
//
// An optimizer keeps per-parameter state ("slots": momentum, first and second moments), created
// by prepare() (step() calls it on first use) for the parameters it is given, in their order.
// Later calls must pass the same parameters in the same order; a different count or shape is an
// Error naming the parameter.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "minicnn/config.hpp"
#include "minicnn/parameter.hpp"

namespace minicnn {

template <typename T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // The optimizer's type as Keras names it: "SGD", "Adam", "RMSprop".
  virtual std::string kind() const = 0;
  virtual Config config() const = 0;

  // Creates the slots for these parameters (zero-filled) if they do not exist yet, and checks
  // that existing slots match them. A checkpoint loader calls it before filling slots().
  virtual void prepare(const std::vector<Parameter<T>*>& parameters) = 0;

  // Applies one update to every trainable parameter and counts one iteration.
  virtual void step(const std::vector<Parameter<T>*>& parameters) = 0;

  // Sets every trainable parameter's gradient to zero.
  static void zero_grad(const std::vector<Parameter<T>*>& parameters) {
    for (Parameter<T>* p : parameters)
      if (p->trainable) p->grad.set_zero();
  }

  // The learning rate; schedules and callbacks change it between steps.
  double learning_rate() const { return learning_rate_; }
  void set_learning_rate(double learning_rate) { learning_rate_ = learning_rate; }

  // Number of step() calls so far (Adam's t).
  Index iterations() const { return iterations_; }
  void set_iterations(Index iterations) { iterations_ = iterations; }

  // The slots, named "<slot>/<parameter position>" (e.g. "m/0", "v/0"), for checkpoints: a
  // checkpoint saves and restores these tensors and iterations() to resume training exactly.
  virtual std::vector<std::pair<std::string, Tensor<T>*>> slots() = 0;

 protected:
  explicit Optimizer(double learning_rate) : learning_rate_(learning_rate) {}

 private:
  double learning_rate_;
  Index iterations_ = 0;
};

}  // namespace minicnn
