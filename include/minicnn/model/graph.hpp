// Graph<T>: the engine every model runs on. A model is a directed acyclic graph of layers
// (Keras's functional model); Sequential is the chain special case (model/sequential.hpp).
//
// Vertices are kept in the order they were added, and a vertex reads only vertices added before it,
// so that order is a topological order: the forward walk runs the vertices in it, the backward
// walk runs them in reverse. One walk of each kind serves training, evaluation, prediction and the
// gradients with respect to the input.
//
// Gradients (backward):
//   - A tensor read by several layers (a residual block's input) receives the SUM of their
//     gradients: the first consumer met on the way back writes it, the later ones write into a
//     scratch tensor that is then added (Layer::backward overwrites dx, as PyTorch's autograd
//     functions return their gradient).
//   - A vertex "learns" when its layer has trainable parameters and is not frozen. A vertex needs
//     the gradient of its output only when it or some vertex upstream of it learns; a layer whose
//     inputs all come from vertices upstream of which nothing learns computes no input gradient
//     (Layer::backward_parameters), and a layer with nothing learning upstream and itself is not
//     walked at all. In a chain this is "backward stops at the first layer that learns".
//   - Gradient tensors are reused by liveness: a vertex's output gradient lives from the first
//     write (by its last consumer) until the vertex's own backward has read it. A chain needs two.
//
// Inference buffers are reused the same way: an activation lives until its last consumer has run,
// so a chain runs on two buffers (ping-pong) and a deep ResNet on a few, not on one per layer.
// Training keeps every vertex's output, since backward reads them.
//
// Inference fuses a layer with the BatchNorm and the ReLU after it into one pass when it can
// (model/fusion.hpp); training and backward never do.
//
// The plans (which vertex writes which buffer) depend only on the graph and on which layers are
// frozen, never on the data or the thread count, so results are reproducible.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/layer.hpp"
#include "minicnn/layers/merge.hpp"
#include "minicnn/model/fusion.hpp"

namespace minicnn {

template <typename T>
class Graph {
 public:
  struct Vertex {
    std::string name;                 // the layer's name, or the input's
    std::shared_ptr<Layer<T>> layer;  // null for the model's input
    std::vector<Index> inputs;        // vertices read, each added before this one
    std::vector<Index> consumers;     // vertices that read this one (set by build)
    Shape shape;                      // one sample of the output (of an input: given; else: build)
  };

  // ---- Structure -------------------------------------------------------------------------------

  Index add_input(std::string name, const Shape& shape) {
    vertices_.push_back({std::move(name), nullptr, {}, {}, shape});
    return size() - 1;
  }
  Index add_layer(std::shared_ptr<Layer<T>> layer, std::vector<Index> inputs) {
    std::string name = layer->name();
    vertices_.push_back({std::move(name), std::move(layer), std::move(inputs), {}, {}});
    return size() - 1;
  }

  Index size() const { return static_cast<Index>(vertices_.size()); }
  const Vertex& vertex(Index v) const { return vertices_[static_cast<std::size_t>(v)]; }
  Vertex& vertex(Index v) { return vertices_[static_cast<std::size_t>(v)]; }
  bool is_input(Index v) const { return vertex(v).layer == nullptr; }

  // The vertex with this name, or -1.
  Index find(const std::string& name) const {
    for (Index v = 0; v < size(); ++v)
      if (vertex(v).name == name) return v;
    return -1;
  }

  Index input() const { return input_; }
  // How many activation buffers inference uses at most (two for a chain), once built.
  Index activation_buffers() const { return std::max(unfused_.slots, fused_.slots); }
  Index output() const { return output_; }

  // Inference fusion (model/fusion.hpp), on by default: the chains that run as one call when it
  // is on, found when the graph was built. Switch it only while no thread infers.
  const std::vector<FusedChain>& fused_chains() const { return chains_; }
  bool fusion() const { return fusion_; }
  void set_fusion(bool on) { fusion_ = on; }

  // ---- Build -----------------------------------------------------------------------------------

