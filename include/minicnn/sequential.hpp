// Sequential<T>: a stack of layers trained as one model, with Keras's API.
//
//   Sequential<float> model;
//   model.add<Conv2D>(32, 3).add<ReLU>().add<Flatten>().add<Dense>(10).add<Softmax>();
//   model.build({1, 28, 28}, /*seed=*/42);          // shapes of one sample, as Keras
//   model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
//   std::cout << model.summary();
//   Adam<float> adam;
//   FitOptions<float> options;
//   options.epochs = 5;
//   History history = model.fit(x_train, y_train, adam, options);
//   auto [loss, accuracy] = model.evaluate(x_test, y_test);
//   model.save("model.ckpt", &adam, options.epochs);   // resume later with restore()
//
// Layers are added either constructed (add(std::make_unique<Conv2D<float>>(32, 3))) or by
// template name with their constructor arguments (add<Conv2D>(32, 3)), which reads like the
// Keras model it mirrors. An unnamed layer gets Keras's name: the snake case of its kind as
// Keras spells it ("conv2d", "max_pooling2d", "batch_normalization", "re_lu"), then "_1", "_2"...
// for later layers of the same kind.
//
// Training step (compute_gradients + optimizer step): zero_grad -> forward (training mode) ->
// loss -> backward -> step. Softmax fusion: when the last layer is Softmax and the loss is a
// cross-entropy on probabilities (Loss::on_logits() is not null), the loss and its gradient are
// computed from the Softmax's input by the logits version of the loss, and Softmax's own forward
// and backward are skipped. The result is the same function and gradient (softmax then
// cross-entropy has the gradient p - t with respect to the logits), but exact where the
// probability path would round a probability to 0 and take its log. evaluate() uses the same
// path; predict() runs the Softmax and returns probabilities.
//
// Memory: build() sizes nothing that depends on the batch; the first training step allocates one
// output tensor per layer and two gradient tensors, and later steps reuse them (Tensor::resize
// reallocates only when growing), so a steady-state step allocates nothing in the model itself.
//
// Threads: add, build, set_loss, fit, compute_gradients, train_on_batch, input_gradient and
// restore change the model and need exclusive use of it. evaluate, predict, predict_classes,
// summary, checkpoint and save are const: they use buffers of their own per call (layers run
// inference without touching shared state, see layer.hpp), so several threads may call them at once
// on a model nobody trains.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
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
#include "minicnn/interrupt.hpp"
#include "minicnn/io/checkpoint_file.hpp"
#include "minicnn/layer.hpp"
#include "minicnn/layer_registry.hpp"
#include "minicnn/loss.hpp"
#include "minicnn/optimizer.hpp"
#include "minicnn/progress_bar.hpp"
#include "minicnn/samples.hpp"

namespace minicnn {

// Keras's to_snake_case(): "Conv2D" -> "conv2d", "MaxPooling2D" -> "max_pooling2d",
// "ReLU" -> "re_lu". Two passes, as Keras's two regular expressions: an underscore before every
// capitalised word that follows a character, then between a lower-case letter and a capital.
inline std::string keras_snake_case(const std::string& name) {
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string words;  // pass 1: (.)([A-Z][a-z]+) -> \1_\2
  for (std::size_t i = 0; i < name.size();) {
    words += name[i];
    std::size_t end = i + 2;
    while (end < name.size() && lower(name[end]))
      ++end;
    if (i + 2 < name.size() && upper(name[i + 1]) && lower(name[i + 2])) {
      words += '_';
      words.append(name, i + 1, end - i - 1);
      i = end;
    } else {
      ++i;
    }
  }
  std::string snake;  // pass 2: ([a-z])([A-Z]) -> \1_\2, then lower case
  for (std::size_t i = 0; i < words.size(); ++i) {
    snake += words[i];
    if (i + 1 < words.size() && lower(words[i]) && upper(words[i + 1])) snake += '_';
  }
  for (char& c : snake)
    if (upper(c)) c = static_cast<char>(c - 'A' + 'a');
  return snake;
}

template <typename T>
class Sequential {
 public:
  struct Evaluation {
    double loss = 0.0;
    double accuracy = 0.0;
  };

  Sequential() = default;
  Sequential(Sequential&&) noexcept = default;
  Sequential& operator=(Sequential&&) noexcept = default;

  // ---- Architecture --------------------------------------------------------------------------

