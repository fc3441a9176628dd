// Model<T>: a graph of layers trained as one model, with Keras's API (Keras's functional model).
//
//   Model<float> model;
//   Node x = model.input({3, 32, 32});
//   Node y = model.add<Conv2D>(x, 16, 3, Padding::same);
//   y = model.add<BatchNorm>(y);
//   y = model.add<ReLU>(y);
//   y = model.add<Add>({y, x});                   // a residual connection
//   y = model.add<GlobalAveragePooling2D>(y);
//   y = model.add<Dense>(y, 10);
//   model.build(y, /*seed=*/42);                  // y is the model's output
//   model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>(true));
//   History history = model.fit(x_train, y_train, adam, options);
//
// Sequential (model/sequential.hpp) is the chain special case, with Keras's add() without inputs.
// Both run on one engine (model/graph.hpp): one forward walk and one backward walk serve
// training, evaluation, prediction and input gradients.
//
// An unnamed layer gets Keras's name (model/naming.hpp); names are unique within a model, and
// layer(name) finds one (Keras's get_layer).
//
// Training step (compute_gradients, then an optimizer step): zero_grad -> forward (training
// mode) -> loss -> backward -> step. Softmax fusion: when the output layer is Softmax and the loss
// is a cross-entropy on probabilities (Loss::on_logits() is not null), the loss and its gradient
// are computed from the Softmax's input by the logits version of the loss, and the Softmax's own
// forward and backward are skipped. The result is the same function and gradient (softmax then
// cross-entropy has the gradient p - t with respect to the logits), but exact where the
// probability path would round a probability to 0 and take its log. evaluate() uses the same
// path; predict() runs the Softmax and returns probabilities.
//
// Fine-tuning: layer(name).set_trainable(false) freezes a layer (Keras's layer.trainable): its
// parameters are left out of the steps of fit() and train_on_batch(), a frozen BatchNormalization
// runs in inference mode, and backward walks no further up than the first layer that learns. It
// may change between two fit() calls; the optimizer keeps each parameter's state by its path
// (optimizers/slot_table.hpp), so the unfrozen layers continue where they were.
//
// Memory: build() sizes nothing that depends on the batch; the first training step allocates one
// output per layer and the gradient buffers, and later steps reuse them (Tensor::resize
// reallocates only when growing), so a steady-state step allocates nothing in the model itself.
//
// Threads: the functions that change the model (input, add, build, set_loss, fit,
// compute_gradients, train_on_batch, input_gradient, restore) need exclusive use of it. evaluate,
// predict, predict_classes, summary, checkpoint and save are const: they use buffers of their own
// per call (layers run inference without touching shared state, see layer.hpp), so several
// threads may call them at once on a model nobody trains.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/callback.hpp"
#include "minicnn/checkpoint.hpp"
#include "minicnn/error.hpp"
#include "minicnn/fit_options.hpp"
#include "minicnn/history.hpp"
#include "minicnn/io/checkpoint_file.hpp"
#include "minicnn/layer.hpp"
#include "minicnn/loss.hpp"
#include "minicnn/model/graph.hpp"
#include "minicnn/model/naming.hpp"
#include "minicnn/optimizer.hpp"
#include "minicnn/samples.hpp"

namespace minicnn {

// A tensor of a model under construction: the input, or a layer's output. add() takes the nodes a
// layer reads and returns the node of its output.
struct Node {
  Index index = -1;  // the graph's vertex
};

// The layer registry's factory (io/layer_registry.hpp), which only from_checkpoint() and load()
// need: including a model does not include every layer.
template <typename T>
std::unique_ptr<Layer<T>> make_layer(const std::string& kind, const Config& config);

// How load_weights() pairs the layers of a checkpoint with the model's (Keras's by_name), and
// what it does with a pair whose kinds or tensor shapes differ (Keras's skip_mismatch).
enum class Match { by_position, by_name };
enum class OnMismatch { fail, skip };

template <typename T>
class Model;

namespace detail {
template <typename T>
History fit_model(Model<T>& model, const Samples<T>& data, Optimizer<T>& optimizer,
                  const FitOptions<T>& options);
}  // namespace detail

template <typename T>
class Model {
 public:
  struct Evaluation {
    double loss = 0.0;
    double accuracy = 0.0;
  };

  Model() : Model("Model", "model") {}
  Model(Model&&) noexcept = default;
  Model& operator=(Model&&) noexcept = default;
  virtual ~Model() = default;

  // ---- Architecture --------------------------------------------------------------------------

  // The model's input: samples of `shape` (e.g. (3, 32, 32)). One per model.
  Node input(const Shape& shape, std::string name = "") {
    check_not_built("input");
    if (name.empty()) name = unique_name("input", [&](const std::string& n) { return taken(n); });
    if (taken(name)) fail(who("input"), ": the name '", name, "' is already used");
    return {graph_.add_input(std::move(name), shape)};
  }

  // Adds a layer reading `inputs` (one, or several for a merge: Add, Concatenate) and returns the
  // node of its output; names the layer Keras-style when it has no name.
  Node add(std::unique_ptr<Layer<T>> layer, const std::vector<Node>& inputs) {
    if (layer == nullptr) fail(who("add"), ": expected a layer, got nullptr");
    check_not_built("add", layer.get());
    if (inputs.empty()) fail(who("add"), ": ", layer->label(), " needs an input node");
    const bool merge = layer->as_merge() != nullptr;
    if (merge != (inputs.size() > 1))
      fail(who("add"), ": ", layer->label(),
           merge ? " takes 2 or more inputs, got " : " takes 1 input, got ", inputs.size());
    std::vector<Index> vertices;
    for (const Node& node : inputs) {
      if (node.index < 0 || node.index >= graph_.size())
        fail(who("add"), ": ", layer->label(), " reads node ", node.index,
             ", which is not a node of this model");
      vertices.push_back(node.index);
    }
    name_layer(*layer);
    const Index vertex = graph_.add_layer(std::shared_ptr<Layer<T>>(std::move(layer)), vertices);
    layer_vertices_.push_back(vertex);
    return {vertex};
  }
  Node add(std::unique_ptr<Layer<T>> layer, Node input) {
    return add(std::move(layer), std::vector<Node>{input});
  }