  // Output shape of each vertex, from Layer::plan: allocates nothing, so a checkpoint's graph can
  // be checked against its stored tensors before anything is built. `visit(v, plan, input)` sees
  // each layer's plan and the shape of its (first) input. Throws when the graph is not a model: no
  // input or several, an output that is not a vertex, a layer that does not lead to the output.
  template <typename Visit>
  std::vector<Shape> plan(Index output, const char* who, Visit&& visit) const {
    check_structure(output, who);
    std::vector<Shape> shapes(vertices_.size());
    for (Index v = 0; v < size(); ++v) {
      const Vertex& vertex = this->vertex(v);
      if (vertex.layer == nullptr) {
        shapes[static_cast<std::size_t>(v)] = vertex.shape;
        continue;
      }
      LayerPlan plan;
      if (const MergeLayer<T>* merge = std::as_const(*vertex.layer).as_merge())
        plan = merge->plan(input_shapes(v, shapes));
      else
        plan = vertex.layer->plan(shapes[static_cast<std::size_t>(vertex.inputs[0])]);
      visit(v, plan, shapes[static_cast<std::size_t>(vertex.inputs[0])]);
      shapes[static_cast<std::size_t>(v)] = plan.output_shape;
    }
    return shapes;
  }

  // Builds every layer in order; layer number k (counting layers, not inputs) draws its initial
  // weights from the k-th fork of Random(seed), so a layer's weights do not depend on how many
  // numbers the layers before it drew. Then plans the buffers of inference.
  void build(Index output, std::uint64_t seed, const char* who) {
    plan(output, who, [](Index, const LayerPlan&, const Shape&) {});
    Random root(seed);
    for (Index v = 0; v < size(); ++v) {
      Vertex& vertex = this->vertex(v);
      if (vertex.layer == nullptr) continue;
      Random random = root.fork();
      if (MergeLayer<T>* merge = vertex.layer->as_merge()) {
        std::vector<Shape> shapes;
        for (Index input : vertex.inputs)
          shapes.push_back(this->vertex(input).shape);
        vertex.shape = merge->build(shapes);
      } else {
        vertex.shape = vertex.layer->build(this->vertex(vertex.inputs[0]).shape, random);
      }
    }
    connect(output);
  }

  // The same for layers built already, which this graph shares with another (Model::sub_model):
  // each output shape comes from the layer's plan on the input shape it was built on, and no
  // weight is touched.
  void build_shared(Index output, const char* who) {
    const std::vector<Shape> shapes =
        plan(output, who, [](Index, const LayerPlan&, const Shape&) {});
    for (Index v = 0; v < size(); ++v)
      vertex(v).shape = shapes[static_cast<std::size_t>(v)];
    connect(output);
  }

  // ---- Training: forward, then backward --------------------------------------------------------

  // Runs vertices [0, last] on x in training mode (a frozen layer that asks for it in inference
  // mode) and returns the output of `last`. Every output is kept for backward().
  const Tensor<T>& forward(const Tensor<T>& x, Index last) {
    run_forward(training_, x, last, /*training=*/true);
    return *training_.values[static_cast<std::size_t>(last)];
  }

  // The tensor the loss writes dL/d(output of `from`) into, before backward(from). Plans the walk
  // when the graph's frozen layers changed since the last plan (no allocation otherwise).
  Tensor<T>& output_gradient(Index from) {
    training_.plan.make(*this, from, /*to_input=*/false);
    return training_.gradient_of(from);
  }

  // dL/d(every parameter that learns) += from dL/d(output of `from`) as the last
  // output_gradient(from) holds it, back through the last forward(). Walks only what needs a
  // gradient (see the top of this file).
  void backward() { run_backward(training_, /*training=*/true); }

  // The output of vertex v in the last training forward (for messages: the first non-finite one).
  const Tensor<T>& training_output(Index v) const {
    return *training_.values[static_cast<std::size_t>(v)];
  }

  // ---- The gradient with respect to the input (inference mode) -------------------------------