  // Appends a layer; names it Keras-style when it has no name. Names must be unique.
  Sequential& add(std::unique_ptr<Layer<T>> layer) {
    if (layer == nullptr) fail("Sequential::add: expected a layer, got nullptr");
    if (built_)
      fail("Sequential::add: the model is already built; add ", layer->label(), " before build()");
    if (layer->name().empty()) {
      const std::string base = keras_snake_case(layer->kind());
      std::string name = base;
      for (Index suffix = 1; find(name) != nullptr; ++suffix)
        name = base + "_" + std::to_string(suffix);
      layer->set_name(name);
    } else if (const Layer<T>* other = find(layer->name())) {
      fail("Sequential::add: the name '", layer->name(), "' of ", layer->label(),
           " is already used by ", other->label());
    }
    layers_.push_back(std::move(layer));
    return *this;
  }

  // add<Conv2D>(32, 3): constructs LayerType<T> from the arguments and appends it.
  template <template <typename> class LayerType, typename... Args>
  Sequential& add(Args&&... args) {
    return add(std::make_unique<LayerType<T>>(std::forward<Args>(args)...));
  }

  Index size() const { return static_cast<Index>(layers_.size()); }

  // The i-th layer, from 0.
  Layer<T>& layer(Index i) {
    if (i < 0 || i >= size()) fail("Sequential::layer: index ", i, " is outside [0, ", size(), ")");
    return *layers_[static_cast<std::size_t>(i)];
  }
  const Layer<T>& layer(Index i) const { return const_cast<Sequential&>(*this).layer(i); }

  // The layer with this name (Keras's get_layer).
  Layer<T>& layer(const std::string& name) {
    for (auto& layer : layers_)
      if (layer->name() == name) return *layer;
    fail("Sequential::layer: no layer is named '", name, "'");
  }
  const Layer<T>& layer(const std::string& name) const {
    return const_cast<Sequential&>(*this).layer(name);
  }

  // Infers every layer's shapes from the shape of one input sample, e.g. (1, 28, 28), and
  // initialises all parameters. Layer i draws from the i-th fork of Random(seed), so its initial
  // weights do not depend on how many numbers the layers before it drew.
  void build(const Shape& input_shape, std::uint64_t seed) {
    if (layers_.empty()) fail("Sequential::build: the model has no layers; add() some first");
    if (built_) fail("Sequential::build: the model is already built for input ", input_shape_);
    Random root(seed);
    Shape shape = input_shape;
    for (auto& layer : layers_) {
      Random random = root.fork();
      shape = layer->build(shape, random);
    }
    input_shape_ = input_shape;
    parameters_.clear();
    parameter_owners_.clear();
    for (std::size_t i = 0; i < layers_.size(); ++i)
      for (Parameter<T>* p : layers_[i]->parameters()) {
        parameters_.push_back(p);
        parameter_owners_.push_back(i);
      }
    outputs_.resize(layers_.size());
    probe_outputs_.resize(layers_.size());
    built_ = true;
    update_fusion();
  }

  bool built() const { return built_; }
  // Shapes of one sample.
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return layers_.back()->output_shape(); }

  // Every layer's parameters, trainable and not, layer by layer, in the layers' order: what an
  // optimizer's step() takes.
  const std::vector<Parameter<T>*>& parameters() { return parameters_; }

  Index parameter_count(bool trainable) const {
    Index count = 0;
    for (const auto& layer : layers_)
      count += layer->parameter_count(trainable);
    return count;
  }

  // Keras's model.summary(), with shapes in minicnn's (C, H, W) layout:
  //
  //   Model: "sequential"
  //   _________________________________________________________________
  //   Layer (type)                 Output Shape              Param #
  //   =================================================================
  //   conv2d (Conv2D)              (None, 32, 26, 26)        320
  //   ...
  //   =================================================================
  //   Total params: 216,650
  //   Trainable params: 216,650
  //   Non-trainable params: 0
  //   _________________________________________________________________
  //
  // Columns are Keras's (29, 26 and 10 characters) or wider when a cell needs it.
  std::string summary() const {
    check_built("summary");
    std::vector<std::array<std::string, 3>> rows = {{"Layer (type)", "Output Shape", "Param #"}};
    for (const auto& layer : layers_) {
      const std::string shape = layer->output_shape().str();
      rows.push_back({layer->name() + " (" + layer->kind() + ")",
                      "(None" + (shape.size() > 2 ? ", " + shape.substr(1) : ")"),
                      thousands(layer->parameter_count(true) + layer->parameter_count(false))});
    }
    std::size_t widths[3] = {29, 26, 10};
    for (const auto& row : rows)
      for (std::size_t c = 0; c < 3; ++c)
        widths[c] = std::max(widths[c], row[c].size() + 1);
    const std::size_t line = widths[0] + widths[1] + widths[2];
    const auto format = [&](const std::array<std::string, 3>& row) {
      std::string text = row[0];
      text.resize(widths[0], ' ');
      text += row[1];
      text.resize(widths[0] + widths[1], ' ');
      return text + row[2] + '\n';
    };
    const Index trainable = parameter_count(true), frozen = parameter_count(false);
    std::string text = "Model: \"sequential\"\n" + std::string(line, '_') + '\n' + format(rows[0]) +
                       std::string(line, '=') + '\n';
    for (std::size_t r = 1; r < rows.size(); ++r)
      text += format(rows[r]) + (r + 1 < rows.size() ? std::string(line, '_') + '\n' : "");
    return text + std::string(line, '=') + "\nTotal params: " + thousands(trainable + frozen) +
           "\nTrainable params: " + thousands(trainable) +
           "\nNon-trainable params: " + thousands(frozen) + '\n' + std::string(line, '_') + '\n';
  }
  void print_summary(std::ostream& out = std::cout) const { out << summary(); }