  // add<Conv2D>(x, 32, 3), add<Add>({y, x}): constructs LayerType<T> from the arguments.
  template <template <typename> class LayerType, typename... Args>
  Node add(Node input, Args&&... args) {
    return add(std::make_unique<LayerType<T>>(std::forward<Args>(args)...), input);
  }
  template <template <typename> class LayerType, typename... Args>
  Node add(const std::vector<Node>& inputs, Args&&... args) {
    return add(std::make_unique<LayerType<T>>(std::forward<Args>(args)...), inputs);
  }

  // Infers every layer's shapes from the input's, initialises all parameters and makes `output`
  // the model's output. Layer number k draws from the k-th fork of Random(seed), so its initial
  // weights do not depend on how many numbers the layers before it drew.
  void build(Node output, std::uint64_t seed) {
    if (built_) fail(who("build"), ": the model is already built");
    if (layer_vertices_.empty()) fail(who("build"), ": the model has no layers; add() some first");
    graph_.build(output.index, seed, who("build").c_str());
    finish_build();
  }

  bool built() const { return built_; }
  // Shapes of one sample.
  const Shape& input_shape() const { return graph_.vertex(input_vertex()).shape; }
  const Shape& output_shape() const { return graph_.vertex(graph_.output()).shape; }

  // The number of layers (the input is not one).
  Index size() const { return static_cast<Index>(layer_vertices_.size()); }

  // The i-th layer, from 0, in the order they were added.
  Layer<T>& layer(Index i) {
    if (i < 0 || i >= size()) fail(who("layer"), ": index ", i, " is outside [0, ", size(), ")");
    return *graph_.vertex(layer_vertices_[static_cast<std::size_t>(i)]).layer;
  }
  const Layer<T>& layer(Index i) const { return const_cast<Model&>(*this).layer(i); }

  // The layer with this name (Keras's get_layer).
  Layer<T>& layer(const std::string& name) {
    const Index v = graph_.find(name);
    if (v < 0 || graph_.is_input(v)) fail(who("layer"), ": no layer is named '", name, "'");
    return *graph_.vertex(v).layer;
  }
  const Layer<T>& layer(const std::string& name) const {
    return const_cast<Model&>(*this).layer(name);
  }

  // The names of the layers (or of the input) layer i reads.
  std::vector<std::string> layer_inputs(Index i) const {
    layer(i);  // checks i
    std::vector<std::string> names;
    for (Index input : graph_.vertex(layer_vertices_[static_cast<std::size_t>(i)]).inputs)
      names.push_back(graph_.vertex(input).name);
    return names;
  }
  std::vector<std::string> layer_inputs(const std::string& name) const {
    const Index v = graph_.find(name);
    if (v < 0 || graph_.is_input(v)) fail(who("layer_inputs"), ": no layer is named '", name, "'");
    return layer_inputs(layer_position(v));
  }

  // The model from this one's input to the output of the layer `name`, sharing its layers (Keras's
  // Model(inputs=base.input, outputs=base.get_layer(name).output)): the same weights, so that
  // training either model changes both, and the same frozen flags. It holds only `name` and the
  // layers it depends on, so its predict() runs just those: features from a backbone, computed
  // once and fed to a new head. Its loss is not set; it is built.
  //   Model<float> features = resnet.sub_model("avgpool");  // (N, 2048) from (N, 3, 224, 224)
  Model sub_model(const std::string& name, std::string model_name = "model") const {
    check_built("sub_model");
    const Index last = graph_.find(name);
    if (last < 0 || graph_.is_input(last))
      fail(who("sub_model"), ": no layer is named '", name, "'");
    std::vector<char> needed(static_cast<std::size_t>(graph_.size()), 0);
    needed[static_cast<std::size_t>(last)] = 1;
    for (Index v = last; v >= 0; --v)
      if (needed[static_cast<std::size_t>(v)])
        for (Index input : graph_.vertex(v).inputs)
          needed[static_cast<std::size_t>(input)] = 1;
    Model result("Model", std::move(model_name));
    std::vector<Index> vertex_in_result(static_cast<std::size_t>(graph_.size()), -1);
    for (Index v = 0; v <= last; ++v) {
      if (!needed[static_cast<std::size_t>(v)]) continue;
      const auto& vertex = graph_.vertex(v);
      Index copy;
      if (vertex.layer == nullptr) {
        copy = result.graph_.add_input(vertex.name, vertex.shape);
      } else {
        std::vector<Index> inputs;
        for (Index input : vertex.inputs)
          inputs.push_back(vertex_in_result[static_cast<std::size_t>(input)]);
        copy = result.graph_.add_layer(vertex.layer, std::move(inputs));
        result.layer_vertices_.push_back(copy);
      }
      vertex_in_result[static_cast<std::size_t>(v)] = copy;
    }
    result.graph_.build_shared(vertex_in_result[static_cast<std::size_t>(last)],
                               result.who("sub_model").c_str());
    result.finish_build();
    return result;
  }

  // Every layer's parameters, trainable and not, frozen or not, layer by layer in the layers'
  // order: what checkpoints hold.
  const std::vector<Parameter<T>*>& parameters() { return parameters_; }

  // The parameters fit() and train_on_batch() step: those of the layers not frozen (their state,
  // such as moving statistics, included: optimizers skip it).
  const std::vector<Parameter<T>*>& trainable_parameters() {
    step_parameters_.clear();
    for (std::size_t j = 0; j < parameters_.size(); ++j)
      if (parameter_owners_[j]->trainable()) step_parameters_.push_back(parameters_[j]);
    return step_parameters_;
  }

  // Keras's counts: trainable = the weights of layers not frozen; non-trainable = state and the
  // weights of frozen layers.
  Index parameter_count(bool trainable) const {
    Index count = 0;
    for (Index i = 0; i < size(); ++i) {
      const Layer<T>& layer = this->layer(i);
      for (const Parameter<T>* p : layer.parameters())
        if ((p->trainable && layer.trainable()) == trainable) count += p->value.size();
    }
    return count;
  }