  // Runs vertices [0, target] in inference mode, then differentiates sum(seed * output of target)
  // back to the input: writes dL/dx into dx, adds dL/dp into every trainable parameter's grad
  // (frozen or not: saliency asks what the function depends on) and returns the output of
  // `target`. Reads and changes nothing of training; keeps its own buffers.
  const Tensor<T>& input_gradient(const Tensor<T>& x, Index target, const Tensor<T>& seed,
                                  Tensor<T>& dx) {
    run_forward(probe_, x, target, /*training=*/false);
    probe_.plan.make(*this, target, /*to_input=*/true);
    probe_.gradient_of(target) = seed;
    run_backward(probe_, /*training=*/false);
    dx = probe_.gradient_of(input_);
    return *probe_.values[static_cast<std::size_t>(target)];
  }

  // ---- Inference -------------------------------------------------------------------------------

  // Buffers of one inference call; each call (thread) needs its own.
  struct Workspace {
    Tensor<T> x, y;                              // the batch, gathered
    std::vector<Tensor<T>> activations;          // shared by vertices whose lives do not overlap
    std::vector<const Tensor<T>*> merge_inputs;  // a merge's inputs, gathered per call
    std::vector<T> scale, shift;                 // a fused chain's BatchNorm map, per call
  };

  // Runs vertices [0, last] on x in inference mode and returns the output of `last`. Const: the
  // layers' inference changes nothing (layer.hpp), so threads may infer at once, each with its own
  // workspace. With fusion on, each chain of fused_chains() runs as one call of its head, unless
  // `last` is inside a chain (not its tail): then nothing is fused.
  const Tensor<T>& infer(const Tensor<T>& x, Index last, Workspace& workspace) const {
    const Index chain = chain_of_[static_cast<std::size_t>(last)];
    const bool fused =
        fusion_ && (chain < 0 || chains_[static_cast<std::size_t>(chain)].tail == last);
    const InferencePlan& plan = fused ? fused_ : unfused_;
    workspace.activations.resize(static_cast<std::size_t>(activation_buffers()));
    const auto value = [&](Index v) -> const Tensor<T>& {
      return v == input_ ? x : workspace.activations[plan.slot_of(v)];
    };
    for (Index v = 0; v <= last; ++v) {
      const Vertex& vertex = this->vertex(v);
      const Index writes = plan.writes[static_cast<std::size_t>(v)];
      if (writes < 0) continue;  // the input, or folded into its chain's head
      Tensor<T>& output = workspace.activations[plan.slot_of(writes)];
      if (MergeLayer<T>* merge = vertex.layer->as_merge()) {
        workspace.merge_inputs.clear();
        for (Index input : vertex.inputs)
          workspace.merge_inputs.push_back(&value(input));
        merge->forward_inputs(workspace.merge_inputs, output, Mode::inference);
      } else if (writes != v) {
        const FusedChain& c =
            chains_[static_cast<std::size_t>(chain_of_[static_cast<std::size_t>(v)])];
        vertex.layer->forward_fused(value(vertex.inputs[0]), output,
                                    fused_epilogue<T>(*this, c, workspace.scale, workspace.shift));
      } else {
        vertex.layer->forward(value(vertex.inputs[0]), output, Mode::inference);
      }
    }
    return value(last);
  }

 private:
  // Which vertex writes which gradient buffer, for one starting vertex and one set of frozen
  // layers: the backward walk decided once, run many times.
  struct BackwardPlan {
    struct Step {
      Index vertex;
      std::vector<Index> targets;     // per input: the input vertex that needs dL/dinput, or -1
      std::vector<char> accumulates;  // per input: 1 when another consumer wrote it first
      bool input_gradients = false;   // any target: else backward_parameters()
    };
    Index from = -1;
    bool to_input = false;
    std::vector<char> frozen;  // per vertex, as planned
    std::vector<Step> steps;   // in the order they run: reverse topological
    std::vector<Index> slot;   // per vertex: its gradient's buffer, or -1
    Index slots = 0;

