// The library's float classes as explicit instantiation declarations (`extern template`), for the
// project's own programs only: the tests, examples and benchmarks that use Model<float> and its
// layers. In the instrumented build CMake includes this header before each of their sources
// (-include, instances/CMakeLists.txt), so that they do not instantiate, optimise and instrument
// those classes' members again: float_instances.cpp compiles them once and every such program
// links its object. The library stays headers only; a user's program never sees this file. A class
// missing from the lists below is instantiated by each program as before: slower, never wrong.
//
// Why: each of these programs compiled the same float model, layers and optimizers on its own,
// 40 to 60 CPU seconds of the instrumented build apiece (docs/reliability.md, "The cost of the
// test command"). An inline member may still be instantiated where the compiler inlines it; the
// out-of-line copy and the vtable come from float_instances.cpp.
#pragma once

#include "minicnn/minicnn.hpp"
#include "minicnn/model/graph.hpp"

// X(class) for each class instantiated once: the model, its layers, losses and optimizers.
#define MINICNN_FLOAT_CLASSES(X)          \
  X(Tensor<float>)                        \
  X(Layer<float>)                         \
  X(MergeLayer<float>)                    \
  X(ReLU<float>)                          \
  X(LeakyReLU<float>)                     \
  X(Tanh<float>)                          \
  X(Sigmoid<float>)                       \
  X(Add<float>)                           \
  X(AvgPool2D<float>)                     \
  X(BatchNorm<float>)                     \
  X(Concatenate<float>)                   \
  X(Conv2D<float>)                        \
  X(Dense<float>)                         \
  X(DepthwiseConv2D<float>)               \
  X(Dropout<float>)                       \
  X(Flatten<float>)                       \
  X(GlobalAveragePooling2D<float>)        \
  X(MaxPool2D<float>)                     \
  X(RandomAugmentation<float>)            \
  X(SeparableConv2D<float>)               \
  X(Softmax<float>)                       \
  X(ZeroPadding2D<float>)                 \
  X(Loss<float>)                          \
  X(CategoricalCrossentropy<float>)       \
  X(SparseCategoricalCrossentropy<float>) \
  X(MeanSquaredError<float>)              \
  X(Optimizer<float>)                     \
  X(Adam<float>)                          \
  X(RMSprop<float>)                       \
  X(SGD<float>)                           \
  X(Model<float>)                         \
  X(Sequential<float>)                    \
  X(Graph<float>)

// Function templates that every trainer calls, with their exact declarations.
#define MINICNN_FLOAT_FUNCTIONS(X)                                 \
  X(const std::vector<ZooModel<float>>& model_zoo<float>())        \
  X(std::string checkpoint_bytes<float>(const Checkpoint<float>&)) \
  X(Checkpoint<float> parse_checkpoint<float>(const std::string&, const std::string&))

#define MINICNN_EXTERN_CLASS(...) extern template class __VA_ARGS__;
#define MINICNN_EXTERN_FUNCTION(...) extern template __VA_ARGS__;
namespace minicnn {
MINICNN_FLOAT_CLASSES(MINICNN_EXTERN_CLASS)
MINICNN_FLOAT_FUNCTIONS(MINICNN_EXTERN_FUNCTION)
}  // namespace minicnn
#undef MINICNN_EXTERN_CLASS
#undef MINICNN_EXTERN_FUNCTION
