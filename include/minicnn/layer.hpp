// Layer<T>: the contract every layer implements. Layers are composed at run time into a graph
// (model/graph.hpp); Sequential is the chain special case.
//
//   plan(input_shape)           pure: validate the input shape of one sample and describe the
//                               output shape of one sample and every parameter's name and shape,
//                               allocating no tensor (what a checkpoint is checked against before
//                               anything is built).
//   build(input_shape, random)  once: allocate the parameters plan() describes and initialise
//                               them; returns the output shape of one sample.
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
//                                          (Model::input_gradient).
//
// A layer takes one input. Merges (Add, Concatenate) take several: they derive from MergeLayer
// (layers/merge.hpp), which adds the several-input forms of plan, build, forward and backward.
//
// Freezing (Keras's layer.trainable = false) is the model's business, not the layer's maths: a
// frozen layer's parameters are left out of the optimizer's steps, and a frozen layer whose
// frozen_runs_inference() is true (BatchNormalization) is run in inference mode during training.
// A Parameter's own `trainable` is its role (a weight, or state such as moving statistics), which
// freezing does not change.
//
// Inference fusion (model/fusion.hpp): a layer L followed by a BatchNorm, a ReLU, or both, may run
// at inference as ONE pass of L that writes their composition, per output channel c (axis 1):
//   y[:, c, ...] = clamp(scale_c * L(x)[:, c, ...] + shift_c, low, high)
// (gemm::Epilogue with row c = channel c). L says it can with fuses_output_map() and does it in
// forward_fused(); the followers describe themselves with inference_affine() (BatchNorm) and
// inference_clamp() (ReLU, ReLU6). The model decides which chains fuse; a layer never knows.
//
// Preconditions are checked and reported as minicnn::Error naming the layer, the expected and the
// actual value. Inference-mode forward() changes no member that backward() or another inference
// call reads, so several threads may run inference on one built layer at once.
#pragma once

#include <cstddef>
#include <limits>
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

namespace gemm {
template <typename T>
struct Epilogue;  // gemm.hpp: C = clamp(diag(row_scale) A B + row_bias, low, high)
}  // namespace gemm

template <typename T>
class MergeLayer;

// One parameter as a layer's plan describes it: what build() allocates for it.
struct ParameterShape {
  std::string name;  // Parameter::name
  Shape shape;
  bool trainable = true;
};

// What a layer is on a given input shape, known before anything is allocated.
struct LayerPlan {
  Shape output_shape;                      // of one sample
  std::vector<ParameterShape> parameters;  // in the order of Layer::parameters()
};

