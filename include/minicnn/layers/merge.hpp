// MergeLayer<T>: a layer with several inputs (Add, Concatenate), the nodes where a graph's
// branches meet. It keeps the Layer contract (layer.hpp) and adds its several-input forms:
//
//   plan(input_shapes)              pure: validates the shapes of one sample of each input and
//                                   describes the output (merges have no parameters)
//   build(input_shapes)             once
//   forward_inputs(xs, y, mode)     xs[k] is (N, input_shapes[k]...)
//   backward_inputs(xs, y, dy,      writes dxs[k] = dL/dxs[k] for every k whose dxs[k] is not
//                   dxs, mode)      null (an input that needs no gradient gets none)
//
// The one-input forward() and backward() refuse: a merge is called by the graph engine
// (model/graph.hpp), which knows its inputs.
#pragma once

#include <string>
#include <vector>

#include "minicnn/layer.hpp"

namespace minicnn {

template <typename T>
class MergeLayer : public Layer<T> {
 public:
  MergeLayer<T>* as_merge() override { return this; }

  // The layer on these inputs (one sample each): its output shape, computed without allocating.
  LayerPlan plan(const std::vector<Shape>& input_shapes) const {
    if (input_shapes.size() < 2)
      fail(this->label(), ": expected at least 2 inputs, got ", input_shapes.size());
    for (const Shape& shape : input_shapes)
      this->check_elements("input", shape);
    LayerPlan plan = plan_merge(input_shapes);
    this->check_elements("output", plan.output_shape);
    return plan;
  }

  Shape build(const std::vector<Shape>& input_shapes) {
    const LayerPlan plan = this->plan(input_shapes);
    build_merge(input_shapes);
    input_shapes_ = input_shapes;
    this->mark_built(input_shapes.front(), plan.output_shape);
    return plan.output_shape;
  }
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }

  virtual void forward_inputs(const std::vector<const Tensor<T>*>& xs, Tensor<T>& y, Mode mode) = 0;
  virtual void backward_inputs(const std::vector<const Tensor<T>*>& xs, const Tensor<T>& y,
                               const Tensor<T>& dy, const std::vector<Tensor<T>*>& dxs,
                               Mode mode) = 0;

  void forward(const Tensor<T>&, Tensor<T>&, Mode) final { refuse_one_input(); }
  void backward(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, Tensor<T>&, Mode) final {
    refuse_one_input();
  }

 protected:
  // Validates the inputs (there are at least 2) and describes the output.
  virtual LayerPlan plan_merge(const std::vector<Shape>& input_shapes) const = 0;
  // Called by build() once the plan has been checked: records what forward needs.
  virtual void build_merge(const std::vector<Shape>& /*input_shapes*/) {}

  // Throws unless the layer is built and xs are batches of input_shapes(), all of one batch size.
  void check_inputs(const std::vector<const Tensor<T>*>& xs) const {
    if (!this->built()) fail(this->label(), ": forward() called before build()");
    if (xs.size() != input_shapes_.size())
      fail(this->label(), ": expected ", input_shapes_.size(), " inputs, got ", xs.size());
    for (std::size_t k = 0; k < xs.size(); ++k) {
      const Tensor<T>& x = *xs[k];
      const Shape& expected = input_shapes_[k];
      if (x.rank() != expected.rank() + 1 || x.shape().sample() != expected ||
          x.dim(0) != xs[0]->dim(0))
        fail(this->label(), ": expected input ", k, " of shape (", xs[0]->dim(0), ", ",
             expected.str().substr(1), ", got ", x.shape());
    }
  }

 private:
  LayerPlan plan_layer(const Shape& input_shape) const final { return plan({input_shape}); }

  [[noreturn]] void refuse_one_input() const {
    fail(this->label(), ": a merge takes several inputs; it runs inside a Model, which calls ",
         "forward_inputs() and backward_inputs()");
  }

  std::vector<Shape> input_shapes_;
};

}  // namespace minicnn