    bool current(const Graph& graph, Index start, bool input) const {
      if (start != from || input != to_input || frozen.size() != graph.vertices_.size())
        return false;
      for (std::size_t v = 0; v < frozen.size(); ++v)
        if (frozen[v] != graph.frozen(static_cast<Index>(v))) return false;
      return true;
    }

    void make(const Graph& graph, Index start, bool input) {
      if (current(graph, start, input)) return;
      const std::size_t n = graph.vertices_.size();
      from = start;
      to_input = input;
      frozen.resize(n);
      for (std::size_t v = 0; v < n; ++v)
        frozen[v] = graph.frozen(static_cast<Index>(v));
      // upstream[v]: v or a vertex upstream of v learns (or, towards the input, is the input).
      std::vector<char> upstream(n, 0);
      for (std::size_t v = 0; v < n; ++v) {
        const Vertex& vertex = graph.vertices_[v];
        upstream[v] = vertex.layer == nullptr ? to_input : graph.learns(static_cast<Index>(v));
        for (Index i : vertex.inputs)
          upstream[v] = upstream[v] || upstream[static_cast<std::size_t>(i)];
      }
      steps.clear();
      slot.assign(n, -1);
      slots = 0;
      std::vector<Index> free;
      const auto take = [&] {
        if (free.empty()) return slots++;
        const Index s = free.back();
        free.pop_back();
        return s;
      };
      slot[static_cast<std::size_t>(from)] = take();
      for (Index v = from; v >= 0; --v) {
        const auto k = static_cast<std::size_t>(v);
        const Vertex& vertex = graph.vertices_[k];
        if (slot[k] < 0 || vertex.layer == nullptr || !upstream[k]) continue;
        Step step{v, {}, {}, false};
        for (Index i : vertex.inputs) {
          const auto m = static_cast<std::size_t>(i);
          if (!upstream[m]) {
            step.targets.push_back(-1);
            step.accumulates.push_back(0);
            continue;
          }
          step.targets.push_back(i);
          step.accumulates.push_back(slot[m] >= 0);
          if (slot[m] < 0) slot[m] = take();
          step.input_gradients = true;
        }
        steps.push_back(std::move(step));
        free.push_back(slot[k]);  // v's output gradient has been read: its buffer is free
      }
    }
  };

  // The buffers of one kind of walk: training's, or input_gradient's.
  struct Pass {
    std::vector<Tensor<T>> outputs;        // per vertex, its last forward output
    std::vector<const Tensor<T>*> values;  // per vertex: the input tensor or outputs[v]
    BackwardPlan plan;
    std::vector<Tensor<T>> gradients;  // plan.slots buffers
    std::vector<Tensor<T>> scratch;    // dL/dinput of a consumer that is not the first
    std::vector<const Tensor<T>*> merge_inputs;
    std::vector<Tensor<T>*> merge_gradients;

    Tensor<T>& gradient_of(Index v) {
      gradients.resize(static_cast<std::size_t>(plan.slots));
      return gradients[static_cast<std::size_t>(plan.slot[static_cast<std::size_t>(v)])];
    }
  };

  // The edges the other way (each vertex's consumers), the output, the buffers of inference.
  void connect(Index output) {
    for (Index v = 0; v < size(); ++v)
      for (Index input : vertex(v).inputs) {
        auto& consumers = vertex(input).consumers;
        if (std::find(consumers.begin(), consumers.end(), v) == consumers.end())
          consumers.push_back(v);
      }
    output_ = output;
    for (Index v = 0; v < size(); ++v)
      if (is_input(v)) input_ = v;
    plan_inference();
    training_.outputs.resize(vertices_.size());
    training_.values.assign(vertices_.size(), nullptr);
    probe_.outputs.resize(vertices_.size());
    probe_.values.assign(vertices_.size(), nullptr);
  }

