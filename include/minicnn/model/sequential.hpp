// Sequential<T>: a stack of layers, Keras's Sequential: the chain special case of Model (each
// layer reads the one before), with Model's whole API for training, inference and checkpoints.
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
// Keras model it mirrors. The input's shape is given to build(), as Keras's build(input_shape).
#pragma once

#include <memory>
#include <utility>

#include "minicnn/model/model.hpp"

namespace minicnn {

template <typename T>
class Sequential : public Model<T> {
 public:
  Sequential() : Model<T>("Sequential", "sequential") { tail_ = Model<T>::input(Shape()); }
  Sequential(Sequential&&) noexcept = default;
  Sequential& operator=(Sequential&&) noexcept = default;

  // Appends a layer reading the last one's output; names it Keras-style when it has no name.
  // Names must be unique.
  Sequential& add(std::unique_ptr<Layer<T>> layer) {
    if (layer != nullptr && layer->as_merge() != nullptr)
      fail("Sequential::add: ", layer->label(),
           " merges several inputs; a Sequential model is a chain, use a Model");
    tail_ = Model<T>::add(std::move(layer), tail_);
    return *this;
  }

  // add<Conv2D>(32, 3): constructs LayerType<T> from the arguments and appends it.
  template <template <typename> class LayerType, typename... Args>
  Sequential& add(Args&&... args) {
    return add(std::make_unique<LayerType<T>>(std::forward<Args>(args)...));
  }

  // Infers every layer's shapes from the shape of one input sample, e.g. (1, 28, 28), and
  // initialises all parameters. Layer i draws from the i-th fork of Random(seed), so its initial
  // weights do not depend on how many numbers the layers before it drew.
  void build(const Shape& input_shape, std::uint64_t seed) {
    if (this->size() == 0) fail("Sequential::build: the model has no layers; add() some first");
    if (this->built())
      fail("Sequential::build: the model is already built for input ", this->input_shape());
    this->engine().vertex(0).shape = input_shape;
    this->engine().build(tail_.index, seed, "Sequential::build");
    this->finish_build();
  }

  // A chain rebuilt from a checkpoint; a checkpoint of a graph that is not a chain is refused
  // (load it as a Model). Defined in io/model_file.hpp, which knows every layer.
  static Sequential from_checkpoint(const Checkpoint<T>& c);
  static Sequential load(const std::string& path) {
    return from_checkpoint(load_checkpoint<T>(path));
  }

 protected:
  bool shows_connections() const override { return false; }

 private:
  // Hidden: a chain has one input, made by the constructor, and grows with add().
  using Model<T>::input;

  Node tail_;  // the last layer's output, or the input
};

}  // namespace minicnn