  // Keras's model.summary(), with shapes in minicnn's (C, H, W) layout. A graph model has the
  // input as its first row and a "Connected to" column, as Keras prints functional models:
  //
  //   Model: "model"
  //   ______________________________________________________________________________________
  //   Layer (type)                 Output Shape              Param #   Connected to
  //   ======================================================================================
  //   input (InputLayer)           (None, 3, 32, 32)         0
  //   conv2d (Conv2D)              (None, 16, 32, 32)        448       input
  //   ...
  //   add (Add)                    (None, 16, 32, 32)        0         re_lu
  //                                                                    input
  //   ...
  //   Total params: ...
  //
  // Columns are Keras's (29, 26 and 10 characters) or wider when a cell needs it.
  std::string summary() const {
    check_built("summary");
    const bool graph = shows_connections();
    std::vector<std::vector<std::string>> rows = {{"Layer (type)", "Output Shape", "Param #"}};
    if (graph) rows[0].push_back("Connected to");
    const auto shape_text = [](const Shape& shape) {
      const std::string text = shape.str();
      return "(None" + (text.size() > 2 ? ", " + text.substr(1) : ")");
    };
    for (Index v = 0; v < graph_.size(); ++v) {
      const auto& vertex = graph_.vertex(v);
      if (vertex.layer == nullptr) {
        if (graph)
          rows.push_back({vertex.name + " (InputLayer)", shape_text(vertex.shape), "0", ""});
        continue;
      }
      const Layer<T>& layer = *vertex.layer;
      rows.push_back({layer.name() + " (" + layer.kind() + ")", shape_text(vertex.shape),
                      thousands(layer.parameter_count(true) + layer.parameter_count(false))});
      if (graph) {
        rows.back().push_back(graph_.vertex(vertex.inputs[0]).name);
        for (std::size_t k = 1; k < vertex.inputs.size(); ++k)
          rows.push_back({"", "", "", graph_.vertex(vertex.inputs[k]).name});
      }
    }
    const std::size_t columns = rows[0].size();
    std::vector<std::size_t> widths = {29, 26, 10, 20};
    widths.resize(columns);
    for (const auto& row : rows)
      for (std::size_t c = 0; c < columns; ++c)
        widths[c] = std::max(widths[c], row[c].size() + 1);
    std::size_t line = 0;
    for (std::size_t width : widths)
      line += width;
    const auto format = [&](const std::vector<std::string>& row) {
      std::string text;
      for (std::size_t c = 0; c + 1 < columns; ++c) {
        text += row[c];
        text.resize(text.size() + widths[c] - row[c].size(), ' ');
      }
      text += row[columns - 1];
      while (!text.empty() && text.back() == ' ')
        text.pop_back();
      return text + '\n';
    };
    const Index trainable = parameter_count(true), frozen = parameter_count(false);
    std::string text = "Model: \"" + model_name_ + "\"\n" + std::string(line, '_') + '\n' +
                       format(rows[0]) + std::string(line, '=') + '\n';
    for (std::size_t r = 1; r < rows.size(); ++r) {
      text += format(rows[r]);
      const bool continued = r + 1 < rows.size() && rows[r + 1][0].empty();
      if (r + 1 < rows.size() && !continued) text += std::string(line, '_') + '\n';
    }
    return text + std::string(line, '=') + "\nTotal params: " + thousands(trainable + frozen) +
           "\nTrainable params: " + thousands(trainable) +
           "\nNon-trainable params: " + thousands(frozen) + '\n' + std::string(line, '_') + '\n';
  }
  void print_summary(std::ostream& out = std::cout) const { out << summary(); }

  // The engine underneath, to look at (its vertices, the inference buffers it plans).
  const Graph<T>& graph() const { return graph_; }

  // Inference fusion (model/fusion.hpp), on by default: a convolution's BatchNorm and ReLU run in
  // its output pass. Off, every layer runs as its own pass: the unfused numbers, which the fused
  // ones equal up to rounding. Switch it only while nothing infers on the model.
  void set_inference_fusion(bool on) { graph_.set_fusion(on); }
  bool inference_fusion() const { return graph_.fusion(); }

  // ---- Loss and training ---------------------------------------------------------------------

  // The loss fit() minimises and evaluate() reports (Keras's compile(loss=...)).
  void set_loss(std::unique_ptr<Loss<T>> loss) {
    if (loss == nullptr) fail(who("set_loss"), ": expected a loss, got nullptr");
    loss_ = std::move(loss);
    logits_loss_ = loss_->on_logits();
    update_fusion();
  }
  const Loss<T>& loss() const {
    if (loss_ == nullptr) fail(class_name_, ": no loss; call set_loss() first");
    return *loss_;
  }
  // True when training computes the loss from the output Softmax's input (see the top of the file).
  bool fuses_softmax() const { return fused_; }

  // One batch: zero_grad -> forward (training) -> loss -> backward. Returns the mean loss over
  // the batch and leaves dL/dp in every trainable parameter's grad for an optimizer to use.
  //   x (N, input_shape...), y (N) class indices or (N, K) targets
  T compute_gradients(const Tensor<T>& x, const Tensor<T>& y) {
    return forward_backward(x, y, nullptr, -1, -1, 0);
  }

  // compute_gradients, then one optimizer step on the layers not frozen: Keras's train_on_batch.
  T train_on_batch(const Tensor<T>& x, const Tensor<T>& y, Optimizer<T>& optimizer) {
    const T loss = compute_gradients(x, y);
    optimizer.step(trainable_parameters());
    return loss;
  }

  // Trains on `train` for options.epochs (see fit_options.hpp) and returns the per-epoch figures.
  // The loop is train/fit.hpp's.
  History fit(const Samples<T>& data, Optimizer<T>& optimizer,
              const FitOptions<T>& options = FitOptions<T>());
  // x (N, input_shape...) and y (N) class indices or (N, K) targets.
  History fit(const Tensor<T>& x, const Tensor<T>& y, Optimizer<T>& optimizer,
              const FitOptions<T>& options = FitOptions<T>()) {
    return fit(Samples<T>(x, y), optimizer, options);
  }
  // A Dataset, converted batch by batch (each batch reuses the same tensors).
  History fit(const Dataset& data, const Normalization<T>& normalization, Optimizer<T>& optimizer,
              const FitOptions<T>& options = FitOptions<T>()) {
    return fit(Samples<T>(data, normalization), optimizer, options);
  }

  // ---- Inference -----------------------------------------------------------------------------