  // ---- Loss and training ---------------------------------------------------------------------

  // The loss fit() minimises and evaluate() reports (Keras's compile(loss=...)).
  void set_loss(std::unique_ptr<Loss<T>> loss) {
    if (loss == nullptr) fail("Sequential::set_loss: expected a loss, got nullptr");
    loss_ = std::move(loss);
    logits_loss_ = loss_->on_logits();
    update_fusion();
  }
  const Loss<T>& loss() const {
    if (loss_ == nullptr) fail("Sequential: no loss; call set_loss() first");
    return *loss_;
  }
  // True when training computes the loss from the last Softmax's input (see the top of the file).
  bool fuses_softmax() const { return fused_; }

  // One batch: zero_grad -> forward (training) -> loss -> backward. Returns the mean loss over
  // the batch and leaves dL/dp in every trainable parameter's grad for an optimizer to use.
  //   x (N, input_shape...), y (N) class indices or (N, K) targets
  T compute_gradients(const Tensor<T>& x, const Tensor<T>& y) {
    return forward_backward(x, y, nullptr, -1, -1, 0);
  }

  // compute_gradients, then one optimizer step: Keras's train_on_batch.
  T train_on_batch(const Tensor<T>& x, const Tensor<T>& y, Optimizer<T>& optimizer) {
    const T loss = compute_gradients(x, y);
    optimizer.step(parameters_);
    return loss;
  }

