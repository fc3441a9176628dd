// A whole model against PyTorch (llm.c's test_gpt2, for a CNN): the small ResNet of
// tools/make_model_golden.py, two residual blocks (an identity shortcut and a projection),
// BatchNorm, global average pooling, with the same weights on both sides. Its logits, loss, every
// parameter gradient and the losses of 10 Adam steps must match PyTorch's within 1e-8 relative in
// double; in float the 10 losses within 1e-4.
#include <doctest/doctest.h>

#include <string>

#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/add.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/losses/cross_entropy.hpp"
#include "minicnn/model/model.hpp"
#include "minicnn/optimizers/adam.hpp"
#include "support/golden.hpp"

using namespace minicnn;

namespace {

const testing::GoldenFile& golden() {
  static const testing::GoldenFile file =
      testing::GoldenFile::load(std::string(MINICNN_GOLDEN_DIR) + "/small_resnet.bin");
  return file;
}

// Adds a layer made from the arguments under `name`, reading `input`.
template <template <typename> class L, typename T, typename... Args>
Node add(Model<T>& model, const char* name, Node input, Args... args) {
  auto layer = std::make_unique<L<T>>(args...);
  layer->set_name(name);
  return model.add(std::move(layer), input);
}
template <typename T>
Node add_sum(Model<T>& model, const char* name, Node a, Node b) {
  auto layer = std::make_unique<Add<T>>();
  layer->set_name(name);
  return model.add(std::move(layer), {a, b});
}

// The model of tools/make_model_golden.py, with its names and the golden file's weights.
template <typename T>
Model<T> golden_resnet() {
  Model<T> model;
  const Node x = model.input({3, 8, 8});
  const auto conv = [&](const char* name, Node in, Index filters, Index size, Index stride,
                        bool bias) {
    return add<Conv2D>(model, name, in, filters, Size2(size), Size2(stride), Padding::same, bias);
  };
  Node stem = conv("conv1", x, 4, 3, 1, true);
  stem = add<ReLU>(model, "relu1", add<BatchNorm>(model, "bn1", stem));
  Node y = add<BatchNorm>(model, "block1_bn1", conv("block1_conv1", stem, 4, 3, 1, false));
  y = add<ReLU>(model, "block1_relu1", y);
  y = add<BatchNorm>(model, "block1_bn2", conv("block1_conv2", y, 4, 3, 1, false));
  const Node block1 = add<ReLU>(model, "block1_relu2", add_sum(model, "block1_add", y, stem));
  y = add<BatchNorm>(model, "block2_bn1", conv("block2_conv1", block1, 8, 3, 2, false));
  y = add<ReLU>(model, "block2_relu1", y);
  y = add<BatchNorm>(model, "block2_bn2", conv("block2_conv2", y, 8, 3, 1, false));
  const Node shortcut =
      add<BatchNorm>(model, "block2_proj_bn", conv("block2_proj", block1, 8, 1, 2, false));
  y = add<ReLU>(model, "block2_relu2", add_sum(model, "block2_add", y, shortcut));
  y = add<GlobalAveragePooling2D>(model, "pool", y);
  model.build(add<Dense>(model, "fc", y, 5), 0);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<T>>(/*from_logits=*/true));
  for (Parameter<T>* p : model.parameters()) {
    const Tensor<double>& value = golden().get(p->path);
    REQUIRE(value.shape() == p->value.shape());
    std::transform(value.begin(), value.end(), p->value.begin(),
                   [](double v) { return static_cast<T>(v); });
  }
  return model;
}

template <typename T>
Tensor<T> golden_as(const std::string& name) {
  const Tensor<double>& value = golden().get(name);
  Tensor<T> result(value.shape());
  std::transform(value.begin(), value.end(), result.begin(),
                 [](double v) { return static_cast<T>(v); });
  return result;
}

// Within `tolerance` relative (golden.hpp's rule). A reference that is zero but for rounding (the
// gradient of conv1's bias, which the BatchNorm after it cancels: about 1e-16 on both sides) has
// no digits to compare: both sides must then be that small.
void check_close(const std::string& what, const Tensor<double>& actual,
                 const Tensor<double>& expected, double tolerance) {
  INFO(what);
  if (expected.vector().cwiseAbs().maxCoeff() < 1e-12) {
    CHECK(actual.vector().cwiseAbs().maxCoeff() < 1e-12);
    return;
  }
  const auto comparison = testing::compare_golden(what, actual, expected, tolerance);
  INFO(comparison.report);
  CHECK(comparison.worst_ratio <= 1.0);
}

}  // namespace

TEST_CASE("The small ResNet's logits, loss and every gradient match PyTorch's within 1e-8") {
  Model<double> model = golden_resnet<double>();
  const auto x = golden_as<double>("x"), y = golden_as<double>("y");
  const double loss = model.compute_gradients(x, y);
  CHECK(loss == doctest::Approx(golden().scalar("loss")).epsilon(1e-8));
  const Tensor<double>& logits = model.graph().training_output(model.graph().find("fc"));
  check_close("logits", logits, golden().get("logits"), 1e-8);
  Index checked = 0;
  for (Parameter<double>* p : model.parameters()) {
    if (!p->trainable) continue;
    check_close("grad/" + p->path, p->grad, golden().get("grad/" + p->path), 1e-8);
    ++checked;
  }
  CHECK(checked == 2 + 2 * 6 + 5 + 2);  // conv1's kernel and bias, 6 BNs, 5 kernels, fc's two
}

TEST_CASE("Ten Adam steps of the small ResNet follow PyTorch's losses, in double and in float") {
  const Tensor<double>& expected = golden().get("losses");
  REQUIRE(expected.size() == 10);
  {
    Model<double> model = golden_resnet<double>();
    const auto x = golden_as<double>("x"), y = golden_as<double>("y");
    Adam<double> adam(1e-2);
    Tensor<double> losses({10});
    for (Index step = 0; step < 10; ++step)
      losses[step] = model.train_on_batch(x, y, adam);
    check_close("losses (double)", losses, expected, 1e-8);
    for (Parameter<double>* p : model.parameters())  // the moving statistics after 10 steps
      if (!p->trainable)
        check_close("after/" + p->path, p->value, golden().get("after/" + p->path), 1e-8);
  }
  {
    Model<float> model = golden_resnet<float>();
    const auto x = golden_as<float>("x"), y = golden_as<float>("y");
    Adam<float> adam(1e-2);
    Tensor<double> losses({10});
    for (Index step = 0; step < 10; ++step)
      losses[step] = static_cast<double>(model.train_on_batch(x, y, adam));
    check_close("losses (float)", losses, expected, 1e-4);
  }
}