  // Mean loss and accuracy over the samples, in inference mode, batch by batch. Accuracy: the
  // fraction of samples whose highest output is the label (or the highest entry of a (N, K)
  // target row).
  Evaluation evaluate(const Samples<T>& samples, Index batch_size = 32) const {
    check_built("evaluate");
    objective();  // throws when there is no loss
    check_samples("evaluate", samples.sample_shape());
    if (batch_size <= 0) fail(who("evaluate"), ": expected batch_size > 0, got ", batch_size);
    BorrowedWorkspace workspace(*workspace_pool_);
    return evaluate_with(samples, batch_size, *workspace);
  }
  Evaluation evaluate(const Tensor<T>& x, const Tensor<T>& y, Index batch_size = 32) const {
    return evaluate(Samples<T>(x, y), batch_size);
  }

  // The model's outputs (N, output_shape...) for x (N, input_shape...), e.g. probabilities
  // (N, K) after a Softmax; inference mode, batch by batch.
  Tensor<T> predict(const Tensor<T>& x, Index batch_size = 32) const {
    check_built("predict");
    check_inputs("predict", x, batch_size);
    const Index samples = x.dim(0);
    Tensor<T> result(output_shape().with_batch(samples));
    const Index row = output_shape().size();
    BorrowedWorkspace workspace(*workspace_pool_);
    for (Index first = 0; first < samples; first += batch_size) {
      const Index count = std::min(batch_size, samples - first);
      const Tensor<T>& out =
          graph_.infer(rows(x, first, count, workspace->x), graph_.output(), *workspace);
      std::memcpy(result.data() + first * row, out.data(),
                  static_cast<std::size_t>(count * row) * sizeof(T));
    }
    return result;
  }

  // The index of the highest output of each sample: the predicted class.
  std::vector<Index> predict_classes(const Tensor<T>& x, Index batch_size = 32) const {
    check_built("predict_classes");
    check_inputs("predict_classes", x, batch_size);
    std::vector<Index> classes;
    classes.reserve(static_cast<std::size_t>(x.dim(0)));
    BorrowedWorkspace workspace(*workspace_pool_);
    for (Index first = 0; first < x.dim(0); first += batch_size) {
      const Index count = std::min(batch_size, x.dim(0) - first);
      // Softmax keeps the order of its inputs, so the logits' argmax is the class.
      const Tensor<T>& out =
          graph_.infer(rows(x, first, count, workspace->x), scored_vertex(), *workspace);
      const auto scores = out.matrix();
      for (Index n = 0; n < count; ++n)
        classes.push_back(argmax(scores, n));
    }
    return classes;
  }

  // The output of layer `layer` (0-based) for x, in inference mode: feature maps, embeddings,
  // the features a frozen backbone extracts.
  Tensor<T> layer_output(const Tensor<T>& x, Index layer, Index batch_size = 32) const {
    check_built("layer_output");
    check_inputs("layer_output", x, batch_size);
    this->layer(layer);  // checks the index
    const Index vertex = layer_vertices_[static_cast<std::size_t>(layer)];
    const Shape& shape = graph_.vertex(vertex).shape;
    Tensor<T> result(shape.with_batch(x.dim(0)));
    BorrowedWorkspace workspace(*workspace_pool_);
    for (Index first = 0; first < x.dim(0); first += batch_size) {
      const Index count = std::min(batch_size, x.dim(0) - first);
      const Tensor<T>& out = graph_.infer(rows(x, first, count, workspace->x), vertex, *workspace);
      std::memcpy(result.data() + first * shape.size(), out.data(),
                  static_cast<std::size_t>(count * shape.size()) * sizeof(T));
    }
    return result;
  }

  // ---- Gradients with respect to the input ---------------------------------------------------

  // The gradient of one layer's output with respect to the model's input, in inference mode
  // (BatchNorm with its moving statistics, Dropout as the identity): what saliency maps and
  // activation maximisation need. With z = output of layer `layer` (0-based) for input x, and the
  // seed s of z's shape, it differentiates the scalar
  //   L(x) = sum over all elements of s * z(x)
  // so s = 1 at one unit and 0 elsewhere gives d unit / dx, and s = dLoss/dz gives dLoss/dx.
  //   x (N, input_shape...), seed (N, layer(layer).output_shape()...), dx (N, input_shape...)
  // Returns L. Nothing of training (the last training forward's outputs, the moving statistics,
  // random streams) is read or changed. Every trainable parameter's grad is zeroed and then holds
  // dL/dp, as after compute_gradients(). The buffers are kept, so repeated calls of one shape
  // allocate nothing.
  T input_gradient(const Tensor<T>& x, Index layer, const Tensor<T>& seed, Tensor<T>& dx) {
    check_built("input_gradient");
    check_inputs("input_gradient", x, 1);
    if (layer < 0 || layer >= size())
      fail(who("input_gradient"), ": layer index ", layer, " is outside [0, ", size(), ")");
    const Index vertex = layer_vertices_[static_cast<std::size_t>(layer)];
    const Shape expected = graph_.vertex(vertex).shape.with_batch(x.dim(0));
    if (seed.shape() != expected)
      fail(who("input_gradient"), ": expected a seed of shape ", expected, " (the output of ",
           this->layer(layer).label(), "), got ", seed.shape());
    Optimizer<T>::zero_grad(parameters_);
    const Tensor<T>& z = graph_.input_gradient(x, vertex, seed, dx);
    return static_cast<T>(z.vector().dot(seed.vector()));
  }

  // ---- Checkpoints ---------------------------------------------------------------------------

  // Everything needed to rebuild the model and resume training: architecture (the graph),
  // weights, non-trainable state, frozen flags, random streams, and, when given, the optimizer's
  // state.
  Checkpoint<T> checkpoint(const Optimizer<T>* optimizer = nullptr,
                           Index epochs_completed = 0) const {
    check_built("checkpoint");
    Checkpoint<T> c;
    c.input_name = graph_.vertex(input_vertex()).name;
    c.input_shape = input_shape();
    for (Index i = 0; i < size(); ++i) {
      const Layer<T>& layer = this->layer(i);
      typename Checkpoint<T>::LayerEntry entry;
      entry.kind = layer.kind();
      entry.name = layer.name();
      entry.config = layer.config();
      entry.inputs = layer_inputs(i);
      entry.trainable = layer.trainable();
      for (const Parameter<T>* p : layer.parameters())
        entry.tensors.emplace_back(p->name, p->value);
      if (Random* random = const_cast<Layer<T>&>(layer).random_stream()) {
        entry.has_random = true;
        entry.random = random->state();
      }
      c.layers.push_back(std::move(entry));
    }
    c.output_name = graph_.vertex(graph_.output()).name;
    if (optimizer != nullptr) {
      // slots() is not const (it hands out the tensors to fill on restore); reading them here
      // changes nothing.
      auto& mutable_optimizer = const_cast<Optimizer<T>&>(*optimizer);
      c.has_optimizer = true;
      c.optimizer_kind = optimizer->kind();
      c.optimizer_config = optimizer->config();
      c.learning_rate = optimizer->learning_rate();
      c.iterations = optimizer->iterations();
      for (const auto& [name, tensor] : mutable_optimizer.slots())
        c.optimizer_slots.emplace_back(name, *tensor);
    }
    c.epochs_completed = epochs_completed;
    return c;
  }