// The number of elements of `shape` when it is at most `limit`, else -1. Each step of the product
// checks elements <= limit / extent first, so it never overflows (Shape::size() does not check).
inline Index bounded_size(const Shape& shape, Index limit) {
  Index elements = 1;
  for (int axis = 0; axis < shape.rank(); ++axis) {
    const Index extent = shape[axis];
    if (extent != 0 && elements > limit / extent) return -1;
    elements *= extent;
  }
  return elements;
}

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

  // Instance name, unique within a model ("conv2d", "conv2d_1", ...); the model assigns one
  // when it is empty.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // The layer on this input shape (one sample): its output shape and its parameters' names and
  // shapes, computed without allocating them. Throws, naming the layer, when the layer cannot take
  // the input or when a shape has more elements than a Tensor<T> can hold (kMaxElements), so that
  // the element counts of every shape it returns can be multiplied out safely.
  LayerPlan plan(const Shape& input_shape) const {
    check_elements("input", input_shape);
    LayerPlan plan = plan_layer(input_shape);
    check_elements("output", plan.output_shape);
    for (const ParameterShape& p : plan.parameters)
      check_elements(p.name.c_str(), p.shape);
    return plan;
  }

  // Allocates the parameters plan(input_shape) describes (zeros), lets the layer initialise them
  // (build_layer), and returns the output shape of one sample.
  Shape build(const Shape& input_shape, Random& random) {
    const LayerPlan plan = this->plan(input_shape);
    const std::vector<Parameter<T>*> own = parameters();
    if (own.size() != plan.parameters.size())
      fail(label(), ": plan() describes ", plan.parameters.size(),
           " parameters but parameters() returns ", own.size());
    for (std::size_t k = 0; k < own.size(); ++k) {
      const ParameterShape& p = plan.parameters[k];
      *own[k] = Parameter<T>(p.name, p.shape, p.trainable);
    }
    build_layer(input_shape, random);
    mark_built(input_shape, plan.output_shape);
    return output_shape_;
  }
  bool built() const { return built_; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }

  virtual void forward(const Tensor<T>& x, Tensor<T>& y, Mode mode) = 0;
  // No default for `mode`: a caller must say which function it differentiates.
  virtual void backward(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& dy, Tensor<T>& dx,
                        Mode mode) = 0;
  // backward() for a layer whose input needs no gradient: accumulates dL/dparameters exactly as
  // backward() does, while dL/dx is not wanted. The model calls it on a layer that learns when no
  // layer upstream of it does (PyTorch's autograd likewise skips the
  // gradient of an input that does not require one). The default runs backward() with `scratch`
  // as dx; Conv2D and Dense override it to skip their dx product altogether.
  virtual void backward_parameters(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& dy,
                                   Tensor<T>& scratch, Mode mode) {
    backward(x, y, dy, scratch, mode);
  }

  // ---- Inference fusion (see the top of this file) ----
  // True when forward_fused() is implemented. Conv2D, DepthwiseConv2D and Dense say so.
  virtual bool fuses_output_map() const { return false; }
  // Inference-mode forward() with `after` applied to the output in the same pass:
  //   y[:, c, ...] = clamp(after.row_scale[c] * forward(x)[:, c, ...] + after.row_bias[c],
  //                        after.low, after.high)
  // for each output channel c (a null row_scale is 1, a null row_bias 0); forward(x) includes the
  // layer's own bias, which the layer folds into the epilogue (row_bias' = scale * bias + shift).
  // The arrays hold one value per output channel. Thread-safe as inference-mode forward().
  virtual void forward_fused(const Tensor<T>& /*x*/, Tensor<T>& /*y*/,
                             const gemm::Epilogue<T>& /*after*/) {
    fail(label(), ": forward_fused() called on a layer that does not fuse an output map");
  }
  // True when the layer, at inference, is y[:, c, ...] = scale_c x[:, c, ...] + shift_c on each
  // channel c (BatchNorm): then writes scale and shift, one value per channel, else leaves them.
  virtual bool inference_affine(std::vector<T>& /*scale*/, std::vector<T>& /*shift*/) const {
    return false;
  }
  // True when the layer, at inference, is y = clamp(x, low, high) elementwise (ReLU: low 0, high
  // +infinity or max_value): then writes low and high, else leaves them.
  virtual bool inference_clamp(T& /*low*/, T& /*high*/) const { return false; }

  // The layer as a merge of several inputs (layers/merge.hpp), or nullptr for a one-input layer.
  virtual MergeLayer<T>* as_merge() { return nullptr; }
  const MergeLayer<T>* as_merge() const { return const_cast<Layer*>(this)->as_merge(); }

  // Keras's layer.trainable: false freezes the layer (see the top of this file). A model reads it
  // at every training step, so it may change between two fit() calls (fine-tuning).
  bool trainable() const { return trainable_; }
  void set_trainable(bool trainable) { trainable_ = trainable; }
  // True for layers that Keras runs in inference mode while frozen: BatchNormalization, whose
  // moving statistics must then stay as they are (Keras 2.1+ and the fine-tuning guides).
  virtual bool frozen_runs_inference() const { return false; }

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

  // The most elements one tensor may have: its size in bytes must fit in an Index.
  static constexpr Index kMaxElements =
      std::numeric_limits<Index>::max() / static_cast<Index>(sizeof(T));

  // "Conv2D 'conv2d_1'" (or just the kind while unnamed): how messages refer to the layer.
  std::string label() const { return name_.empty() ? kind() : kind() + " '" + name_ + "'"; }

 protected:
  Layer() = default;
  Layer(const Layer&) = default;
  Layer& operator=(const Layer&) = default;

  // Validates input_shape (one sample) and describes the layer on it (see plan()). Pure: it
  // allocates no tensor and changes nothing, so it may be called on an unbuilt layer.
  virtual LayerPlan plan_layer(const Shape& input_shape) const = 0;

  // Called by build() once the planned parameters are allocated (zero-filled): initialises them
  // and records what forward() needs from the input shape. Buffers that grow with the input go in
  // forward(), so that building allocates no more than the plan says.
  virtual void build_layer(const Shape& /*input_shape*/, Random& /*random*/) {}

  // Records what build() decided; MergeLayer's build() calls it too.
  void mark_built(const Shape& input_shape, const Shape& output_shape) {
    input_shape_ = input_shape;
    output_shape_ = output_shape;
    built_ = true;
  }

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
  template <typename>
  friend class MergeLayer;  // plans with the same element checks

  void check_elements(const char* what, const Shape& shape) const {
    if (bounded_size(shape, kMaxElements) < 0)
      fail(label(), ": expected at most ", kMaxElements, " elements in a tensor, got ", what,
           " of shape ", shape);
  }

  std::string name_;
  Shape input_shape_;  // a merge's first input
  Shape output_shape_;
  bool built_ = false;
  bool trainable_ = true;
};

}  // namespace minicnn
