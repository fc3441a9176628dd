// Specification of the optimizers SGD, Adam and RMSprop: their update rules step by step, their
// slots (checkpoints resume exactly) and their refusals.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>

#include "minicnn/optimizers/adam.hpp"
#include "minicnn/optimizers/rmsprop.hpp"
#include "minicnn/optimizers/sgd.hpp"

using namespace minicnn;

namespace {

// The test problem: minimise L(x, y) = x^2 + 3 y^2 from x = y = 1, so dL/dx = 2x, dL/dy = 6y.
// Between x and y sits a non-trainable parameter (as BatchNorm's moving statistics sit between
// trainable ones): every optimizer must leave it alone.
struct Problem {
  Parameter<double> x{"x", {1}};
  Parameter<double> frozen{"moving_mean", {2}, false};
  Parameter<double> y{"y", {1}};

  Problem() {
    x.value[0] = 1;
    y.value[0] = 1;
    frozen.value = Tensor<double>::of({2}, {0.25, -4});
  }
  std::vector<Parameter<double>*> parameters() { return {&x, &frozen, &y}; }

  // zero_grad -> "backward" -> step, as a training loop does.
  void train(Optimizer<double>& optimizer, int steps) {
    for (int s = 0; s < steps; ++s) {
      Optimizer<double>::zero_grad(parameters());
      x.grad[0] += 2 * x.value[0];
      y.grad[0] += 6 * y.value[0];
      optimizer.step(parameters());
    }
  }
};

}  // namespace

TEST_CASE("SGD without momentum steps w -= lr g") {
  // lr 0.1: x -= 0.1 * 2x = 0.8 x and y -= 0.1 * 6y = 0.4 y at every step.
  Problem problem;
  SGD<double> sgd(0.1);
  problem.train(sgd, 3);
  CHECK(problem.x.value[0] == doctest::Approx(0.512));  // 0.8^3
  CHECK(problem.y.value[0] == doctest::Approx(0.064));  // 0.4^3
  CHECK(sgd.iterations() == 3);
  CHECK(sgd.slots().empty());  // no momentum, no state
}

TEST_CASE("SGD with momentum steps v = m v + g, w -= lr v") {
  // lr 0.1, momentum 0.9.
  //   step 1: g = (2, 6)          v = (2, 6)                          x = 0.8,  y = 0.4
  //   step 2: g = (1.6, 2.4)      v = (1.8 + 1.6, 5.4 + 2.4)
  //                                 = (3.4, 7.8)                      x = 0.46, y = -0.38
  //   step 3: g = (0.92, -2.28)   v = (3.06 + 0.92, 7.02 - 2.28)
  //                                 = (3.98, 4.74)                    x = 0.062, y = -0.854
  Problem problem;
  SGD<double> sgd(0.1, 0.9);
  problem.train(sgd, 3);
  CHECK(problem.x.value[0] == doctest::Approx(0.062));
  CHECK(problem.y.value[0] == doctest::Approx(-0.854));
  const auto slots = sgd.slots();
  REQUIRE(slots.size() == 2);
  CHECK(slots[0].first == "velocity/0");
  CHECK((*slots[0].second)[0] == doctest::Approx(3.98));
  CHECK(slots[1].first == "velocity/2");
  CHECK((*slots[1].second)[0] == doctest::Approx(4.74));
}

TEST_CASE("SGD with Nesterov momentum steps w -= lr (g + m v), looking one velocity ahead") {
  // lr 0.1, momentum 0.9.
  //   step 1: g = (2, 6)                 v = (2, 6)
  //           x = 1 - 0.1 (2 + 1.8) = 0.62                y = 1 - 0.1 (6 + 5.4) = -0.14
  //   step 2: g = (1.24, -0.84)          v = (1.8 + 1.24, 5.4 - 0.84) = (3.04, 4.56)
  //           x = 0.62 - 0.1 (1.24 + 2.736) = 0.2224      y = -0.14 - 0.1 (-0.84 + 4.104)
  //                                                         = -0.4664
  //   step 3: g = (0.4448, -2.7984)      v = (2.736 + 0.4448, 4.104 - 2.7984) = (3.1808, 1.3056)
  //           x = 0.2224 - 0.1 (0.4448 + 2.86272) = -0.108352
  //           y = -0.4664 - 0.1 (-2.7984 + 1.17504) = -0.304064
  Problem problem;
  SGD<double> sgd(0.1, 0.9, true);
  problem.train(sgd, 1);
  // One step from rest moves (1 + momentum) times as far as plain momentum does.
  CHECK(1 - problem.x.value[0] == doctest::Approx(1.9 * 0.1 * 2));
  problem.train(sgd, 2);
  CHECK(problem.x.value[0] == doctest::Approx(-0.108352));
  CHECK(problem.y.value[0] == doctest::Approx(-0.304064));
}