  // Loads the checkpoint's weights, state and random streams into this built model (and the
  // optimizer's slots, learning rate and iteration count into `optimizer` when given). The
  // architecture must match layer by layer, connections included: the first difference is
  // reported by layer, tensor name and shape. Frozen flags stay as the model has them. Returns the
  // number of epochs the checkpoint had completed.
  Index restore(const Checkpoint<T>& c, Optimizer<T>* optimizer = nullptr) {
    check_built("restore");
    check_architecture(c);
    if (optimizer != nullptr) check_optimizer(c, *optimizer);
    for (Index i = 0; i < size(); ++i)
      copy_weights(c.layers[static_cast<std::size_t>(i)], layer(i));
    if (optimizer != nullptr) {
      for (const auto& [name, tensor] : optimizer->slots()) {
        if (c.optimizer_slots.empty()) {  // saved before its first step: zero state
          tensor->set_zero();
          continue;
        }
        const auto& stored = find_slot(c, name)->second;
        std::copy(stored.begin(), stored.end(), tensor->begin());
      }
      optimizer->set_learning_rate(c.learning_rate);
      optimizer->set_iterations(c.iterations);
    }
    return c.epochs_completed;
  }

  // Keras's load_weights: weights and state from a checkpoint, nothing else (no optimizer, no
  // frozen flags). By position, the checkpoint's architecture must be the model's, as for
  // restore(). By name, each layer takes the weights of the checkpoint's layer of the same name,
  // and layers without a namesake keep theirs: a backbone's checkpoint into a model with a new
  // head. A namesake of another kind or with other tensors is an Error naming both, or, with
  // OnMismatch::skip, left out. Returns the names of the layers that received weights.
  std::vector<std::string> load_weights(const Checkpoint<T>& c, Match match = Match::by_position,
                                        OnMismatch on_mismatch = OnMismatch::fail) {
    check_built("load_weights");
    std::vector<std::string> loaded;
    if (match == Match::by_position) {
      check_architecture(c);
      for (Index i = 0; i < size(); ++i) {
        copy_weights(c.layers[static_cast<std::size_t>(i)], layer(i));
        loaded.push_back(layer(i).name());
      }
      return loaded;
    }
    for (const auto& entry : c.layers) {
      const Index vertex = graph_.find(entry.name);
      if (vertex < 0 || graph_.is_input(vertex)) continue;
      Layer<T>& layer = *graph_.vertex(vertex).layer;
      const std::string difference = weights_difference(entry, layer);
      if (!difference.empty()) {
        if (on_mismatch == OnMismatch::skip) continue;
        fail(who("load_weights"), ": ", layer.label(), " ", difference,
             " (OnMismatch::skip leaves such layers as they are)");
      }
      copy_weights(entry, layer);
      loaded.push_back(layer.name());
    }
    return loaded;
  }
  std::vector<std::string> load_weights(const std::string& path, Match match = Match::by_position,
                                        OnMismatch on_mismatch = OnMismatch::fail) {
    return load_weights(load_checkpoint<T>(path), match, on_mismatch);
  }

  // A model rebuilt from a checkpoint: each layer made from its kind and config
  // (io/layer_registry.hpp), named, connected and frozen as saved, built on the saved input
  // shape, then restored. The loss is not part of a checkpoint: call set_loss() before training
  // or evaluating. Defined in io/layer_registry.hpp, which knows every layer.
  //
  // The configs and the input shape are not bounded by the file's size (a Dense with units =
  // 10^12 is a few bytes of config), so nothing is built before every layer's plan (its output
  // shape and parameter shapes, computed without allocating) matches the tensors the file stores.
  static Model from_checkpoint(const Checkpoint<T>& c);
  static Model load(const std::string& path) { return from_checkpoint(load_checkpoint<T>(path)); }

  // The same, through a checkpoint file (io/checkpoint_file.hpp; written atomically, so an
  // interrupted save leaves the previous file intact).
  void save(const std::string& path, const Optimizer<T>* optimizer = nullptr,
            Index epochs_completed = 0) const {
    save_checkpoint(path, checkpoint(optimizer, epochs_completed));
  }
  Index restore(const std::string& path, Optimizer<T>* optimizer = nullptr) {
    return restore(load_checkpoint<T>(path), optimizer);
  }

 protected:
  // class_name: how messages name the class ("Sequential::fit: ..."); model_name: the summary's.
  Model(std::string class_name, std::string model_name)
      : class_name_(std::move(class_name)), model_name_(std::move(model_name)) {}

  std::string who(const char* function) const { return class_name_ + "::" + function; }

  void check_not_built(const char* function, const Layer<T>* layer = nullptr) const {
    if (!built_) return;
    if (layer == nullptr) fail(who(function), ": the model is already built");
    fail(who(function), ": the model is already built; add ", layer->label(), " before build()");
  }

  void name_layer(Layer<T>& layer) const {
    if (layer.name().empty()) {
      layer.set_name(unique_name(keras_snake_case(layer.kind()),
                                 [&](const std::string& n) { return taken(n); }));
      return;
    }
    const Index other = graph_.find(layer.name());
    if (other >= 0)
      fail(who("add"), ": the name '", layer.name(), "' of ", layer.label(), " is already used by ",
           graph_.is_input(other) ? "the input" : graph_.vertex(other).layer->label());
  }

  // After the graph is built: the parameter lists, paths and fusion.
  void finish_build() {
    parameters_.clear();
    parameter_owners_.clear();
    for (Index i = 0; i < size(); ++i)
      for (Parameter<T>* p : layer(i).parameters()) {
        p->path = layer(i).name() + "/" + p->name;
        parameters_.push_back(p);
        parameter_owners_.push_back(&layer(i));
      }
    built_ = true;
    update_fusion();
  }

