// Transfer learning: a backbone trained on one task (ImageNet) reused on another, the two ways the
// labs do it (Keras's "Transfer learning & fine-tuning" guide, torchvision's fine-tuning tutorial):
//
//   feature extraction   the backbone, cut at its features, runs once over the data set in
//                        inference mode (extract_features); a small classifier (head_model) then
//                        trains on the features: many epochs for the price of one pass through
//                        the backbone.
//   fine-tuning          the backbone with its classifier replaced by a new head for K classes
//                        (transfer_model), trained end to end with a lower learning rate, frozen
//                        below a named layer ("fine-tune the top blocks") or not at all.
//
//   Model<float> resnet = load_onnx("resnet50.onnx");        // or any built Model
//   TransferOptions options;
//   options.classes = 10;                                     // the new head: Dense(10), Softmax
//   options.input_shape = {3, 32, 32};                        // CIFAR-10's images
//   options.trainable_from = "layer4_layer4.0_conv1_Conv";    // layer4 and the head train
//   Model<float> model = transfer_model(resnet, options, /*seed=*/42);
//   model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
//   model.fit(Samples<float>(train, Normalization<float>::preprocess_input("torch")), adam, fit);
//
// The new model is a copy. Its backbone layers are made afresh from the backbone's configs (the
// layer registry), on options.input_shape, and take the backbone's weights and BatchNorm
// statistics, checked tensor by tensor; the backbone itself is never changed. A copy rather than
// shared layers (Model::sub_model) because the images may have another size than the one the
// backbone was built for (Keras's input_shape argument of its applications): a convolution's
// weights do not depend on the image size, but a layer's plan does. Layer names are kept.
//
// The head's layers have fixed names, the same in transfer_model and head_model:
//   head_pool (GlobalAveragePooling2D) or head_flatten (Flatten)   when the cut is a (C, H, W) map
//   head_hidden (Dense), head_relu, head_dropout                   when hidden_units > 0
//   head_logits (Dense), head_softmax                              when classes > 0
// so a head trained on features loads into the whole model by name (load_weights with
// Match::by_name): the pipeline that classifies images, for predictions and reports.
//
// Freezing is the engine's (model/graph.hpp): a frozen layer's weights are not stepped, a frozen
// BatchNorm runs in inference mode so that its statistics stay the backbone's, and backward stops
// at the first layer that learns.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/data/batches.hpp"
#include "minicnn/data/dataset.hpp"
#include "minicnn/data/image_transform.hpp"
#include "minicnn/data/normalization.hpp"
#include "minicnn/error.hpp"
#include "minicnn/layer_registry.hpp"
#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/layers/random_augmentation.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/model/model.hpp"