  bool frozen(Index v) const {
    const Vertex& vertex = this->vertex(v);
    return vertex.layer != nullptr && !vertex.layer->trainable();
  }
  bool learns(Index v) const {
    const Vertex& vertex = this->vertex(v);
    if (vertex.layer == nullptr || !vertex.layer->trainable()) return false;
    for (const Parameter<T>* p : std::as_const(*vertex.layer).parameters())
      if (p->trainable) return true;
    return false;
  }
  Mode training_mode(const Layer<T>& layer) const {
    return !layer.trainable() && layer.frozen_runs_inference() ? Mode::inference : Mode::training;
  }

  std::vector<Shape> input_shapes(Index v, const std::vector<Shape>& shapes) const {
    std::vector<Shape> result;
    for (Index input : vertex(v).inputs)
      result.push_back(shapes[static_cast<std::size_t>(input)]);
    return result;
  }

  void check_structure(Index output, const char* who) const {
    Index inputs = 0;
    for (Index v = 0; v < size(); ++v)
      inputs += is_input(v);
    if (inputs != 1) fail(who, ": expected a model with 1 input, got ", inputs);
    if (output < 0 || output >= size())
      fail(who, ": expected an output among the model's ", size(), " vertices, got ", output);
    if (is_input(output)) fail(who, ": expected a layer as the output, got the input");
    // Every layer must lead to the output: one leading nowhere would run for nothing.
    std::vector<char> used(vertices_.size(), 0);
    used[static_cast<std::size_t>(output)] = 1;
    for (Index v = output; v >= 0; --v)
      if (used[static_cast<std::size_t>(v)])
        for (Index input : vertex(v).inputs)
          used[static_cast<std::size_t>(input)] = 1;
    for (Index v = 0; v < size(); ++v)
      if (!used[static_cast<std::size_t>(v)])
        fail(who, ": ",
             is_input(v) ? "the input '" + vertex(v).name + "'" : vertex(v).layer->label(),
             " does not lead to the output ", vertex(output).layer->label(),
             "; every layer of a model must");
  }

  // One walk of inference: which output each vertex's step writes, and into which buffer.
  struct InferencePlan {
    std::vector<Index> writes;  // per vertex: itself, the tail of the chain it heads, or -1 (the
                                // input; a vertex folded into its chain's head)
    std::vector<Index> slot;    // per vertex: the buffer of its output, or -1 (never written)
    Index slots = 0;

    std::size_t slot_of(Index v) const {
      return static_cast<std::size_t>(slot[static_cast<std::size_t>(v)]);
    }
  };

  // The two walks of inference, unfused and fused, and the chains they differ by.
  void plan_inference() {
    chains_ = find_fused_chains<T>(*this);
    chain_of_.assign(vertices_.size(), -1);
    std::vector<Index> writes(vertices_.size());
    for (Index v = 0; v < size(); ++v)
      writes[static_cast<std::size_t>(v)] = is_input(v) ? -1 : v;
    unfused_ = plan_buffers(writes);
    for (std::size_t c = 0; c < chains_.size(); ++c) {
      const FusedChain& chain = chains_[c];
      for (Index v : {chain.head, chain.affine, chain.clamp})
        if (v >= 0) {
          chain_of_[static_cast<std::size_t>(v)] = static_cast<Index>(c);
          writes[static_cast<std::size_t>(v)] = v == chain.head ? chain.tail : -1;
        }
    }
    fused_ = plan_buffers(writes);
  }

  // Buffers by liveness: each step takes a free buffer for the output it writes, and gives back
  // each input's once it is that input's last consumer. The output's is never given back. A fused
  // chain's inner vertices are read only inside it, so every input a step reads was written.
  InferencePlan plan_buffers(std::vector<Index> writes) const {
    InferencePlan plan{std::move(writes), std::vector<Index>(vertices_.size(), -1), 0};
    std::vector<Index> free;
    for (Index v = 0; v < size(); ++v) {
      const Index out = plan.writes[static_cast<std::size_t>(v)];
      if (out < 0) continue;
      Index s;
      if (free.empty()) {
        s = plan.slots++;
      } else {
        s = free.back();
        free.pop_back();
      }
      plan.slot[static_cast<std::size_t>(out)] = s;
      for (Index input : vertex(v).inputs) {
        const Vertex& source = this->vertex(input);
        if (source.layer != nullptr && input != output_ && source.consumers.back() == v &&
            std::find(free.begin(), free.end(), plan.slot[static_cast<std::size_t>(input)]) ==
                free.end())
          free.push_back(plan.slot[static_cast<std::size_t>(input)]);
      }
    }
    return plan;
  }