  // The last steps of from_checkpoint(), once the checkpoint's layers have been added, unbuilt,
  // with their connections: checks every layer's plan against the stored tensors (allocating
  // nothing: the configs may describe absurd shapes), then builds, restores the weights and
  // state, and freezes the layers saved frozen.
  void rebuild_from(const Checkpoint<T>& c, Node output, const char* function) {
    graph_.vertex(input_vertex()).shape = c.input_shape;
    const std::string context = who(function);
    graph_.plan(
        output.index, context.c_str(),
        [&](Index vertex, const LayerPlan& plan, const Shape& input) {
          const Layer<T>& layer = *graph_.vertex(vertex).layer;
          const auto& stored = c.layers[static_cast<std::size_t>(layer_position(vertex))].tensors;
          if (plan.parameters.size() != stored.size())
            fail(context, ": ", layer.label(), " expected ", stored.size(),
                 " tensors as stored in the checkpoint, its config describes ",
                 plan.parameters.size(), " on input ", input);
          for (std::size_t k = 0; k < stored.size(); ++k) {
            const ParameterShape& described = plan.parameters[k];
            const auto& [name, tensor] = stored[k];
            if (described.name != name || described.shape != tensor.shape())
              fail(context, ": ", layer.label(), " tensor ", k, " expected '", name, "' of shape ",
                   tensor.shape(), " as stored in the checkpoint, its config describes '",
                   described.name, "' of shape ", described.shape, " on input ", input);
          }
        });
    graph_.build(output.index, 0, context.c_str());  // the initial weights are overwritten next
    finish_build();
    for (Index i = 0; i < size(); ++i)
      layer(i).set_trainable(c.layers[static_cast<std::size_t>(i)].trainable);
    restore(c);
  }

  Graph<T>& engine() { return graph_; }

  // Sequential's summary has no input row nor "Connected to", as Keras's.
  virtual bool shows_connections() const { return true; }

 private:
  template <typename U>
  friend History detail::fit_model(Model<U>&, const Samples<U>&, Optimizer<U>&,
                                   const FitOptions<U>&);

  using Workspace = typename Graph<T>::Workspace;

  // The workspaces of finished evaluate() and predict() calls, kept for the next ones: a call on
  // batches of a size seen before then allocates no buffer (a fresh one per call would cost an
  // allocation, page faults and zero-filling of every activation, which dominate the call on one
  // batch). Concurrent calls each take a workspace of their own, under the mutex.
  class WorkspacePool {
   public:
    std::unique_ptr<Workspace> take() {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (idle_.empty()) return std::make_unique<Workspace>();
      std::unique_ptr<Workspace> workspace = std::move(idle_.back());
      idle_.pop_back();
      return workspace;
    }
    void give_back(std::unique_ptr<Workspace> workspace) noexcept {
      const std::lock_guard<std::mutex> lock(mutex_);
      try {
        idle_.push_back(std::move(workspace));
      } catch (...) {  // no memory to keep it: it is freed, and the next call makes a new one
      }
    }

   private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<Workspace>> idle_;
  };

  // A workspace taken from the pool for the length of one call.
  class BorrowedWorkspace {
   public:
    explicit BorrowedWorkspace(WorkspacePool& pool) : pool_(pool), workspace_(pool.take()) {}
    ~BorrowedWorkspace() { pool_.give_back(std::move(workspace_)); }
    BorrowedWorkspace(const BorrowedWorkspace&) = delete;
    BorrowedWorkspace& operator=(const BorrowedWorkspace&) = delete;
    Workspace& operator*() { return *workspace_; }
    Workspace* operator->() { return workspace_.get(); }

   private:
    WorkspacePool& pool_;
    std::unique_ptr<Workspace> workspace_;
  };

  bool taken(const std::string& name) const { return graph_.find(name) >= 0; }

  Index input_vertex() const {
    for (Index v = 0; v < graph_.size(); ++v)
      if (graph_.is_input(v)) return v;
    fail(who("input_shape"), ": the model has no input");
  }

  void check_built(const char* function) const {
    if (!built_) fail(who(function), ": the model is not built; call build() first");
  }

  void check_samples(const char* function, const Shape& sample) const {
    if (sample != input_shape())
      fail(who(function), ": expected samples of shape ", input_shape(),
           " (the input shape given to build()), got ", sample);
  }

  void check_inputs(const char* function, const Tensor<T>& x, Index batch_size) const {
    if (batch_size <= 0) fail(who(function), ": expected batch_size > 0, got ", batch_size);
    if (x.rank() != input_shape().rank() + 1 || x.shape().sample() != input_shape())
      fail(who(function), ": expected input of shape (N, ", input_shape().str().substr(1), ", got ",
           x.shape());
  }

  void update_fusion() {
    fused_ = built_ && logits_loss_ != nullptr &&
             graph_.vertex(graph_.output()).layer->kind() == "Softmax";
  }
  // The loss training and evaluation compute: its logits version when fused.
  const Loss<T>& objective() const { return fused_ ? *logits_loss_ : loss(); }

  // The vertex whose output the loss reads: the output, or the fused Softmax's input.
  Index scored_vertex() const {
    const Index output = graph_.output();
    return fused_ ? graph_.vertex(output).inputs[0] : output;
  }

  // The training step without the update: forward in training mode up to the scored vertex, the
  // loss and its gradient, then backward through what learns.
  T forward_backward(const Tensor<T>& x, const Tensor<T>& y, Index* correct, Index epoch,
                     Index batch, Index batches) {
    check_built("compute_gradients");
    const Loss<T>& loss_function = objective();
    Optimizer<T>::zero_grad(parameters_);
    const Index scored = scored_vertex();
    const Tensor<T>& prediction = graph_.forward(x, scored);
    const T loss = loss_function.compute(prediction, y, &graph_.output_gradient(scored));
    if (!std::isfinite(static_cast<double>(loss)))
      non_finite(detail::concat("the loss is ", spelled(loss), " (",
                                first_non_finite_value(x, scored), ")"),
                 epoch, batch, batches);
    if (correct != nullptr) *correct = count_correct(prediction, y);
    graph_.backward();
    // A finite loss can still give an infinite gradient (an overflow in backward): the optimizer
    // must not apply it. The check is one vectorised pass over the gradients, from the output
    // layer down, so the layer named is the first whose gradient went non-finite.
    for (std::size_t j = parameters_.size(); j-- > 0;) {
      const Parameter<T>& p = *parameters_[j];
      if (p.trainable && parameter_owners_[j]->trainable() && !p.grad.vector().allFinite())
        non_finite(detail::concat("the gradient of ", parameter_owners_[j]->label(), " ", p.name,
                                  " is not finite"),
                   epoch, batch, batches);
    }
    return loss;
  }