  // Trains on `train` for options.epochs (see fit_options.hpp) and returns the per-epoch figures.
  //
  // Each epoch: callbacks' on_epoch_begin, then mini-batches in the epoch's order, each a
  // training step, then validation, the progress line, and callbacks' on_epoch_end (any of which
  // may stop training). The reported loss and accuracy are means over the epoch's batches,
  // weighted by batch size, measured on the training-mode outputs, as in Keras.
  //
  // Ctrl-C: while fit() runs, SIGINT only raises a flag (interrupt.hpp). fit() stops after the
  // batch in progress, records nothing of the unfinished epoch and calls no further callback
  // (so no checkpoint of a half epoch is written and completed ones stay as they are), prints a
  // note, and returns the history so far with interrupted = true. The previous SIGINT handler is
  // restored on return.
  //
  // A loss that is NaN or infinite stops training with an Error naming the epoch and the batch,
  // before the weights are updated with it.
  History fit(const Samples<T>& data, Optimizer<T>& optimizer,
              const FitOptions<T>& options = FitOptions<T>()) {
    check_built("fit");
    objective();  // throws when there is no loss
    check_options(options);
    check_samples("fit", data.sample_shape());
    Samples<T> train = data, validation = options.validation_data;
    if (options.validation_split > 0.0) {
      // Keras: the last fraction of the samples, before any shuffling.
      const auto kept =
          static_cast<Index>(static_cast<double>(data.size()) * (1.0 - options.validation_split));
      train = data.slice(0, kept);
      validation = data.slice(kept, data.size() - kept);
    }
    if (train.empty()) fail("Sequential::fit: expected training samples, got none");
    if (!validation.empty()) check_samples("fit (validation data)", validation.sample_shape());

    const Index samples = train.size();
    const Index batches = (samples + options.batch_size - 1) / options.batch_size;
    std::vector<Index> order(static_cast<std::size_t>(samples));
    Workspace validation_workspace;
    ProgressBar progress(*options.output, options.verbose);
    SigintGuard sigint;
    History history;

    for (Callback<T>* callback : options.callbacks)
      callback->on_train_begin(*this, optimizer);
    for (Index epoch = options.initial_epoch; epoch < options.epochs; ++epoch) {
      for (Callback<T>* callback : options.callbacks)
        callback->on_epoch_begin(epoch, *this, optimizer);
      const auto start = std::chrono::steady_clock::now();
      EpochLogs logs;
      logs.epoch = epoch;
      logs.learning_rate = optimizer.learning_rate();
      epoch_order(options.seed, epoch, options.shuffle, order);
      progress.start_epoch(epoch, options.epochs, batches);

      double loss_sum = 0.0;
      Index correct = 0, seen = 0;
      for (Index batch = 0; batch < batches; ++batch) {
        const Index first = batch * options.batch_size;
        const Index count = std::min(options.batch_size, samples - first);
        train.gather(order.data() + first, count, batch_x_, batch_y_);
        Index batch_correct = 0;
        const T loss = forward_backward(batch_x_, batch_y_, &batch_correct, epoch, batch, batches);
        optimizer.step(parameters_);
        loss_sum += static_cast<double>(loss) * static_cast<double>(count);
        correct += batch_correct;
        seen += count;
        progress.update(batch + 1, loss_sum / static_cast<double>(seen),
                        static_cast<double>(correct) / static_cast<double>(seen));
        if (sigint.interrupted()) {
          progress.interrupted(batch + 1);
          history.interrupted = true;
          return history;
        }
      }
      logs.loss = loss_sum / static_cast<double>(seen);
      logs.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
      if (!validation.empty()) {
        const Evaluation figures =
            evaluate_with(validation, options.batch_size, validation_workspace);
        logs.has_validation = true;
        logs.val_loss = figures.loss;
        logs.val_accuracy = figures.accuracy;
      }
      logs.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      progress.end_epoch(logs);
      history.epochs.push_back(logs);

      bool stop = false;
      for (Callback<T>* callback : options.callbacks)
        stop = callback->on_epoch_end(logs, *this, optimizer) || stop;
      if (sigint.interrupted()) {  // arrived during validation: this epoch was complete
        history.interrupted = true;
        return history;
      }
      if (stop) break;
    }
    for (Callback<T>* callback : options.callbacks)
      callback->on_train_end(*this, optimizer);
    return history;
  }

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
    if (batch_size <= 0) fail("Sequential::evaluate: expected batch_size > 0, got ", batch_size);
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
      const Tensor<T>& out = infer(rows(x, first, count, workspace->x), size(), *workspace);
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
      const Tensor<T>& out = infer(rows(x, first, count, workspace->x), forward_end(), *workspace);
      const auto scores = out.matrix();
      for (Index n = 0; n < count; ++n)
        classes.push_back(argmax(scores, n));
    }
    return classes;
  }

  // ---- Gradients with respect to the input ---------------------------------------------------

  // The gradient of one layer's output with respect to the model's input, in inference mode
  // (BatchNorm with its moving statistics, Dropout as the identity): what saliency maps and
  // activation maximisation need. With z = output of layer `layer` (0-based) for input x, and the
  // seed s of z's shape, it differentiates the scalar
  //   L(x) = sum over all elements of s * z(x)
  // so s = 1 at one unit and 0 elsewhere gives d unit / dx, and s = dLoss/dz gives dLoss/dx.
  //   x (N, input_shape...), seed (N, layer(layer).output_shape()...), dx (N, input_shape...)
  // Returns L. Layers [0, layer] run forward and backward in inference mode; nothing of training
  // (the last training forward's caches, the moving statistics, random streams) is read or
  // changed. Every trainable parameter's grad is zeroed and then holds dL/dp, as after
  // compute_gradients(). The buffers are kept, so repeated calls of one shape allocate nothing.
  T input_gradient(const Tensor<T>& x, Index layer, const Tensor<T>& seed, Tensor<T>& dx) {
    check_built("input_gradient");
    check_inputs("input_gradient", x, 1);
    if (layer < 0 || layer >= size())
      fail("Sequential::input_gradient: layer index ", layer, " is outside [0, ", size(), ")");
    const auto last = static_cast<std::size_t>(layer);
    const Shape expected = layers_[last]->output_shape().with_batch(x.dim(0));
    if (seed.shape() != expected)
      fail("Sequential::input_gradient: expected a seed of shape ", expected, " (the output of ",
           layers_[last]->label(), "), got ", seed.shape());
    Optimizer<T>::zero_grad(parameters_);
    const Tensor<T>* input = &x;
    for (std::size_t k = 0; k <= last; ++k) {
      layers_[k]->forward(*input, probe_outputs_[k], Mode::inference);
      input = &probe_outputs_[k];
    }
    const T value = static_cast<T>(probe_outputs_[last].vector().dot(seed.vector()));
    const Tensor<T>* dy = &seed;
    for (std::size_t k = last + 1; k-- > 0;) {
      Tensor<T>& out = k == 0 ? dx : gradients_[k % 2];
      layers_[k]->backward(k == 0 ? x : probe_outputs_[k - 1], probe_outputs_[k], *dy, out,
                           Mode::inference);
      dy = &out;
    }
    return value;
  }

  // ---- Checkpoints ---------------------------------------------------------------------------

  // Everything needed to rebuild the model and resume training: architecture, weights,
  // non-trainable state, random streams, and, when given, the optimizer's state.
  Checkpoint<T> checkpoint(const Optimizer<T>* optimizer = nullptr,
                           Index epochs_completed = 0) const {
    check_built("checkpoint");
    Checkpoint<T> c;
    c.input_shape = input_shape_;
    for (const auto& layer : layers_) {
      typename Checkpoint<T>::LayerEntry entry;
      entry.kind = layer->kind();
      entry.name = layer->name();
      entry.config = layer->config();
      for (const Parameter<T>* p : std::as_const(*layer).parameters())
        entry.tensors.emplace_back(p->name, p->value);
      if (Random* random = layer->random_stream()) {
        entry.has_random = true;
        entry.random = random->state();
      }
      c.layers.push_back(std::move(entry));
    }
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
  // architecture must match layer by layer: the first difference is reported by layer, tensor
  // name and shape. Returns the number of epochs the checkpoint had completed.
  Index restore(const Checkpoint<T>& c, Optimizer<T>* optimizer = nullptr) {
    check_built("restore");
    check_architecture(c);
    if (optimizer != nullptr) check_optimizer(c, *optimizer);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const auto parameters = layers_[i]->parameters();
      for (std::size_t k = 0; k < parameters.size(); ++k)
        std::copy(c.layers[i].tensors[k].second.begin(), c.layers[i].tensors[k].second.end(),
                  parameters[k]->value.begin());
      if (Random* random = layers_[i]->random_stream()) random->set_state(c.layers[i].random);
    }
    if (optimizer != nullptr) {
      const auto slots = optimizer->slots();
      for (std::size_t s = 0; s < slots.size(); ++s) {
        if (c.optimizer_slots.empty())  // saved before its first step: zero state
          slots[s].second->set_zero();
        else
          std::copy(c.optimizer_slots[s].second.begin(), c.optimizer_slots[s].second.end(),
                    slots[s].second->begin());
      }
      optimizer->set_learning_rate(c.learning_rate);
      optimizer->set_iterations(c.iterations);
    }
    return c.epochs_completed;
  }

  // A model rebuilt from a checkpoint: each layer made from its kind and config
  // (layer_registry.hpp), named as saved, built on the saved input shape, then restored. The
  // loss is not part of a checkpoint: call set_loss() before training or evaluating.
  //
  // The configs and the input shape are not bounded by the file's size (a Dense with units =
  // 10^12 is a few bytes of config), so nothing is built before every layer's plan (its output
  // shape and parameter shapes, computed without allocating) matches the tensors the file stores.
  // build() then allocates what the file holds, no more.
  static Sequential from_checkpoint(const Checkpoint<T>& c) {
    Sequential model;
    for (const auto& entry : c.layers) {
      auto layer = make_layer<T>(entry.kind, entry.config);
      layer->set_name(entry.name);
      model.add(std::move(layer));
    }
    model.check_plans(c);
    model.build(c.input_shape, 0);  // the initial weights are overwritten next
    model.restore(c);
    return model;
  }

  // The same, through a checkpoint file (io/checkpoint_file.hpp; written atomically, so an
  // interrupted save leaves the previous file intact).
  void save(const std::string& path, const Optimizer<T>* optimizer = nullptr,
            Index epochs_completed = 0) const {
    save_checkpoint(path, checkpoint(optimizer, epochs_completed));
  }
  Index restore(const std::string& path, Optimizer<T>* optimizer = nullptr) {
    return restore(load_checkpoint<T>(path), optimizer);
  }
  static Sequential load(const std::string& path) {
    return from_checkpoint(load_checkpoint<T>(path));
  }

 private:
  // Buffers of one inference call: the batch and two outputs used in turn (layer i writes
  // activations[i % 2] while reading the other).
  struct Workspace {
    Tensor<T> x, y;
    Tensor<T> activations[2];
  };

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

  const Layer<T>* find(const std::string& name) const {
    for (const auto& layer : layers_)
      if (layer->name() == name) return layer.get();
    return nullptr;
  }

  void check_built(const char* who) const {
    if (!built_) fail("Sequential::", who, ": the model is not built; call build() first");
  }

  void check_samples(const char* who, const Shape& sample) const {
    if (sample != input_shape_)
      fail("Sequential::", who, ": expected samples of shape ", input_shape_,
           " (the input shape given to build()), got ", sample);
  }

  void check_inputs(const char* who, const Tensor<T>& x, Index batch_size) const {
    if (batch_size <= 0) fail("Sequential::", who, ": expected batch_size > 0, got ", batch_size);
    if (x.rank() != input_shape_.rank() + 1 || x.shape().sample() != input_shape_)
      fail("Sequential::", who, ": expected input of shape (N, ", input_shape_.str().substr(1),
           ", got ", x.shape());
  }

  void check_options(const FitOptions<T>& o) const {
    if (o.batch_size <= 0) fail("Sequential::fit: expected batch_size > 0, got ", o.batch_size);
    if (o.initial_epoch < 0 || o.initial_epoch > o.epochs)
      fail("Sequential::fit: expected 0 <= initial_epoch <= epochs, got initial_epoch ",
           o.initial_epoch, " and epochs ", o.epochs);
    if (!(o.validation_split >= 0.0 && o.validation_split < 1.0))
      fail("Sequential::fit: expected validation_split in [0, 1), got ", o.validation_split);
    if (o.validation_split > 0.0 && !o.validation_data.empty())
      fail("Sequential::fit: got both validation_data and validation_split; pick one");
    if (o.output == nullptr) fail("Sequential::fit: expected an output stream, got nullptr");
    for (const Callback<T>* callback : o.callbacks)
      if (callback == nullptr) fail("Sequential::fit: expected callbacks, got a nullptr");
  }

  void update_fusion() {
    fused_ = built_ && logits_loss_ != nullptr && layers_.back()->kind() == "Softmax";
  }
  // The loss training and evaluation compute: its logits version when fused.
  const Loss<T>& objective() const { return fused_ ? *logits_loss_ : loss(); }

  // Layers [0, forward_end()) run in training and evaluation; the last is skipped when fused.
  Index forward_end() const { return fused_ ? size() - 1 : size(); }

  // The order of the samples in `epoch`: identity, or a Fisher-Yates permutation drawn from the
  // epoch-th fork of Random(seed) (as BatchIterator does), a pure function of (seed, epoch).
  static void epoch_order(std::uint64_t seed, Index epoch, bool shuffle,
                          std::vector<Index>& order) {
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = static_cast<Index>(i);
    if (!shuffle) return;
    Random root(seed);
    for (Index e = 0; e < epoch; ++e)
      root.next_u64();
    Random random = root.fork();
    random.shuffle(order);
  }

  // The training step without the update. Forward in training mode through layers
  // [0, forward_end()), storing outputs_[i] = layer_i(outputs_[i-1]) (outputs_[-1] = x); the loss
  // of the last output; then backward in reverse, dy_i = dL/d outputs_[i] alternating between the
  // two gradient buffers: layer i reads dy_i and writes dy_(i-1).
  T forward_backward(const Tensor<T>& x, const Tensor<T>& y, Index* correct, Index epoch,
                     Index batch, Index batches) {
    check_built("compute_gradients");
    const Loss<T>& loss_function = objective();
    Optimizer<T>::zero_grad(parameters_);
    const Index end = forward_end();
    const Tensor<T>* input = &x;
    for (Index i = 0; i < end; ++i) {
      layers_[static_cast<std::size_t>(i)]->forward(*input, outputs_[static_cast<std::size_t>(i)],
                                                    Mode::training);
      input = &outputs_[static_cast<std::size_t>(i)];
    }
    Tensor<T>* dy = &gradients_[0];
    Tensor<T>* dx = &gradients_[1];
    const T loss = loss_function.compute(*input, y, dy);
    if (!std::isfinite(static_cast<double>(loss)))
      non_finite(
          detail::concat("the loss is ", spelled(loss), " (", first_non_finite_value(x, end), ")"),
          epoch, batch, batches);
    if (correct != nullptr) *correct = count_correct(*input, y);
    // Backward stops at the first layer that learns: it computes its parameters' gradients only,
    // and the layers before it (none, usually) need no gradient at all.
    const Index first = first_trainable_layer();
    for (Index i = end - 1; i >= first; --i) {
      const auto k = static_cast<std::size_t>(i);
      const Tensor<T>& layer_input = i == 0 ? x : outputs_[k - 1];
      if (i == first)
        layers_[k]->backward_parameters(layer_input, outputs_[k], *dy, *dx, Mode::training);
      else
        layers_[k]->backward(layer_input, outputs_[k], *dy, *dx, Mode::training);
      std::swap(dy, dx);
    }
    // A finite loss can still give an infinite gradient (an overflow in backward): the optimizer
    // must not apply it. The check is one vectorised pass over the gradients, from the output
    // layer down, so the layer named is the first whose gradient went non-finite.
    for (std::size_t j = parameters_.size(); j-- > 0;) {
      const Parameter<T>& p = *parameters_[j];
      if (p.trainable && !p.grad.vector().allFinite())
        non_finite(detail::concat("the gradient of ", layers_[parameter_owners_[j]]->label(), " ",
                                  p.name, " is not finite"),
                   epoch, batch, batches);
    }
    return loss;
  }

  // The index of the first layer owning a trainable parameter; size() when none does.
  Index first_trainable_layer() const {
    for (std::size_t j = 0; j < parameters_.size(); ++j)
      if (parameters_[j]->trainable) return static_cast<Index>(parameter_owners_[j]);
    return size();
  }

  // Spelled out: printing a NaN gives "nan" or "-nan" depending on its sign bit.
  static const char* spelled(T value) {
    return std::isnan(value) ? "NaN" : value > 0 ? "+inf" : "-inf";
  }

  // Where a non-finite loss came from: the input batch, or the first layer whose output of the
  // last training forward holds a NaN or an infinity (layers [0, end)), or else the loss itself.
  std::string first_non_finite_value(const Tensor<T>& x, Index end) const {
    if (!x.vector().allFinite()) return "the input batch holds non-finite values";
    for (Index i = 0; i < end; ++i)
      if (!outputs_[static_cast<std::size_t>(i)].vector().allFinite())
        return "first non-finite values in the output of " +
               layers_[static_cast<std::size_t>(i)]->label();
    return "every layer output is finite: the loss overflowed";
  }

  [[noreturn]] void non_finite(const std::string& what, Index epoch, Index batch,
                               Index batches) const {
    if (epoch < 0)
      fail("Sequential::compute_gradients: ", what,
           "; the weights were not updated (lower the learning rate or check the data)");
    fail("Sequential::fit: epoch ", epoch + 1, ", batch ", batch + 1, "/", batches, ": ", what,
         "; the weights were not updated (lower the learning rate or check the data)");
  }

  // Layers [0, end) in inference mode on x; returns the last output (x itself when end is 0).
  const Tensor<T>& infer(const Tensor<T>& x, Index end, Workspace& workspace) const {
    const Tensor<T>* input = &x;
    for (Index i = 0; i < end; ++i) {
      Tensor<T>& output = workspace.activations[i % 2];
      layers_[static_cast<std::size_t>(i)]->forward(*input, output, Mode::inference);
      input = &output;
    }
    return *input;
  }

  Evaluation evaluate_with(const Samples<T>& shared, Index batch_size, Workspace& workspace) const {
    const Samples<T> samples = shared;  // a view of our own: gather() reuses scratch space
    const Loss<T>& loss_function = objective();
    double loss_sum = 0.0;
    Index correct = 0;
    for (Index first = 0; first < samples.size(); first += batch_size) {
      const Index count = std::min(batch_size, samples.size() - first);
      samples.gather_range(first, count, workspace.x, workspace.y);
      const Tensor<T>& prediction = infer(workspace.x, forward_end(), workspace);
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

  // The checkpoint describes this architecture: same layer count and kinds, same tensors.
  void check_architecture(const Checkpoint<T>& c) const {
    if (c.input_shape != input_shape_)
      fail("Sequential::restore: the model's input shape is ", input_shape_, ", the checkpoint's ",
           c.input_shape);
    if (c.layers.size() != layers_.size())
      fail("Sequential::restore: the model has ", layers_.size(), " layers, the checkpoint ",
           c.layers.size());
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const Layer<T>& layer = *layers_[i];
      const auto& entry = c.layers[i];
      if (entry.kind != layer.kind())
        fail("Sequential::restore: layer ", i, " is ", layer.label(), " in the model but ",
             entry.kind, " '", entry.name, "' in the checkpoint");
      const auto parameters = layer.parameters();
      for (std::size_t k = 0; k < std::max(parameters.size(), entry.tensors.size()); ++k) {
        if (k >= parameters.size() || k >= entry.tensors.size())
          fail("Sequential::restore: ", layer.label(), " has ", parameters.size(),
               " tensors, the checkpoint's layer '", entry.name, "' ", entry.tensors.size());
        const auto& [name, tensor] = entry.tensors[k];
        if (name != parameters[k]->name || tensor.shape() != parameters[k]->value.shape())
          fail("Sequential::restore: ", layer.label(), " tensor '", parameters[k]->name,
               "' expected shape ", parameters[k]->value.shape(), ", got '", name, "' of shape ",
               tensor.shape(), " in the checkpoint");
      }
      if (entry.has_random != (layers_[i]->random_stream() != nullptr))
        fail("Sequential::restore: ", layer.label(), " random stream: the checkpoint ",
             entry.has_random ? "has one" : "has none");
    }
  }

  // Walks the unbuilt layers from the checkpoint's input shape with Layer::plan() and compares
  // each layer's described parameters (count, names, shapes) with the tensors its entry stores.
  // Allocates no tensor: the described shapes may be absurd.
  void check_plans(const Checkpoint<T>& c) const {
    Shape shape = c.input_shape;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const Layer<T>& layer = *layers_[i];
      const LayerPlan plan = layer.plan(shape);
      const auto& stored = c.layers[i].tensors;
      if (plan.parameters.size() != stored.size())
        fail("Sequential::from_checkpoint: ", layer.label(), " expected ", stored.size(),
             " tensors as stored in the checkpoint, its config describes ", plan.parameters.size(),
             " on input ", shape);
      for (std::size_t k = 0; k < stored.size(); ++k) {
        const ParameterShape& described = plan.parameters[k];
        const auto& [name, tensor] = stored[k];
        if (described.name != name || described.shape != tensor.shape())
          fail("Sequential::from_checkpoint: ", layer.label(), " tensor ", k, " expected '", name,
               "' of shape ", tensor.shape(),
               " as stored in the checkpoint, its config describes '", described.name,
               "' of shape ", described.shape, " on input ", shape);
      }
      shape = plan.output_shape;
    }
  }

  // The checkpoint holds state for this optimizer: same kind, same slots. Creates the slots
  // (prepare) so that they can be compared and filled.
  void check_optimizer(const Checkpoint<T>& c, Optimizer<T>& optimizer) {
    if (!c.has_optimizer)
      fail(
          "Sequential::restore: an optimizer was given but the checkpoint holds no optimizer "
          "state");
    if (c.optimizer_kind != optimizer.kind())
      fail("Sequential::restore: the optimizer is ", optimizer.kind(), ", the checkpoint's ",
           c.optimizer_kind);
    optimizer.prepare(parameters_);
    const auto slots = optimizer.slots();
    if (c.optimizer_slots.empty()) return;  // saved before the first step, when slots are made
    if (slots.size() != c.optimizer_slots.size())
      fail("Sequential::restore: ", optimizer.kind(), " has ", slots.size(),
           " slots, the checkpoint ", c.optimizer_slots.size());
    for (std::size_t s = 0; s < slots.size(); ++s) {
      const auto& [name, tensor] = c.optimizer_slots[s];
      if (name != slots[s].first || tensor.shape() != slots[s].second->shape())
        fail("Sequential::restore: ", optimizer.kind(), " slot '", slots[s].first,
             "' expected shape ", slots[s].second->shape(), ", got '", name, "' of shape ",
             tensor.shape(), " in the checkpoint");
    }
  }

  std::vector<std::unique_ptr<Layer<T>>> layers_;
  Shape input_shape_;  // of one sample
  bool built_ = false;
  std::vector<Parameter<T>*> parameters_;      // every layer's, in order; what optimizers step
  std::vector<std::size_t> parameter_owners_;  // parameter_owners_[j]: the layer of parameters_[j]
  std::unique_ptr<Loss<T>> loss_;
  std::unique_ptr<Loss<T>> logits_loss_;  // loss_->on_logits(), may be null
  bool fused_ = false;                    // last layer Softmax and logits_loss_ available

  // Training buffers, reused from batch to batch.
  std::vector<Tensor<T>> outputs_;  // outputs_[i]: layer i's output of the last training forward
  std::vector<Tensor<T>> probe_outputs_;  // probe_outputs_[i]: layer i's output in input_gradient
  Tensor<T> gradients_[2];                // dL/d(some layer's output), used in turn
  Tensor<T> batch_x_, batch_y_;           // the current batch in fit()
  // Behind a pointer, so that Sequential stays movable (a mutex is not).
  std::unique_ptr<WorkspacePool> workspace_pool_ = std::make_unique<WorkspacePool>();
};

}  // namespace minicnn
