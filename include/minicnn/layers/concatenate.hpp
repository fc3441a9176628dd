// Concatenate (Keras's Concatenate, torch.cat, ONNX Concat): joins two or more inputs along one
// axis; every other extent must agree.
//
// The axis counts the batch axis as 0, as Keras, PyTorch and ONNX do, and may be negative (-1 is
// the last). The default 1 is the channel axis of minicnn's (N, C, H, W) layout (Keras's default
// -1 is the channel axis of its channels-last layout): Inception and DenseNet join channels.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "minicnn/layers/merge.hpp"

namespace minicnn {

template <typename T>
class Concatenate : public MergeLayer<T> {
 public:
  explicit Concatenate(Index axis = 1) : axis_(axis) {
    if (axis == 0) fail("Concatenate: expected an axis other than 0, the batch axis, got 0");
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<Concatenate>(config.get_int("axis"));
  }
  std::string kind() const override { return "Concatenate"; }
  Config config() const override { return Config().set("axis", axis_); }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Concatenate>(*this); }

  // Seen as (N, outer, A_k, inner) with A_k input k's extent on the axis, outer the product of the
  // extents between the batch and the axis, inner the product of those after it:
  //   y[n, o, offset_k + a, i] = x_k[n, o, a, i],     offset_k = A_0 + ... + A_(k-1)
  void forward_inputs(const std::vector<const Tensor<T>*>& xs, Tensor<T>& y, Mode) override {
    this->check_inputs(xs);
    const Index batch = xs[0]->dim(0);
    y.resize(this->output_shape().with_batch(batch));
    const Index rows = batch * outer_, out_row = this->output_shape().size() / outer_;
    Index offset = 0;  // of input k's block within a row of y
    for (const Tensor<T>* x : xs) {
      const Index block = x->size() / rows;
      for (Index r = 0; r < rows; ++r)
        std::copy_n(x->data() + r * block, block, y.data() + r * out_row + offset);
      offset += block;
    }
  }

  // dL/dx_k[n, o, a, i] = dy[n, o, offset_k + a, i]: each input gets its own slice of dy back
  void backward_inputs(const std::vector<const Tensor<T>*>& xs, const Tensor<T>&,
                       const Tensor<T>& dy, const std::vector<Tensor<T>*>& dxs, Mode) override {
    this->check_inputs(xs);
    this->check_gradient(*xs[0], dy);
    const Index rows = xs[0]->dim(0) * outer_, out_row = this->output_shape().size() / outer_;
    Index offset = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
      const Index block = xs[k]->size() / rows;
      if (Tensor<T>* dx = dxs[k]) {
        dx->resize(xs[k]->shape());
        for (Index r = 0; r < rows; ++r)
          std::copy_n(dy.data() + r * out_row + offset, block, dx->data() + r * block);
      }
      offset += block;
    }
  }

 private:
  // The batch-inclusive axis as an axis of one sample of this rank (out of range: < 0 or >= rank).
  Index sample_axis(int rank) const { return (axis_ < 0 ? axis_ + rank + 1 : axis_) - 1; }

  LayerPlan plan_merge(const std::vector<Shape>& shapes) const override {
    const int rank = shapes[0].rank();
    const Index sample_axis = this->sample_axis(rank);
    if (sample_axis < 0 || sample_axis >= rank)
      fail(this->label(), ": expected an axis in [", -rank, ", ", rank,
           "] other than 0 for inputs of shape (N, ", shapes[0].str().substr(1), ", got ", axis_);
    Index joined = 0;
    for (std::size_t k = 0; k < shapes.size(); ++k) {
      bool agree = shapes[k].rank() == rank;
      for (int a = 0; agree && a < rank; ++a)
        agree = a == sample_axis || shapes[k][a] == shapes[0][a];
      if (!agree)
        fail(this->label(), ": expected inputs that differ only on axis ", axis_, ", got ",
             shapes[0], " (input 0) and ", shapes[k], " (input ", k, ")");
      joined += shapes[k][static_cast<int>(sample_axis)];
    }
    Shape result;
    for (int a = 0; a < rank; ++a)
      result.push_back(a == sample_axis ? joined : shapes[0][a]);
    return {result, {}};
  }

  void build_merge(const std::vector<Shape>& shapes) override {
    outer_ = 1;
    for (int a = 0; a < sample_axis(shapes[0].rank()); ++a)
      outer_ *= shapes[0][a];
  }

  Index axis_;
  Index outer_ = 1;  // product of the sample's extents before the axis
};

}  // namespace minicnn