  // Spelled out: printing a NaN gives "nan" or "-nan" depending on its sign bit.
  static const char* spelled(T value) {
    return std::isnan(value) ? "NaN" : value > 0 ? "+inf" : "-inf";
  }

  // Where a non-finite loss came from: the input batch, or the first layer whose output of the
  // last training forward holds a NaN or an infinity, or else the loss itself.
  std::string first_non_finite_value(const Tensor<T>& x, Index last) const {
    if (!x.vector().allFinite()) return "the input batch holds non-finite values";
    for (Index v = 0; v <= last; ++v)
      if (!graph_.is_input(v) && !graph_.training_output(v).vector().allFinite())
        return "first non-finite values in the output of " + graph_.vertex(v).layer->label();
    return "every layer output is finite: the loss overflowed";
  }

  [[noreturn]] void non_finite(const std::string& what, Index epoch, Index batch,
                               Index batches) const {
    if (epoch < 0)
      fail(who("compute_gradients"), ": ", what,
           "; the weights were not updated (lower the learning rate or check the data)");
    fail(who("fit"), ": epoch ", epoch + 1, ", batch ", batch + 1, "/", batches, ": ", what,
         "; the weights were not updated (lower the learning rate or check the data)");
  }

  Evaluation evaluate_with(const Samples<T>& shared, Index batch_size, Workspace& workspace) const {
    const Samples<T> samples = shared;  // a view of our own: gather() reuses scratch space
    const Loss<T>& loss_function = objective();
    double loss_sum = 0.0;
    Index correct = 0;
    for (Index first = 0; first < samples.size(); first += batch_size) {
      const Index count = std::min(batch_size, samples.size() - first);
      samples.gather_range(first, count, workspace.x, workspace.y);
      const Tensor<T>& prediction = graph_.infer(workspace.x, scored_vertex(), workspace);
      loss_sum += static_cast<double>(loss_function.compute(prediction, workspace.y, nullptr)) *
                  static_cast<double>(count);
      correct += count_correct(prediction, workspace.y);
    }
    const auto n = static_cast<double>(samples.size());
    return {loss_sum / n, static_cast<double>(correct) / n};
  }

  // Rows [first, first + count) of x, copied into `batch`.
  static const Tensor<T>& rows(const Tensor<T>& x, Index first, Index count, Tensor<T>& batch) {
    const Index row = x.size() / x.dim(0);
    batch.resize(x.shape().sample().with_batch(count));
    std::memcpy(batch.data(), x.data() + first * row,
                static_cast<std::size_t>(count * row) * sizeof(T));
    return batch;
  }

  template <typename Matrix>
  static Index argmax(const Matrix& m, Index row) {
    Index best = 0;
    for (Index k = 1; k < m.cols(); ++k)
      if (m(row, k) > m(row, best)) best = k;
    return best;
  }

  // Samples whose highest prediction is the target class: y (N) holds class indices, y (N, K)
  // one-hot (or probability) rows whose highest entry is the class.
  static Index count_correct(const Tensor<T>& prediction, const Tensor<T>& y) {
    const auto scores = prediction.matrix();
    Index correct = 0;
    if (y.rank() == 1) {
      for (Index n = 0; n < scores.rows(); ++n)
        correct += argmax(scores, n) == static_cast<Index>(y[n]);
    } else {
      const auto targets = y.matrix();
      for (Index n = 0; n < scores.rows(); ++n)
        correct += argmax(scores, n) == argmax(targets, n);
    }
    return correct;
  }

  static std::string thousands(Index value) {
    std::string digits = std::to_string(value);
    for (Index i = static_cast<Index>(digits.size()) - 3; i > 0; i -= 3)
      digits.insert(static_cast<std::size_t>(i), ",");
    return digits;
  }

  // The position of the layer named `name` in the checkpoint, or -1 for its input.
  static Index checkpoint_position(const Checkpoint<T>& c, const std::string& name,
                                   const char* who_text) {
    if (name == c.input_name) return -1;
    for (std::size_t i = 0; i < c.layers.size(); ++i)
      if (c.layers[i].name == name) return static_cast<Index>(i);
    fail(who_text, ": the checkpoint names '", name, "', which is neither its input nor a layer");
  }

  // The checkpoint describes this architecture: same layer count, kinds, connections, tensors.
  void check_architecture(const Checkpoint<T>& c) const {
    const std::string restore = who("restore");
    if (c.input_shape != input_shape())
      fail(restore, ": the model's input shape is ", input_shape(), ", the checkpoint's ",
           c.input_shape);
    if (c.layers.size() != static_cast<std::size_t>(size()))
      fail(restore, ": the model has ", size(), " layers, the checkpoint ", c.layers.size());
    for (Index i = 0; i < size(); ++i) {
      const Layer<T>& layer = this->layer(i);
      const auto& entry = c.layers[static_cast<std::size_t>(i)];
      if (entry.kind != layer.kind())
        fail(restore, ": layer ", i, " is ", layer.label(), " in the model but ", entry.kind, " '",
             entry.name, "' in the checkpoint");
      const auto& inputs = graph_.vertex(layer_vertices_[static_cast<std::size_t>(i)]).inputs;
      bool same = inputs.size() == entry.inputs.size();
      for (std::size_t k = 0; same && k < inputs.size(); ++k)
        same =
            layer_position(inputs[k]) == checkpoint_position(c, entry.inputs[k], restore.c_str());
      if (!same)
        fail(restore, ": ", layer.label(), " reads ", join(layer_inputs(i)),
             " in the model but the checkpoint's layer '", entry.name, "' reads ",
             join(entry.inputs));
      const auto parameters = layer.parameters();
      for (std::size_t k = 0; k < std::max(parameters.size(), entry.tensors.size()); ++k) {
        if (k >= parameters.size() || k >= entry.tensors.size())
          fail(restore, ": ", layer.label(), " has ", parameters.size(),
               " tensors, the checkpoint's layer '", entry.name, "' ", entry.tensors.size());
        const auto& [name, tensor] = entry.tensors[k];
        if (name != parameters[k]->name || tensor.shape() != parameters[k]->value.shape())
          fail(restore, ": ", layer.label(), " tensor '", parameters[k]->name, "' expected shape ",
               parameters[k]->value.shape(), ", got '", name, "' of shape ", tensor.shape(),
               " in the checkpoint");
      }
      if (entry.has_random != (const_cast<Layer<T>&>(layer).random_stream() != nullptr))
        fail(restore, ": ", layer.label(), " random stream: the checkpoint ",
             entry.has_random ? "has one" : "has none");
    }
    if (checkpoint_position(c, c.output_name, restore.c_str()) != layer_position(graph_.output()))
      fail(restore, ": the model's output is ", graph_.vertex(graph_.output()).name,
           ", the checkpoint's ", c.output_name);
  }