  void run_forward(Pass& pass, const Tensor<T>& x, Index last, bool training) {
    pass.values[static_cast<std::size_t>(input_)] = &x;
    for (Index v = 0; v <= last; ++v) {
      const auto k = static_cast<std::size_t>(v);
      const Vertex& vertex = vertices_[k];
      if (vertex.layer == nullptr) continue;
      const Mode mode = training ? training_mode(*vertex.layer) : Mode::inference;
      if (MergeLayer<T>* merge = vertex.layer->as_merge()) {
        pass.merge_inputs.clear();
        for (Index input : vertex.inputs)
          pass.merge_inputs.push_back(pass.values[static_cast<std::size_t>(input)]);
        merge->forward_inputs(pass.merge_inputs, pass.outputs[k], mode);
      } else {
        vertex.layer->forward(*pass.values[static_cast<std::size_t>(vertex.inputs[0])],
                              pass.outputs[k], mode);
      }
      pass.values[k] = &pass.outputs[k];
    }
  }

  void run_backward(Pass& pass, bool training) {
    pass.gradients.resize(static_cast<std::size_t>(pass.plan.slots));
    for (const auto& step : pass.plan.steps) {
      const auto k = static_cast<std::size_t>(step.vertex);
      const Vertex& vertex = vertices_[k];
      const Mode mode = training ? training_mode(*vertex.layer) : Mode::inference;
      const Tensor<T>& dy = pass.gradient_of(step.vertex);
      if (pass.scratch.size() < step.targets.size()) pass.scratch.resize(step.targets.size());
      // Where input j's gradient goes: its buffer when this step writes it first, else scratch j.
      const auto destination = [&](std::size_t j) -> Tensor<T>* {
        if (step.targets[j] < 0) return nullptr;
        return step.accumulates[j] ? &pass.scratch[j] : &pass.gradient_of(step.targets[j]);
      };
      if (MergeLayer<T>* merge = vertex.layer->as_merge()) {
        pass.merge_inputs.clear();
        pass.merge_gradients.clear();
        for (std::size_t j = 0; j < vertex.inputs.size(); ++j) {
          pass.merge_inputs.push_back(pass.values[static_cast<std::size_t>(vertex.inputs[j])]);
          pass.merge_gradients.push_back(destination(j));
        }
        merge->backward_inputs(pass.merge_inputs, pass.outputs[k], dy, pass.merge_gradients, mode);
      } else {
        const Tensor<T>& x = *pass.values[static_cast<std::size_t>(vertex.inputs[0])];
        if (step.input_gradients)
          vertex.layer->backward(x, pass.outputs[k], dy, *destination(0), mode);
        else
          vertex.layer->backward_parameters(x, pass.outputs[k], dy, pass.scratch[0], mode);
      }
      for (std::size_t j = 0; j < step.targets.size(); ++j)
        if (step.targets[j] >= 0 && step.accumulates[j])
          pass.gradient_of(step.targets[j]).vector() += pass.scratch[j].vector();
    }
  }

  std::vector<Vertex> vertices_;
  Index input_ = -1;
  Index output_ = -1;
  InferencePlan unfused_;           // every vertex's output in a buffer
  InferencePlan fused_;             // each chain of chains_ as one step
  std::vector<FusedChain> chains_;  // found by plan_inference()
  std::vector<Index> chain_of_;     // per vertex: the index of its chain in chains_, or -1
  bool fusion_ = true;
  Pass training_;
  Pass probe_;  // input_gradient's, apart from training's
};

}  // namespace minicnn
