// Layer<T>: the contract every layer implements. Layers are composed at run time (Sequential).
//
//   build(input_shape, random)  once: infer the output shape of one sample from the input shape
//                               of one sample, allocate and initialise parameters.
//   forward(x, y, mode)         x is (N, input_shape...), y becomes (N, output_shape...).
//   backward(x, y, dy, dx,      given dy = dL/dy, writes dx = dL/dx and ADDS dL/dparameter into
//            mode)              each parameter's grad (see parameter.hpp). mode says which
//                               function is differentiated:
//                               training:  the last training-mode forward(), whose x and y these
//                                          are; a layer may reuse what that forward() cached
//                                          (Dropout's mask, BatchNorm's batch statistics).
//                               inference: the inference function at x (y = forward(x, inference)),
//                                          from x and y alone, reading and writing no training
//                                          cache; what saliency and activation maximisation need
//                                          (Sequential::input_gradient).
//
// Preconditions are checked and reported as minicnn::Error naming the layer, the expected and the
// actual value. Inference-mode forward() changes no member that backward() or another inference
// call reads, so several threads may run inference on one built layer at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "minicnn/config.hpp"
#include "minicnn/error.hpp"
#include "minicnn/parameter.hpp"
#include "minicnn/random.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn {

enum class Mode { inference, training };

template <typename T>
class Layer {
 public:
  virtual ~Layer() = default;

  // The layer's type as Keras names it: "Conv2D", "Dense", "ReLU", ...
  virtual std::string kind() const = 0;

  // The constructor arguments, enough to construct an identical (unbuilt) layer.
  virtual Config config() const = 0;

  // A copy of this layer with its parameters and state (used for snapshots and tests).
  virtual std::unique_ptr<Layer<T>> clone() const = 0;

  // Instance name, unique within a model ("conv2d", "conv2d_1", ...); Sequential assigns one
  // when it is empty.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // Infers shapes and allocates parameters; returns the output shape of one sample.
  Shape build(const Shape& input_shape, Random& random) {
    output_shape_ = build_layer(input_shape, random);
    input_shape_ = input_shape;
    built_ = true;
    return output_shape_;
  }
  bool built() const { return built_; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }

  virtual void forward(const Tensor<T>& x, Tensor<T>& y, Mode mode) = 0;
  // No default for `mode`: a caller must say which function it differentiates.
  virtual void backward(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& dy, Tensor<T>& dx,
                        Mode mode) = 0;

  // Trainable and non-trainable parameters, in a fixed order.
  virtual std::vector<Parameter<T>*> parameters() { return {}; }
  std::vector<const Parameter<T>*> parameters() const {
    std::vector<const Parameter<T>*> result;
    for (Parameter<T>* p : const_cast<Layer*>(this)->parameters())
      result.push_back(p);
    return result;
  }

  Index parameter_count(bool trainable) const {
    Index count = 0;
    for (const Parameter<T>* p : parameters())
      if (p->trainable == trainable) count += p->value.size();
    return count;
  }

  // The layer's own random stream (Dropout's), so checkpoints can save and restore it; nullptr
  // for deterministic layers.
  virtual Random* random_stream() { return nullptr; }

  // "Conv2D 'conv2d_1'" (or just the kind while unnamed): how messages refer to the layer.
  std::string label() const { return name_.empty() ? kind() : kind() + " '" + name_ + "'"; }

 protected:
  Layer() = default;
  Layer(const Layer&) = default;
  Layer& operator=(const Layer&) = default;

  // Validates input_shape (one sample) and returns the output shape of one sample.
  virtual Shape build_layer(const Shape& input_shape, Random& random) = 0;

  // Throws unless the layer is built and x is a batch of samples of input_shape().
  void check_input(const Tensor<T>& x) const {
    if (!built_) fail(label(), ": forward() called before build()");
    if (x.rank() != input_shape_.rank() + 1 || x.shape().sample() != input_shape_)
      fail(label(), ": expected input of shape (N, ", input_shape_.str().substr(1), ", got ",
           x.shape());
  }

  // Throws unless dy has the shape forward() gave y.
  void check_gradient(const Tensor<T>& x, const Tensor<T>& dy) const {
    const Shape expected = output_shape_.with_batch(x.rank() > 0 ? x.dim(0) : 0);
    if (dy.shape() != expected)
      fail(label(), ": expected output gradient of shape ", expected, ", got ", dy.shape());
  }

 private:
  std::string name_;
  Shape input_shape_;
  Shape output_shape_;
  bool built_ = false;
};

}  // namespace minicnn