  // The entry's tensors into the layer's parameters, and its random stream (shapes checked).
  static void copy_weights(const typename Checkpoint<T>::LayerEntry& entry, Layer<T>& layer) {
    const auto parameters = layer.parameters();
    for (std::size_t k = 0; k < parameters.size(); ++k)
      std::copy(entry.tensors[k].second.begin(), entry.tensors[k].second.end(),
                parameters[k]->value.begin());
    if (Random* random = layer.random_stream(); random != nullptr && entry.has_random)
      random->set_state(entry.random);
  }

  // What keeps the entry's weights out of the layer ("" when nothing does).
  static std::string weights_difference(const typename Checkpoint<T>::LayerEntry& entry,
                                        const Layer<T>& layer) {
    if (entry.kind != layer.kind())
      return "is a " + layer.kind() + ", the checkpoint's layer of that name a " + entry.kind;
    const auto parameters = layer.parameters();
    if (parameters.size() != entry.tensors.size())
      return detail::concat("has ", parameters.size(), " tensors, the checkpoint's ",
                            entry.tensors.size());
    for (std::size_t k = 0; k < parameters.size(); ++k)
      if (entry.tensors[k].first != parameters[k]->name ||
          entry.tensors[k].second.shape() != parameters[k]->value.shape())
        return detail::concat("tensor '", parameters[k]->name, "' has shape ",
                              parameters[k]->value.shape(), ", the checkpoint's '",
                              entry.tensors[k].first, "' ", entry.tensors[k].second.shape());
    return "";
  }

  // The layer index of a vertex, or -1 for the input.
  Index layer_position(Index vertex) const {
    const auto found = std::find(layer_vertices_.begin(), layer_vertices_.end(), vertex);
    return found == layer_vertices_.end() ? -1
                                          : static_cast<Index>(found - layer_vertices_.begin());
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& name : names)
      text += (text.empty() ? "'" : ", '") + name + "'";
    return text;
  }

  // The stored slot named `name`, or the end of the list.
  static auto find_slot(const Checkpoint<T>& c, const std::string& name) {
    return std::find_if(c.optimizer_slots.begin(), c.optimizer_slots.end(),
                        [&](const auto& slot) { return slot.first == name; });
  }

  // The checkpoint holds state for this optimizer: same kind, and a slot of the same shape for
  // each slot the optimizer has. Creates the slots (prepare) of the layers not frozen and of every
  // parameter the checkpoint has state for, so that they can be compared and filled.
  void check_optimizer(const Checkpoint<T>& c, Optimizer<T>& optimizer) {
    const std::string restore = who("restore");
    if (!c.has_optimizer)
      fail(restore, ": an optimizer was given but the checkpoint holds no optimizer state");
    if (c.optimizer_kind != optimizer.kind())
      fail(restore, ": the optimizer is ", optimizer.kind(), ", the checkpoint's ",
           c.optimizer_kind);
    std::vector<Parameter<T>*> stateful;
    for (std::size_t j = 0; j < parameters_.size(); ++j) {
      const std::string suffix = "/" + parameters_[j]->path;
      const bool saved =
          std::any_of(c.optimizer_slots.begin(), c.optimizer_slots.end(), [&](const auto& slot) {
            const auto& name = slot.first;
            return name.size() > suffix.size() &&
                   name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
          });
      if (saved || parameter_owners_[j]->trainable()) stateful.push_back(parameters_[j]);
    }
    optimizer.prepare(stateful);
    const auto slots = optimizer.slots();
    if (c.optimizer_slots.empty()) return;  // saved before the first step, when slots are made
    if (slots.size() != c.optimizer_slots.size())
      fail(restore, ": ", optimizer.kind(), " has ", slots.size(), " slots, the checkpoint ",
           c.optimizer_slots.size());
    for (const auto& [name, tensor] : slots) {
      const auto stored = find_slot(c, name);
      if (stored == c.optimizer_slots.end())
        fail(restore, ": ", optimizer.kind(), " slot '", name, "' is not in the checkpoint");
      if (stored->second.shape() != tensor->shape())
        fail(restore, ": ", optimizer.kind(), " slot '", name, "' expected shape ", tensor->shape(),
             ", got '", name, "' of shape ", stored->second.shape(), " in the checkpoint");
    }
  }

  std::string class_name_;
  std::string model_name_;
  Graph<T> graph_;
  std::vector<Index> layer_vertices_;  // layer i's vertex
  bool built_ = false;
  std::vector<Parameter<T>*> parameters_;       // every layer's, in order
  std::vector<Layer<T>*> parameter_owners_;     // parameter_owners_[j]: the layer of parameters_[j]
  std::vector<Parameter<T>*> step_parameters_;  // trainable_parameters()'s list, reused
  std::unique_ptr<Loss<T>> loss_;
  std::unique_ptr<Loss<T>> logits_loss_;  // loss_->on_logits(), may be null
  bool fused_ = false;                    // output layer Softmax and logits_loss_ available
  Tensor<T> batch_x_, batch_y_;           // the current batch in fit()
  // Behind a pointer, so that the model stays movable (a mutex is not).
  std::unique_ptr<WorkspacePool> workspace_pool_ = std::make_unique<WorkspacePool>();
};

}  // namespace minicnn

#include "minicnn/train/fit.hpp"