TEST_CASE("SGD weight decay is added to the gradient and goes through the momentum") {
  // Zero gradients isolate the decay: g' = 0 + 0.5 w.
  // Without momentum, w -= 0.1 * 0.5 w shrinks w by 0.95 per step: 0.95^3 = 0.857375.
  // With momentum 0.9:  v = 0.5,                    w = 1 - 0.05 = 0.95
  //                     v = 0.45 + 0.475 = 0.925,   w = 0.95 - 0.0925 = 0.8575
  //                     v = 0.8325 + 0.42875
  //                       = 1.26125,                w = 0.8575 - 0.126125 = 0.731375
  for (double momentum : {0.0, 0.9}) {
    CAPTURE(momentum);
    Parameter<double> w("kernel", {2});
    w.value.fill(1.0);
    SGD<double> sgd(0.1, momentum, false, 0.5);
    for (int s = 0; s < 3; ++s) {
      Optimizer<double>::zero_grad({&w});
      sgd.step({&w});
    }
    const double expected = momentum == 0 ? 0.857375 : 0.731375;
    CHECK(w.value[0] == doctest::Approx(expected));
    CHECK(w.value[1] == doctest::Approx(expected));
  }
}

TEST_CASE("Adam follows Keras's formula step by step") {
  // lr 0.1, beta_1 0.9, beta_2 0.999, epsilon 1e-7.
  // Step 1 by hand for x: g = 2, m = 0.1 * 2 = 0.2, v = 0.001 * 4 = 0.004,
  //   alpha = 0.1 sqrt(1 - 0.999) / (1 - 0.9) = sqrt(0.001),
  //   x = 1 - sqrt(0.001) 0.2 / (sqrt(0.004) + 1e-7) = 1 - 0.1 sqrt(0.004) / (sqrt(0.004) + 1e-7)
  // (about 0.9 + 1.6e-7: Adam's first step is lr in the direction of -g, whatever |g|).
  Problem problem;
  Adam<double> adam(0.1);
  problem.train(adam, 1);
  CHECK(problem.x.value[0] ==
        doctest::Approx(1 - 0.1 * std::sqrt(0.004) / (std::sqrt(0.004) + 1e-7)).epsilon(1e-14));

  // Steps 2 and 3, written out as scalars for both weights.
  double w[2] = {1, 1}, m[2] = {0, 0}, v[2] = {0, 0};
  const double curvature[2] = {2, 6};  // g = curvature * w
  for (int t = 1; t <= 3; ++t) {
    const double alpha = 0.1 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (int i = 0; i < 2; ++i) {
      const double g = curvature[i] * w[i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      w[i] -= alpha * m[i] / (std::sqrt(v[i]) + 1e-7);
    }
  }
  problem.train(adam, 2);
  CHECK(adam.iterations() == 3);
  CHECK(problem.x.value[0] == doctest::Approx(w[0]).epsilon(1e-14));
  CHECK(problem.y.value[0] == doctest::Approx(w[1]).epsilon(1e-14));
  const auto slots = adam.slots();
  REQUIRE(slots.size() == 4);
  CHECK(slots[0].first == "m/0");
  CHECK((*slots[0].second)[0] == doctest::Approx(m[0]).epsilon(1e-14));
  CHECK(slots[1].first == "v/0");
  CHECK((*slots[1].second)[0] == doctest::Approx(v[0]).epsilon(1e-14));
  CHECK(slots[2].first == "m/2");
  CHECK(slots[3].first == "v/2");
  CHECK((*slots[3].second)[0] == doctest::Approx(v[1]).epsilon(1e-14));
}

TEST_CASE("Adam's epsilon is PyTorch's epsilon divided by sqrt(1 - beta_2^t)") {
  // One step from rest with g = 1: m = 0.1, v = 0.001, m_hat = v_hat = 1. PyTorch moves
  // lr / (1 + eps); Keras moves alpha m / (sqrt(v) + eps) with alpha = lr sqrt(0.001) / 0.1,
  // that is lr sqrt(0.001) / (sqrt(0.001) + eps) = lr / (1 + eps / sqrt(0.001)).
  // With eps = 1e-7 the steps differ by a relative 1e-7 (1 / sqrt(0.001) - 1) = 3.06e-6.
  Parameter<double> w("kernel", {1});
  w.grad[0] = 1;
  Adam<double> adam(0.1);
  adam.step({&w});
  const double pytorch_step = 0.1 / (1 + 1e-7);
  const double relative = (pytorch_step - -w.value[0]) / pytorch_step;
  CHECK(relative == doctest::Approx(1e-7 * (1 / std::sqrt(0.001) - 1)).epsilon(1e-6));
  CHECK(-w.value[0] == doctest::Approx(0.1 / (1 + 1e-7 / std::sqrt(0.001))).epsilon(1e-14));
}

TEST_CASE("RMSprop divides by the running root mean square of the gradient") {
  // lr 0.1, rho 0.9, epsilon 1e-7. Step 1 by hand for x: g = 2, v = 0.1 * 4 = 0.4,
  //   x = 1 - 0.1 * 2 / (sqrt(0.4) + 1e-7) = 1 - 0.2 / 0.6324556 = 0.6837723.
  for (double momentum : {0.0, 0.5}) {
    CAPTURE(momentum);
    Problem problem;
    RMSprop<double> rmsprop(0.1, 0.9, momentum);
    problem.train(rmsprop, 1);
    CHECK(problem.x.value[0] == doctest::Approx(1 - 0.2 / (std::sqrt(0.4) + 1e-7)).epsilon(1e-14));

    // Steps 2 and 3, written out as scalars for both weights.
    double w[2] = {1, 1}, v[2] = {0, 0}, mom[2] = {0, 0};
    const double curvature[2] = {2, 6};  // g = curvature * w
    for (int t = 1; t <= 3; ++t)
      for (int i = 0; i < 2; ++i) {
        const double g = curvature[i] * w[i];
        v[i] = 0.9 * v[i] + 0.1 * g * g;
        mom[i] = momentum * mom[i] + 0.1 * g / (std::sqrt(v[i]) + 1e-7);
        w[i] -= mom[i];  // with momentum 0, mom is this step's lr g / (sqrt(v) + eps)
      }
    problem.train(rmsprop, 2);
    CHECK(problem.x.value[0] == doctest::Approx(w[0]).epsilon(1e-14));
    CHECK(problem.y.value[0] == doctest::Approx(w[1]).epsilon(1e-14));
    const auto slots = rmsprop.slots();
    if (momentum == 0) {
      REQUIRE(slots.size() == 2);
      CHECK(slots[0].first == "v/0");
      CHECK(slots[1].first == "v/2");
      CHECK((*slots[1].second)[0] == doctest::Approx(v[1]).epsilon(1e-14));
    } else {
      REQUIRE(slots.size() == 4);
      CHECK(slots[1].first == "momentum/0");
      CHECK((*slots[1].second)[0] == doctest::Approx(mom[0]).epsilon(1e-14));
      CHECK(slots[3].first == "momentum/2");
    }
  }
}

TEST_CASE("Optimizers leave non-trainable parameters alone") {
  const std::function<std::unique_ptr<Optimizer<double>>()> factories[] = {
      [] { return std::make_unique<SGD<double>>(0.1, 0.9, true, 0.1); },
      [] { return std::make_unique<Adam<double>>(0.1); },
      [] { return std::make_unique<RMSprop<double>>(0.1, 0.9, 0.5); },
  };
  for (const auto& make : factories) {
    auto optimizer = make();
    CAPTURE(optimizer->kind());
    Problem problem;
    problem.train(*optimizer, 3);
    CHECK(problem.frozen.value[0] == 0.25);
    CHECK(problem.frozen.value[1] == -4);
    CHECK(problem.frozen.grad.empty());
    for (const auto& [name, tensor] : optimizer->slots())
      CHECK(name.substr(name.find('/')) != "/1");  // no state for position 1
  }
}

TEST_CASE("Optimizers allocate their slots once, on the first step") {
  Problem problem;
  Adam<double> adam(0.1);
  CHECK(adam.slots().empty());  // nothing before the first prepare()
  problem.train(adam, 1);
  const auto first = adam.slots();
  problem.train(adam, 2);
  const auto later = adam.slots();
  REQUIRE(later.size() == first.size());
  for (std::size_t s = 0; s < first.size(); ++s) {
    CHECK(later[s].second == first[s].second);
    CHECK(later[s].second->data() == first[s].second->data());
  }
}

TEST_CASE("zero_grad clears the gradients of trainable parameters and nothing else") {
  Problem problem;
  problem.x.grad[0] = 3;
  problem.y.grad[0] = -2;
  Optimizer<double>::zero_grad(problem.parameters());
  CHECK(problem.x.grad[0] == 0);
  CHECK(problem.y.grad[0] == 0);
  CHECK(problem.x.value[0] == 1);
  CHECK(problem.frozen.value[1] == -4);
}

TEST_CASE("slots() and iterations() resume training exactly") {
  // A runs 3 steps. B runs 1 step; its weights, slots and iteration count are copied into a
  // fresh C, as a checkpoint would; C runs 2 steps and must land exactly where A did.
  const std::function<std::unique_ptr<Optimizer<double>>()> factories[] = {
      [] { return std::make_unique<SGD<double>>(0.1, 0.9, true, 0.01); },
      [] { return std::make_unique<Adam<double>>(0.1); },
      [] { return std::make_unique<RMSprop<double>>(0.1, 0.8, 0.5); },
  };
  for (const auto& make : factories) {
    auto a = make(), b = make(), c = make();
    CAPTURE(a->kind());
    Problem run_a, run_b, run_c;
    run_a.train(*a, 3);
    run_b.train(*b, 1);

    run_c.x.value = run_b.x.value;
    run_c.y.value = run_b.y.value;
    c->prepare(run_c.parameters());  // what a checkpoint loader does before filling the slots
    auto saved = b->slots();
    auto restored = c->slots();
    REQUIRE(restored.size() == saved.size());
    for (std::size_t s = 0; s < saved.size(); ++s) {
      REQUIRE(restored[s].first == saved[s].first);
      *restored[s].second = *saved[s].second;
    }
    c->set_iterations(b->iterations());
    run_c.train(*c, 2);

    CHECK(c->iterations() == 3);
    CHECK(run_c.x.value[0] == run_a.x.value[0]);
    CHECK(run_c.y.value[0] == run_a.y.value[0]);
    const auto final_a = a->slots(), final_c = c->slots();
    for (std::size_t s = 0; s < final_a.size(); ++s)
      CHECK((*final_c[s].second)[0] == (*final_a[s].second)[0]);
  }
}

TEST_CASE("Optimizers round-trip through their config, which keeps the initial learning rate") {
  SGD<float> sgd(0.05, 0.9, true, 1e-4);
  sgd.set_learning_rate(0.01);  // a schedule's change is state, not configuration
  CHECK(sgd.config().get_double("learning_rate") == 0.05);
  CHECK(SGD<float>::from_config(sgd.config())->config() == sgd.config());
  CHECK(sgd.config().get_bool("nesterov"));
  Adam<float> adam(0.002, 0.8, 0.99, 1e-6);
  CHECK(Adam<float>::from_config(adam.config())->config() == adam.config());
  CHECK(adam.config().get_double("beta_2") == 0.99);
  RMSprop<float> rmsprop(0.003, 0.95, 0.1, 1e-5);
  CHECK(RMSprop<float>::from_config(rmsprop.config())->config() == rmsprop.config());
  CHECK(rmsprop.config().get_double("rho") == 0.95);
  CHECK(sgd.kind() == "SGD");
  CHECK(adam.kind() == "Adam");
  CHECK(rmsprop.kind() == "RMSprop");
}

TEST_CASE("Optimizers work in float") {
  Parameter<float> w("kernel", {3});
  w.value.fill(1.0f);
  w.grad.fill(0.5f);
  SGD<float>(0.1, 0.9).step({&w});
  CHECK(w.value[0] == doctest::Approx(0.95f));
  Adam<float>(0.1).step({&w});
  CHECK(w.value[0] == doctest::Approx(0.85f).epsilon(1e-5));
  RMSprop<float>(0.1).step({&w});
  CHECK(w.value[0] == doctest::Approx(0.85f - 0.05f / std::sqrt(0.025f)).epsilon(1e-5));
}

TEST_CASE("Optimizers refuse bad arguments, naming themselves and the value") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(SGD<float>(0), "SGD: expected learning_rate > 0, got 0", Error);
  CHECK_THROWS_WITH_AS(SGD<float>{nan}, "SGD: expected learning_rate > 0, got nan", Error);
  CHECK_THROWS_WITH_AS(SGD<float>(0.1, 1), "SGD: expected momentum in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(SGD<float>(0.1, -0.5), "SGD: expected momentum in [0, 1), got -0.5", Error);
  CHECK_THROWS_WITH_AS(SGD<float>(0.1, 0, true), "SGD: nesterov needs momentum > 0, got momentum 0",
                       Error);
  CHECK_THROWS_WITH_AS(SGD<float>(0.1, 0, false, -1), "SGD: expected weight_decay >= 0, got -1",
                       Error);

  CHECK_THROWS_WITH_AS(Adam<float>(-0.001), "Adam: expected learning_rate > 0, got -0.001", Error);
  CHECK_THROWS_WITH_AS(Adam<float>(0.001, 1), "Adam: expected beta_1 in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(Adam<float>(0.001, 0.9, 1.5), "Adam: expected beta_2 in [0, 1), got 1.5",
                       Error);
  CHECK_THROWS_WITH_AS(Adam<float>(0.001, 0.9, 0.999, 0), "Adam: expected epsilon > 0, got 0",
                       Error);

  CHECK_THROWS_WITH_AS(RMSprop<float>(0), "RMSprop: expected learning_rate > 0, got 0", Error);
  CHECK_THROWS_WITH_AS(RMSprop<float>(0.001, 1), "RMSprop: expected rho in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(RMSprop<float>(0.001, 0.9, 2), "RMSprop: expected momentum in [0, 1), got 2",
                       Error);
  CHECK_THROWS_WITH_AS(RMSprop<float>(0.001, 0.9, 0, -1e-7),
                       "RMSprop: expected epsilon > 0, got -1e-07", Error);
}

TEST_CASE(
    "Optimizers refuse a parameter list that differs from the one their slots were made "
    "for") {
  Problem problem;
  Adam<double> adam;
  problem.train(adam, 1);

  CHECK_THROWS_WITH_AS(adam.step({&problem.x, &problem.frozen}),
                       "Adam: expected 3 parameters, as when its slots were made, got 2", Error);

  Parameter<double> wide("kernel", {2, 3});
  CHECK_THROWS_WITH_AS(adam.step({&problem.x, &problem.frozen, &wide}),
                       "Adam: parameter 2 ('kernel') has shape (2, 3), expected (1) as when its "
                       "slots were made",
                       Error);

  Parameter<double> moving("moving_variance", {1}, false);
  SGD<double> sgd;
  problem.train(sgd, 1);
  CHECK_THROWS_WITH_AS(sgd.prepare({&problem.x, &problem.frozen, &moving}),
                       "SGD: parameter 2 ('moving_variance') is non-trainable, expected trainable "
                       "as when its slots were made",
                       Error);

  // A refused step changes nothing: the iteration count and the weights stay.
  CHECK(adam.iterations() == 1);
  const double x = problem.x.value[0];
  CHECK_THROWS_AS(adam.step({&problem.x}), Error);
  CHECK(problem.x.value[0] == x);
}