namespace minicnn {

// How a cut whose output is a (C, H, W) map becomes one vector per image: the mean of each
// channel (C numbers, GlobalAveragePooling2D) or every value (C * H * W numbers, Flatten).
enum class FeaturePooling { average, flatten };

struct TransferOptions {
  std::string cut;    // the backbone layer whose output is the features; "": feature_layer()
  Shape input_shape;  // the images the new model takes, (C, H, W); empty: the backbone's own
  FeaturePooling pooling = FeaturePooling::average;  // for a (C, H, W) cut
  Index classes = 0;                                 // 0: no classifier, the model gives features
  Index hidden_units = 0;  // > 0: Dense(hidden_units), ReLU, Dropout(dropout) before the logits
  double dropout = 0.0;
  // "": the whole backbone frozen (only the head trains); else the first layer that trains, in
  // the model's order: that layer and every one after it train, every one before it is frozen.
  // The backbone's first layer trains everything (the lab's ResNet50 fine-tuning).
  std::string trainable_from;
  // Active settings put a RandomAugmentation layer ("augmentation") before the backbone: it
  // transforms training batches only, as Keras's guide puts its data_augmentation first.
  AugmentationSettings augmentation;
};

// The layer whose output a backbone's classifier reads as its features: the last
// GlobalAveragePooling2D, else the layer the last Dense reads (a Flatten's output, say), else the
// output layer when it gives a (C, H, W) map (a backbone exported without its classifier, Keras's
// include_top=False). Refused, naming what was looked for, when none fits.
template <typename T>
std::string feature_layer(const Model<T>& backbone) {
  if (!backbone.built()) fail("feature_layer: expected a built backbone, got one not built");
  for (Index i = backbone.size() - 1; i >= 0; --i)
    if (backbone.layer(i).kind() == "GlobalAveragePooling2D") return backbone.layer(i).name();
  for (Index i = backbone.size() - 1; i >= 0; --i) {
    if (backbone.layer(i).kind() != "Dense") continue;
    const std::string input = backbone.layer_inputs(i).front();
    const Index vertex = backbone.graph().find(input);
    if (backbone.graph().is_input(vertex))
      fail("feature_layer: the last Dense layer ", backbone.layer(i).label(),
           " reads the backbone's input: there are no features to cut at; name the layer");
    return input;
  }
  const auto& output = backbone.graph().vertex(backbone.graph().output());
  if (output.shape.rank() == 3) return output.name;
  fail(
      "feature_layer: expected a backbone with a GlobalAveragePooling2D layer, a Dense "
      "classifier to cut below or a (C, H, W) output, got none of them among its ",
      backbone.size(), " layers (output ", output.shape, "); name the layer to cut at");
}

// The last (C, H, W) feature map the features come from: feature_layer() when its output is one,
// else the layer it reads, followed back through GlobalAveragePooling2D and Flatten layers (a
// ResNet's avgpool input, the map the lab flattens into 204,800 numbers).
template <typename T>
std::string feature_map_layer(const Model<T>& backbone) {
  std::string name = feature_layer(backbone);
  while (backbone.layer(name).output_shape().rank() != 3) {
    const std::string kind = backbone.layer(name).kind();
    const std::string input = backbone.layer_inputs(name).front();
    if ((kind != "GlobalAveragePooling2D" && kind != "Flatten") ||
        backbone.graph().is_input(backbone.graph().find(input)))
      fail("feature_map_layer: expected a (C, H, W) feature map before ",
           backbone.layer(name).label(), ", whose output is ", backbone.layer(name).output_shape(),
           "; name the layer to cut at");
    name = input;
  }
  return name;
}

// Keras's `for layer in model.layers[:k]: layer.trainable = False`: every layer before `name` in
// the model's order (the order the layers were added, a topological order) is frozen; `name` and
// every layer after it train.
template <typename T>
void set_trainable_from(Model<T>& model, const std::string& name) {
  Index first = -1;
  for (Index i = 0; i < model.size() && first < 0; ++i)
    if (model.layer(i).name() == name) first = i;
  if (first < 0) fail("set_trainable_from: the model has no layer named '", name, "'");
  for (Index i = 0; i < model.size(); ++i)
    model.layer(i).set_trainable(i >= first);
}

namespace detail {

// The head of TransferOptions on `x`, whose samples have `rank` axes; returns the output node.
template <typename T>
Node add_transfer_head(Model<T>& model, Node x, int rank, const TransferOptions& options,
                       const char* who) {
  const auto named = [](std::unique_ptr<Layer<T>> layer, const char* name) {
    layer->set_name(name);
    return layer;
  };
  if (rank == 3) {
    if (options.pooling == FeaturePooling::average)
      x = model.add(named(std::make_unique<GlobalAveragePooling2D<T>>(), "head_pool"), x);
    else
      x = model.add(named(std::make_unique<Flatten<T>>(), "head_flatten"), x);
  } else if (rank != 1) {
    fail(who, ": expected features of shape (F) or a (C, H, W) map at the cut, got samples with ",
         rank, " axes");
  }
  if (options.classes < 0) fail(who, ": expected classes >= 0, got ", options.classes);
  if (options.classes == 0) return x;
  if (options.hidden_units > 0) {
    x = model.add(named(std::make_unique<Dense<T>>(options.hidden_units), "head_hidden"), x);
    x = model.add(named(std::make_unique<ReLU<T>>(), "head_relu"), x);
    if (options.dropout > 0)
      x = model.add(named(std::make_unique<Dropout<T>>(options.dropout), "head_dropout"), x);
  }
  x = model.add(named(std::make_unique<Dense<T>>(options.classes), "head_logits"), x);
  return model.add(named(std::make_unique<Softmax<T>>(), "head_softmax"), x);
}

// to's parameters and random stream become from's, tensor by tensor, shapes checked.
template <typename T>
void copy_layer_weights(const Layer<T>& from, Layer<T>& to, const char* who) {
  const std::vector<const Parameter<T>*> source = from.parameters();
  const std::vector<Parameter<T>*> target = to.parameters();
  if (source.size() != target.size())
    fail(who, ": ", to.label(), " expected ", source.size(), " tensors as the backbone's, got ",
         target.size());
  for (std::size_t k = 0; k < source.size(); ++k) {
    if (source[k]->value.shape() != target[k]->value.shape())
      fail(who, ": ", to.label(), " tensor '", target[k]->name, "' expected the backbone's shape ",
           source[k]->value.shape(), ", got ", target[k]->value.shape(),
           " on these images; cut below it");
    std::memcpy(target[k]->value.data(), source[k]->value.data(),
                static_cast<std::size_t>(source[k]->value.size()) * sizeof(T));
  }
  const Random* stream = const_cast<Layer<T>&>(from).random_stream();
  if (stream != nullptr && to.random_stream() != nullptr) *to.random_stream() = *stream;
}

}  // namespace detail

// The backbone up to options.cut (its ancestors only), on images of options.input_shape, with the
// backbone's weights, then the head of `options` (see the top of this file), built; the head's
// weights are drawn from `seed` as any new layer's. Frozen as options.trainable_from says. The
// loss is not set. Refused, naming the backbone layer, when the cut does not exist, the images
// have another channel count than the backbone takes, or a layer cannot take them (too small for
// its windows).
template <typename T>
Model<T> transfer_model(const Model<T>& backbone, const TransferOptions& options,
                        std::uint64_t seed) {
  const char* who = "transfer_model";
  if (!backbone.built()) fail(who, ": expected a built backbone, got one not built");
  const std::string cut = options.cut.empty() ? feature_layer(backbone) : options.cut;
  const Graph<T>& graph = backbone.graph();
  const Index last = graph.find(cut);
  if (last < 0 || graph.is_input(last))
    fail(who, ": expected a layer of the backbone to cut at, got '", cut,
         "', which is not the name of one");
  const Shape& own = backbone.input_shape();
  const Shape images = options.input_shape.rank() == 0 ? own : options.input_shape;
  if (images.rank() != own.rank() || (own.rank() == 3 && images[0] != own[0]))
    fail(who, ": the backbone takes samples of shape ", own, ", got images of shape ", images);

  // The cut and the layers it depends on, in the backbone's order.
  std::vector<char> needed(static_cast<std::size_t>(graph.size()), 0);
  needed[static_cast<std::size_t>(last)] = 1;
  for (Index v = last; v >= 0; --v)
    if (needed[static_cast<std::size_t>(v)])
      for (Index input : graph.vertex(v).inputs)
        needed[static_cast<std::size_t>(input)] = 1;

  Model<T> model;
  std::vector<Node> node_of(static_cast<std::size_t>(graph.size()));
  std::vector<std::pair<const Layer<T>*, std::string>> copies;  // backbone layer, copy's name
  for (Index v = 0; v <= last; ++v) {
    if (!needed[static_cast<std::size_t>(v)]) continue;
    const auto& vertex = graph.vertex(v);
    if (vertex.layer == nullptr) {
      Node x = model.input(images, vertex.name);
      if (options.augmentation.active()) {
        auto augment = std::make_unique<RandomAugmentation<T>>(options.augmentation);
        augment->set_name("augmentation");
        x = model.add(std::move(augment), x);
      }
      node_of[static_cast<std::size_t>(v)] = x;
      continue;
    }
    std::unique_ptr<Layer<T>> copy = make_layer<T>(vertex.layer->kind(), vertex.layer->config());
    copy->set_name(vertex.layer->name());
    std::vector<Node> inputs;
    for (Index input : vertex.inputs)
      inputs.push_back(node_of[static_cast<std::size_t>(input)]);
    node_of[static_cast<std::size_t>(v)] = model.add(std::move(copy), inputs);
    copies.emplace_back(vertex.layer.get(), vertex.layer->name());
  }
  const Node output = detail::add_transfer_head(model, node_of[static_cast<std::size_t>(last)],
                                                graph.vertex(last).shape.rank(), options, who);
  try {
    model.build(output, seed);
  } catch (const Error& error) {
    fail(who, ": the backbone cut at '", cut, "' cannot take images of shape ", images, ": ",
         error.what());
  }
  for (const auto& [layer, name] : copies)
    detail::copy_layer_weights(*layer, model.layer(name), who);

  // The head (and the augmentation) always train; the backbone's layers as trainable_from says.
  for (const auto& copy : copies)
    model.layer(copy.second).set_trainable(false);
  if (!options.trainable_from.empty()) {
    if (graph.find(options.trainable_from) < 0 || model.graph().find(options.trainable_from) < 0)
      fail(who, ": expected trainable_from to name a backbone layer at or below the cut '", cut,
           "', got '", options.trainable_from, "'");
    set_trainable_from(model, options.trainable_from);
  }
  return model;
}

// The head of `options` alone, on features of shape `features` (one sample: (F), or (C, H, W)
// pooled first), built with weights drawn from `seed`: the classifier feature extraction trains.
// Its layers have the names transfer_model gives them, so its weights load by name into the
// transfer_model of the same options.
template <typename T>
Model<T> head_model(const Shape& features, const TransferOptions& options, std::uint64_t seed) {
  const char* who = "head_model";
  if (options.classes <= 0) fail(who, ": expected classes > 0, got ", options.classes);
  Model<T> model;
  const Node x = model.input(features, "features");
  model.build(detail::add_transfer_head(model, x, features.rank(), options, who), seed);
  return model;
}

// A data set as features: x (N, F...) the extractor's outputs, y (N) the labels, as fit() reads
// them (Samples<T>(features.x, features.y)).
template <typename T>
struct Features {
  Tensor<T> x;
  Tensor<T> y;
  Index classes = 0;
  std::vector<std::string> class_names;
};

// Every image of `data`, made into inputs by `input` (the backbone's preprocessing), through
// `extractor` (a transfer_model without classes, say) once, in inference mode, `batch_size`
// images at a time: a batch's layers run on every OpenMP thread, as in predict(), so the
// features do not depend on the thread count. Only one batch of inputs is held at a time.
template <typename T>
Features<T> extract_features(const Model<T>& extractor, const Dataset& data,
                             const Normalization<T>& input, Index batch_size = 32) {
  const char* who = "extract_features";
  if (!extractor.built()) fail(who, ": expected a built extractor, got one not built");
  if (batch_size <= 0) fail(who, ": expected batch_size > 0, got ", batch_size);
  if (data.images.rank() != 4 || data.sample_shape() != extractor.input_shape())
    fail(who, ": expected images of shape ", extractor.input_shape(),
         " (the extractor's input), got a data set of ", data.images.shape());
  const Index count = data.size();
  const Index row = extractor.output_shape().size();
  Features<T> features;
  features.x.resize(extractor.output_shape().with_batch(count));
  features.y.resize({count});
  features.classes = data.classes;
  features.class_names = data.class_names;
  std::vector<Index> indices;
  Tensor<T> x, y;
  for (Index first = 0; first < count; first += batch_size) {
    const Index n = std::min(batch_size, count - first);
    indices.resize(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i)
      indices[static_cast<std::size_t>(i)] = first + i;
    gather(data, indices.data(), n, input, x, y);
    const Tensor<T> out = extractor.predict(x, n);
    std::memcpy(features.x.data() + first * row, out.data(),
                static_cast<std::size_t>(n * row) * sizeof(T));
    std::memcpy(features.y.data() + first, y.data(), static_cast<std::size_t>(n) * sizeof(T));
  }
  return features;
}

}  // namespace minicnn
