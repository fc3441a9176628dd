// load_onnx: an ONNX file (opsets 11 to 17) as a built minicnn graph Model with the file's
// weights, ready for predict, evaluate, fit and fine-tuning.
//
//   Model<float> model = load_onnx("resnet18.onnx");   // or load_onnx<double>(...)
//   Tensor<float> p = model.predict(x);                 // x: (N, C, H, W), NCHW as in PyTorch
//
// The file is parsed with ONNX's own protobuf classes and judged by onnx::checker; then every node
// is mapped onto one minicnn layer (docs/onnx.md has the table):
//
//   Conv                group 1 -> Conv2D, group = C -> DepthwiseConv2D; pads -> Pads
//   BatchNormalization  -> BatchNorm (epsilon; ONNX's momentum is minicnn's: weight of the old
//   value) Relu, Clip(0, max)  -> ReLU, ReLU(max_value);  LeakyRelu, Sigmoid, Tanh -> the same
//   layers MaxPool, AveragePool -> MaxPool2D, AvgPool2D;  GlobalAveragePool ->
//   GlobalAveragePooling2D Add, Concat(axis 1) -> Add, Concatenate;  Flatten(axis 1), Reshape(N,
//   -1) -> Flatten Gemm, MatMul [+ Add of a constant] -> Dense;  Softmax (last axis of (N, K)) ->
//   Softmax Dropout -> Dropout;  Identity, Constant: no layer Transpose(perm 0,3,1,2) right after
//   the input (Keras/tf2onnx's NHWC input): absorbed, the minicnn model takes NCHW.
//
// Contract: anything minicnn cannot compute exactly as ONNX defines it (an operator, an attribute
// value, a broadcast, a shape) is refused with a minicnn::Error naming the file, the node, its
// op_type and the attribute or input; nothing is approximated. Every size and count read from the
// file is checked against the bytes it holds before anything is allocated (onnx/tensor_proto.hpp).
// Layer names are the node names made safe (characters other than letters, digits, '_', '-' and
// '.' become '_') and unique; an unnamed node's layer gets Keras's default name.
//
// Flags of ONNX's training graphs (BatchNormalization's and Dropout's training_mode) are not
// carried over: like every minicnn model, the imported one runs BatchNorm and Dropout in training
// mode in fit() and in inference mode in predict() and evaluate().
#pragma once

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/layers/activations.hpp"
#include "minicnn/layers/add.hpp"
#include "minicnn/layers/avg_pool2d.hpp"
#include "minicnn/layers/batch_norm.hpp"
#include "minicnn/layers/concatenate.hpp"
#include "minicnn/layers/conv2d.hpp"
#include "minicnn/layers/dense.hpp"
#include "minicnn/layers/depthwise_conv2d.hpp"
#include "minicnn/layers/dropout.hpp"
#include "minicnn/layers/flatten.hpp"
#include "minicnn/layers/global_average_pooling2d.hpp"
#include "minicnn/layers/max_pool2d.hpp"
#include "minicnn/layers/softmax.hpp"
#include "minicnn/layers/zero_padding2d.hpp"
#include "minicnn/model/model.hpp"
#include "minicnn/onnx/tensor_proto.hpp"

namespace minicnn {

namespace onnx_io {

// The opsets whose operators the importer knows (the default domain, "" or "ai.onnx"). A file of
// an older opset is accepted when each of its operators is defined there as in opset 11 (ONNX
// versions each operator: opset n means the latest version of each operator up to n).
inline constexpr std::int64_t kFirstOpset = 11;
inline constexpr std::int64_t kLastOpset = 17;

// "conv1/Conv" -> "conv1_Conv": letters, digits, '_', '-' and '.' are kept, anything else (the
// '/' of parameter paths among them) becomes '_'; leading and trailing '_' are dropped.
inline std::string layer_name(const std::string& node_name) {
  std::string name;
  for (const char c : node_name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.';
    name += keep ? c : '_';
  }
  const auto first = name.find_first_not_of('_');
  if (first == std::string::npos) return "";
  return name.substr(first, name.find_last_not_of('_') - first + 1);
}

// A tensor of the ONNX graph that the model computes: the minicnn node holding it, the shape of
// one sample as ONNX sees it and as minicnn holds it. The two differ only after
// GlobalAveragePool, whose ONNX output (C, 1, 1) is minicnn's (C): the same values in the same
// order.
struct Activation {
  Node node;
  Shape onnx;
  Shape shape;
};

template <typename T>
class Importer {
 public:
  explicit Importer(std::string source) : source_(std::move(source)) {}

  Model<T> run(const ::onnx::ModelProto& proto, std::uint64_t seed) {
    opset_ = default_opset(proto);
    const ::onnx::GraphProto& graph = proto.graph();
    order_ = sorted_nodes(graph);
    try {
      ::onnx::checker::check_model(proto);
    } catch (const std::exception& e) {
      fail(source_, ": ONNX's checker refuses the model: ", e.what());
    }
    for (const ::onnx::TensorProto& tensor : graph.initializer())
      constants_[tensor.name()] = &tensor;
    for (const ::onnx::NodeProto* node : order_)
      for (const std::string& input : node->input())
        consumers_[input].push_back(node);
    for (const auto& output : graph.output())
      graph_outputs_.insert(output.name());
    add_input(graph);
    for (const ::onnx::NodeProto* node : order_) {
      if (absorbed_.count(node) != 0) continue;
      try {
        map_node(*node);
      } catch (const Error& e) {
        fail(source_, ": ", where(*node), ": ", e.what());
      }
    }
    if (graph.output_size() != 1)
      fail(source_, ": expected a graph with 1 output, got ", graph.output_size());
    const std::string& output = graph.output(0).name();
    const auto found = activations_.find(output);
    if (found == activations_.end())
      fail(source_, ": the graph's output '", output,
           "' is a constant, not computed from the input");
    if (found->second.node.index == input_.index)
      fail(source_, ": the graph's output '", output, "' is its input; the model has no layers");
    model_.build(found->second.node, seed);
    for (auto& [name, weights] : weights_) {
      std::vector<Parameter<T>*> parameters = model_.layer(name).parameters();
      for (std::size_t k = 0; k < weights.size(); ++k) {
        if (parameters[k]->value.shape() != weights[k].shape())
          fail(source_, ": layer '", name, "': expected ", parameters[k]->name, " of shape ",
               parameters[k]->value.shape(), ", got ", weights[k].shape());
        parameters[k]->value = weights[k];
      }
    }
    return std::move(model_);
  }

 private:
  // ---- The graph's structure -------------------------------------------------------------------

  std::int64_t default_opset(const ::onnx::ModelProto& proto) const {
    for (const auto& opset : proto.opset_import())
      if (opset.domain().empty() || opset.domain() == "ai.onnx") {
        if (opset.version() < 1 || opset.version() > kLastOpset)
          fail(source_, ": expected opset ", kFirstOpset, " to ", kLastOpset,
               " of the default domain (or an older one whose operators are defined as in ",
               kFirstOpset, "), got opset ", opset.version());
        return opset.version();
      }
    fail(source_, ": the model imports no opset of the default domain (ai.onnx)");
  }

  // The nodes in an order where each comes after the nodes whose outputs it reads (Kahn's
  // algorithm, stable: a sorted graph keeps its order). Refuses a node reading a tensor that no
  // node, input or initializer defines, and a cycle.
  std::vector<const ::onnx::NodeProto*> sorted_nodes(const ::onnx::GraphProto& graph) const {
    std::set<std::string> defined;
    for (const auto& input : graph.input())
      defined.insert(input.name());
    for (const auto& tensor : graph.initializer())
      defined.insert(tensor.name());
    std::map<std::string, const ::onnx::NodeProto*> producer;
    for (const ::onnx::NodeProto& node : graph.node())
      for (const std::string& output : node.output()) {
        if (output.empty()) continue;
        if (defined.count(output) != 0 || producer.count(output) != 0)
          fail(source_, ": ", where(node), ": its output '", output,
               "' is already defined by an input, an initializer or another node");
        producer[output] = &node;
      }
    for (const ::onnx::NodeProto& node : graph.node())
      for (const std::string& input : node.input())
        if (!input.empty() && defined.count(input) == 0 && producer.count(input) == 0)
          fail(source_, ": ", where(node), ": its input '", input,
               "' is not a graph input, an initializer or any node's output (a dangling input)");
    std::vector<const ::onnx::NodeProto*> order;
    std::vector<bool> placed(static_cast<std::size_t>(graph.node_size()), false);
    for (bool progress = true; progress;) {
      progress = false;
      for (int k = 0; k < graph.node_size(); ++k) {
        if (placed[static_cast<std::size_t>(k)]) continue;
        const ::onnx::NodeProto& node = graph.node(k);
        const bool ready = std::all_of(
            node.input().begin(), node.input().end(),
            [&](const std::string& input) { return input.empty() || defined.count(input) != 0; });
        if (!ready) continue;
        for (const std::string& output : node.output())
          defined.insert(output);
        placed[static_cast<std::size_t>(k)] = true;
        order.push_back(&node);
        progress = true;
      }
    }
    for (int k = 0; k < graph.node_size(); ++k)
      if (!placed[static_cast<std::size_t>(k)])
        fail(source_, ": ", where(graph.node(k)),
             ": the graph has a cycle through this node (it reads, directly or not, its own "
             "output)");
    return order;
  }

  // The one input that is not an initializer: a FLOAT (or DOUBLE) tensor (N, C, H, W) or (N, F),
  // N symbolic or fixed, the other extents fixed. An NHWC input whose every reader is a
  // Transpose(perm 0,3,1,2) (tf2onnx's Keras models) becomes an NCHW input read by their readers.
  void add_input(const ::onnx::GraphProto& graph) {
    const ::onnx::ValueInfoProto* input = nullptr;
    int inputs = 0;
    for (const auto& value : graph.input())
      if (constants_.count(value.name()) == 0) {
        input = &value;
        ++inputs;
      }
    if (inputs != 1) fail(source_, ": expected a graph with 1 input, got ", inputs);
    const std::string what = source_ + ": the graph's input '" + input->name() + "'";
    if (!input->type().has_tensor_type())
      fail(what, ": expected a tensor, got another kind of value");
    const auto& type = input->type().tensor_type();
    if (type.elem_type() != ::onnx::TensorProto::FLOAT &&
        type.elem_type() != ::onnx::TensorProto::DOUBLE)
      fail(what, ": expected FLOAT or DOUBLE elements, got ", data_type_name(type.elem_type()));
    if (!type.has_shape() || (type.shape().dim_size() != 2 && type.shape().dim_size() != 4))
      fail(what, ": expected a shape of rank 4 (N, C, H, W) or 2 (N, F), got ",
           type.shape().dim_size() == 0 ? "none"
                                        : "rank " + std::to_string(type.shape().dim_size()));
    const auto& batch = type.shape().dim(0);
    if (batch.has_dim_value()) {
      if (batch.dim_value() <= 0)
        fail(what, ": expected a batch extent > 0, got ", batch.dim_value());
      batch_ = batch.dim_value();
    }
    Shape onnx;
    for (int axis = 1; axis < type.shape().dim_size(); ++axis) {
      const auto& dim = type.shape().dim(axis);
      if (!dim.has_dim_value() || dim.dim_value() <= 0)
        fail(what, ": expected a fixed extent > 0 on axis ", axis, ", got ",
             dim.has_dim_value() ? std::to_string(dim.dim_value()) : "'" + dim.dim_param() + "'");
      onnx.push_back(dim.dim_value());
    }
    const auto& readers = consumers_[input->name()];
    const bool nhwc =
        onnx.rank() == 3 && !readers.empty() && graph_outputs_.count(input->name()) == 0 &&
        std::all_of(readers.begin(), readers.end(),
                    [](const ::onnx::NodeProto* node) { return is_nhwc_to_nchw(*node); });
    const Shape sample = nhwc ? Shape{onnx[2], onnx[0], onnx[1]} : onnx;
    input_ = model_.input(sample, unique(layer_name(input->name()), "input"));
    if (!nhwc) {
      activations_[input->name()] = {input_, sample, sample};
      return;
    }
    for (const ::onnx::NodeProto* transpose : readers) {
      activations_[transpose->output(0)] = {input_, sample, sample};
      absorbed_.insert(transpose);
    }
  }

  static bool is_nhwc_to_nchw(const ::onnx::NodeProto& node) {
    if (node.op_type() != "Transpose" || node.output_size() < 1 || node.attribute_size() != 1 ||
        node.attribute(0).name() != "perm")
      return false;
    const auto& perm = node.attribute(0).ints();
    return perm.size() == 4 && perm[0] == 0 && perm[1] == 3 && perm[2] == 1 && perm[3] == 2;
  }

  // ---- Operators -------------------------------------------------------------------------------

  void map_node(const ::onnx::NodeProto& node) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      fail("operator domain '", node.domain(), "' is not supported (only ai.onnx's operators)");
    if (node.output_size() < 1 || node.output(0).empty()) fail("expected an output, got none");
    if (opset_ < kFirstOpset) check_older_opset(node);
    const std::string& op = node.op_type();
    if (op == "Conv") return conv(node);
    if (op == "BatchNormalization") return batch_norm(node);
    if (op == "Relu") return elementwise(node, std::make_unique<ReLU<T>>());
    if (op == "Clip") return clip(node);
    if (op == "LeakyRelu") {
      check_attributes(node, {"alpha"});
      return elementwise(node,
                         std::make_unique<LeakyReLU<T>>(float_attribute(node, "alpha", 0.01f)));
    }
    if (op == "Sigmoid") return elementwise(node, std::make_unique<Sigmoid<T>>());
    if (op == "Tanh") return elementwise(node, std::make_unique<Tanh<T>>());
    if (op == "MaxPool" || op == "AveragePool") return pool(node);
    if (op == "GlobalAveragePool") return global_average_pool(node);
    if (op == "Pad") return pad(node);
    if (op == "Add") return add(node);
    if (op == "Concat") return concat(node);
    if (op == "Flatten" || op == "Reshape") return flatten(node);
    if (op == "Gemm") return gemm(node);
    if (op == "MatMul") return matmul(node);
    if (op == "Softmax") return softmax(node);
    if (op == "Dropout") return dropout(node);
    if (op == "Identity") {
      check_attributes(node, {});
      activations_[node.output(0)] = activation(node, 0);
      return;
    }
    if (op == "Constant") return constant_node(node);
    if (op == "Transpose")
      fail(
          "a Transpose is supported only as perm (0, 3, 1, 2) right after the graph's input "
          "(an NHWC input)");
    fail("operator '", op,
         "' is not supported; minicnn imports Conv, BatchNormalization, Relu, Clip, LeakyRelu, "
         "Sigmoid, Tanh, MaxPool, AveragePool, GlobalAveragePool, Pad, Add, Concat, Flatten, "
         "Reshape, "
         "Gemm, MatMul, Softmax, Dropout, Identity, Constant and an input Transpose");
  }

  // In a file of opset n < 11, the node's operator is the version ONNX defined last up to n; it is
  // imported when that is still the version of opset 11 (Relu-6, Conv-1, GlobalAveragePool-1),
  // refused when it changed since (Clip-6's bounds were attributes, Softmax-1's axis...).
  void check_older_opset(const ::onnx::NodeProto& node) const {
    using Registry = ::onnx::OpSchemaRegistry;
    const ::onnx::OpSchema* then = Registry::Schema(node.op_type(), static_cast<int>(opset_));
    const ::onnx::OpSchema* now = Registry::Schema(node.op_type(), static_cast<int>(kFirstOpset));
    if (then == nullptr || now == nullptr || then->since_version() != now->since_version())
      fail("operator version ", then ? then->since_version() : 0, " (opset ", opset_,
           ") is not opset ", kFirstOpset, "'s version ", now ? now->since_version() : 0,
           "; minicnn imports the operators of opsets ", kFirstOpset, " to ", kLastOpset,
           " (onnx.version_converter converts a file)");
  }

  // Conv: Y = W * X (+ B), W (M, C/group, KH, KW). group 1 is Conv2D; group = C with one input
  // channel per group is DepthwiseConv2D with M/C outputs per channel (minicnn's depthwise kernel
  // (C*M, 1, KH, KW) is ONNX's W as it is). Other groups have no minicnn layer.
  void conv(const ::onnx::NodeProto& node) {
    check_attributes(node, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
    const Activation x = image(node, 0);
    const Tensor<T> w = weights(node, 1, 4);
    const bool bias = has_input(node, 2);
    const Index filters = w.dim(0), channels = x.onnx[0];
    const Index group = int_attribute(node, "group", 1);
    const Window window = window_attributes(node, x.onnx, {w.dim(2), w.dim(3)}, true);
    std::unique_ptr<Layer<T>> layer;
    if (group == 1) {
      if (w.dim(1) != channels)
        fail("input 1 (W) has shape ", w.shape(), ": expected ", channels,
             " input channels (dims[1]), as X has, got ", w.dim(1));
      layer = std::make_unique<Conv2D<T>>(filters, window.kernel, window.strides, window.pads, bias,
                                          Initializer::glorot_uniform, window.dilations);
    } else if (group == channels && w.dim(1) == 1 && filters % channels == 0) {
      layer = std::make_unique<DepthwiseConv2D<T>>(window.kernel, window.strides, window.pads,
                                                   filters / channels, bias, window.dilations);
    } else {
      fail("attribute 'group' = ", group, ": expected 1 or the input's ", channels,
           " channels with W of shape (a multiple of C, 1, KH, KW) (a depthwise convolution), got "
           "W ",
           w.shape(), "; grouped convolutions have no minicnn layer");
    }
    std::vector<Tensor<T>> parameters{w};
    if (bias) parameters.push_back(vector_constant(node, 2, filters));
    add_layer(node, std::move(layer), {x}, std::move(parameters));
  }

  // BatchNormalization(X, scale, B, mean, var): y = scale (x - mean) / sqrt(var + epsilon) + B.
  // ONNX's momentum weighs the running value, as minicnn's (and Keras's) does: it maps as it is
  // (PyTorch's momentum m is exported as 1 - m).
  void batch_norm(const ::onnx::NodeProto& node) {
    check_attributes(node, {"epsilon", "momentum", "training_mode"});
    const Activation x = activation(node, 0);
    if (x.onnx.rank() != 3 && x.onnx.rank() != 1)
      fail("expected input X of shape (N, C, H, W) or (N, C), got (N, ", x.onnx.str().substr(1));
    for (int k = 1; k < node.output_size(); ++k)
      if (is_used(node.output(k)))
        fail("output ", k, " ('", node.output(k),
             "', a running statistic of a training graph) is read; minicnn keeps the statistics "
             "inside the layer");
    const Index channels = x.onnx[0];
    std::vector<Tensor<T>> parameters;
    for (int k = 1; k <= 4; ++k)
      parameters.push_back(vector_constant(node, k, channels));
    add_layer(node,
              std::make_unique<BatchNorm<T>>(float_attribute(node, "momentum", 0.9f),
                                             float_attribute(node, "epsilon", 1e-5f)),
              {x}, std::move(parameters));
  }

  // Clip(x, min, max) with min = 0 is ReLU(max_value = max) (ReLU6 with max = 6), or ReLU
  // without max. Any other min has no minicnn layer.
  void clip(const ::onnx::NodeProto& node) {
    check_attributes(node, {});
    const std::optional<T> low = scalar_input(node, 1, "min");
    const std::optional<T> high = scalar_input(node, 2, "max");
    if (!low || *low != T(0))
      fail("input 1 (min) = ", low ? std::to_string(*low) : std::string("none (-infinity)"),
           ": only min = 0 (a ReLU, capped by max) is supported");
    elementwise(node, high ? std::make_unique<ReLU<T>>(static_cast<double>(*high))
                           : std::make_unique<ReLU<T>>());
  }

  void elementwise(const ::onnx::NodeProto& node, std::unique_ptr<Layer<T>> layer) {
    if (node.op_type() != "Clip" && node.op_type() != "LeakyRelu") check_attributes(node, {});
    const Activation x = activation(node, 0);
    add_layer(node, std::move(layer), {x}, {});
    activations_[node.output(0)].onnx = x.onnx;  // (C, 1, 1) after GlobalAveragePool stays so
  }

  // MaxPool and AveragePool: the window over the input's elements only (the padding never
  // counts; AveragePool's count_include_pad = 1 with pads has no minicnn layer). MaxPool's
  // storage_order matters only to its Indices output, which must not be read.
  void pool(const ::onnx::NodeProto& node) {
    const bool max = node.op_type() == "MaxPool";
    if (max)
      check_attributes(node, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                              "storage_order", "strides"});
    else
      check_attributes(
          node, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"});
    const Activation x = image(node, 0);
    const std::vector<std::int64_t> kernel = ints_attribute(node, "kernel_shape", {});
    if (kernel.size() != 2)
      fail("attribute 'kernel_shape' has ", kernel.size(), " values: expected 2 (a 2-D pool)");
    const Window window = window_attributes(node, x.onnx, {kernel[0], kernel[1]}, max);
    if (!(window.dilations == Size2(1)))
      fail("attribute 'dilations' = ", window.dilations.str(), ": only 1x1 is supported");
    if (max && node.output_size() > 1 && is_used(node.output(1)))
      fail("output 1 ('", node.output(1), "', the Indices) is read; minicnn has no such output");
    const bool padded = !(window.pads == Pads(0));
    if (!max && padded && int_attribute(node, "count_include_pad", 0) != 0)
      fail("attribute 'count_include_pad' = 1 with pads ", window.pads.str(),
           ": minicnn's AvgPool2D divides by the elements inside the input only "
           "(count_include_pad = 0)");
    std::unique_ptr<Layer<T>> layer;
    if (max)
      layer = padded ? std::make_unique<MaxPool2D<T>>(window.kernel, window.strides, window.pads)
                     : std::make_unique<MaxPool2D<T>>(window.kernel, window.strides);
    else
      layer = padded ? std::make_unique<AvgPool2D<T>>(window.kernel, window.strides, window.pads)
                     : std::make_unique<AvgPool2D<T>>(window.kernel, window.strides);
    const Activation y = add_layer(node, std::move(layer), {x}, {});
    // ceil_mode = 1 rounds the output extent up; minicnn rounds down: refused when they differ.
    if (int_attribute(node, "ceil_mode", 0) != 0) {
      const auto rounded_up = [](Index in, Index before, Index after, Index k, Index s) {
        return (in + before + after - k + s - 1) / s + 1;
      };
      if (rounded_up(x.onnx[1], window.pads.top, window.pads.bottom, window.kernel.height,
                     window.strides.height) != y.onnx[1] ||
          rounded_up(x.onnx[2], window.pads.left, window.pads.right, window.kernel.width,
                     window.strides.width) != y.onnx[2])
        fail("attribute 'ceil_mode' = 1 changes the output extent on this input (", x.onnx.str(),
             "); minicnn rounds it down (ceil_mode = 0)");
    }
  }

  // Pad (mode 'constant', value 0) of the rows and columns: ZeroPadding2D; all pads 0: no layer.
  // PyTorch 1.13 writes a Pad of zeros before AvgPool2d; tf2onnx writes Keras's ZeroPadding2D.
  // pads is (N, C, H, W begins, then ends); N and C must not be padded.
  void pad(const ::onnx::NodeProto& node) {
    check_attributes(node, {"mode"});
    const Activation x = image(node, 0);
    if (string_attribute(node, "mode", "constant") != "constant")
      fail("attribute 'mode' = '", string_attribute(node, "mode", ""),
           "': only 'constant' (zero) padding is supported");
    if (node.input_size() > 3) fail("input 3 (axes) is not supported");
    if (const std::optional<T> value = scalar_input(node, 2, "constant_value");
        value && *value != T(0))
      fail("input 2 (constant_value) = ", *value, ": only zero padding is supported");
    const std::vector<std::int64_t> p = int_values(constant(node, 1), input_name(node, 1));
    if (p.size() != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0)
      fail("input 1 (pads) = (", join(p), "): expected 8 values that pad only H and W");
    for (const std::int64_t e : p)
      if (e < 0)
        fail("input 1 (pads) = (", join(p), "): negative pads (cropping) are not supported");
    if (p[2] == 0 && p[3] == 0 && p[6] == 0 && p[7] == 0) {
      activations_[node.output(0)] = x;
      return;
    }
    add_layer(node, std::make_unique<ZeroPadding2D<T>>(Pads(p[2], p[6], p[3], p[7])), {x}, {});
  }

  // GlobalAveragePool: ONNX's output (N, C, 1, 1) is GlobalAveragePooling2D's (N, C).
  void global_average_pool(const ::onnx::NodeProto& node) {
    check_attributes(node, {});
    const Activation x = image(node, 0);
    add_layer(node, std::make_unique<GlobalAveragePooling2D<T>>(), {x}, {});
    activations_[node.output(0)].onnx = Shape{x.onnx[0], 1, 1};
  }

  // Add of two computed tensors of one shape (a residual connection). A constant operand (a bias)
  // is supported only after MatMul, where it becomes the Dense layer's bias.
  void add(const ::onnx::NodeProto& node) {
    check_attributes(node, {});
    const Activation a = activation(node, 0), b = activation(node, 1);
    if (!(a.onnx == b.onnx))
      fail("inputs of shapes (N, ", a.onnx.str().substr(1), " and (N, ", b.onnx.str().substr(1),
           ": minicnn's Add takes two tensors of one shape (no broadcasting)");
    add_layer(node, std::make_unique<Add<T>>(), {a, b}, {});
    activations_[node.output(0)].onnx = a.onnx;
  }

  void concat(const ::onnx::NodeProto& node) {
    check_attributes(node, {"axis"});
    std::vector<Activation> inputs{activation(node, 0)};
    for (int k = 1; k < node.input_size(); ++k)
      inputs.push_back(activation(node, k));
    const Index rank = inputs.front().onnx.rank() + 1;
    Index axis = int_attribute(node, "axis", LLONG_MIN);
    if (axis == LLONG_MIN) fail("attribute 'axis' is missing");
    if (axis < 0) axis += rank;
    if (axis != 1)
      fail("attribute 'axis' = ", int_attribute(node, "axis", 0), ": only the channel axis (1) of ",
           "a rank-", rank, " input is supported");
    if (inputs.size() == 1) {
      activations_[node.output(0)] = inputs.front();
      return;
    }
    add_layer(node, std::make_unique<Concatenate<T>>(1), inputs, {});
  }

  // Flatten(axis 1) and Reshape to (N, -1): (N, C, H, W) -> (N, C*H*W), the row-major order,
  // minicnn's Flatten. An input already of shape (N, F) passes through.
  void flatten(const ::onnx::NodeProto& node) {
    const Activation x = activation(node, 0);
    const Index features = x.onnx.size();
    if (node.op_type() == "Flatten") {
      check_attributes(node, {"axis"});
      Index axis = int_attribute(node, "axis", 1);
      if (axis < 0) axis += x.onnx.rank() + 1;
      if (axis != 1)
        fail("attribute 'axis' = ", int_attribute(node, "axis", 1),
             ": only 1 (keep the batch axis, flatten the rest) is supported");
    } else {
      check_attributes(node, {"allowzero"});
      const std::vector<std::int64_t> target = int_values(constant(node, 1), input_name(node, 1));
      const bool allow_zero = int_attribute(node, "allowzero", 0) != 0;
      const bool batch_ok = target.size() == 2 && ((target[0] == 0 && !allow_zero) ||
                                                   (target[0] == -1 && target[1] == features) ||
                                                   (batch_ && target[0] == *batch_));
      if (!batch_ok || !(target[1] == -1 || target[1] == features))
        fail("input 1 (shape) = (", join(target),
             "): only a reshape to (N, -1) or (N, C*H*W) is supported, with N given as 0, as -1 "
             "or as the input's fixed batch extent; the input is (N, ",
             x.onnx.str().substr(1));
    }
    if (x.shape.rank() == 1) {
      activations_[node.output(0)] = {x.node, Shape{features}, x.shape};
      return;
    }
    add_layer(node, std::make_unique<Flatten<T>>(), {x}, {});
  }

  // Gemm: Y = alpha A' B' + beta C, A' = A (transA = 0), B' = B or B^T (transB); a Dense layer with
  // kernel alpha B' (in, units) and bias beta C, C of shape (units), (1, units) or a scalar.
  void gemm(const ::onnx::NodeProto& node) {
    check_attributes(node, {"alpha", "beta", "transA", "transB"});
    const Activation a = features(node, 0);
    if (int_attribute(node, "transA", 0) != 0)
      fail(
          "attribute 'transA' = 1: A is the batch (N, F) the model computes; it cannot be "
          "transposed");
    Tensor<T> b = weights(node, 1, 2);
    if (int_attribute(node, "transB", 0) != 0) b = transposed(b);
    const Index units = b.dim(1);
    if (b.dim(0) != a.onnx[0])
      fail("input 1 (B) gives a (", b.dim(0), ", ", units, ") kernel (after transB): expected ",
           a.onnx[0], " rows, as A has features");
    const T alpha = static_cast<T>(float_attribute(node, "alpha", 1.0f));
    const T beta = static_cast<T>(float_attribute(node, "beta", 1.0f));
    for (T& v : b)
      v *= alpha;
    std::vector<Tensor<T>> parameters{b};
    if (has_input(node, 2)) {
      Tensor<T> c = bias_constant(node, 2, units);
      for (T& v : c)
        v *= beta;
      parameters.push_back(c);
    }
    const bool bias = parameters.size() == 2;
    add_layer(node, std::make_unique<Dense<T>>(units, bias), {a}, std::move(parameters));
  }

  // MatMul(A, B) with a constant B (F, units) is a Dense layer without bias; when its only reader
  // is an Add of a constant (units) or (1, units), that is the layer's bias (PyTorch's Linear
  // exported without Gemm).
  void matmul(const ::onnx::NodeProto& node) {
    check_attributes(node, {});
    const Activation a = features(node, 0);
    const Tensor<T> b = weights(node, 1, 2);
    if (b.dim(0) != a.onnx[0])
      fail("input 1 (B) has shape ", b.shape(), ": expected ", a.onnx[0],
           " rows, as A has features");
    std::vector<Tensor<T>> parameters{b};
    const std::string& out = node.output(0);
    const auto& readers = consumers_[out];
    const ::onnx::NodeProto* bias_add = nullptr;
    if (readers.size() == 1 && readers[0]->op_type() == "Add" && graph_outputs_.count(out) == 0 &&
        readers[0]->input_size() == 2 && readers[0]->attribute_size() == 0) {
      const ::onnx::NodeProto& next = *readers[0];
      const int other = next.input(0) == out ? 1 : 0;
      if (constants_.count(next.input(other)) != 0) {
        try {
          parameters.push_back(bias_constant(next, other, b.dim(1)));
        } catch (const Error& e) {
          fail(where(next), " (the bias of this MatMul): ", e.what());
        }
        bias_add = &next;
      }
    }
    add_layer(node, std::make_unique<Dense<T>>(b.dim(1), bias_add != nullptr), {a},
              std::move(parameters));
    if (bias_add) {
      activations_[bias_add->output(0)] = activations_[out];
      absorbed_.insert(bias_add);
    }
  }

  // Softmax over the last axis of (N, K). (Opsets 11 and 12 flatten the axes from `axis` on;
  // on (N, K) with axis 1 that is the same.)
  void softmax(const ::onnx::NodeProto& node) {
    check_attributes(node, {"axis"});
    const Activation x = activation(node, 0);
    const Index rank = x.onnx.rank() + 1;
    const Index given = int_attribute(node, "axis", opset_ < 13 ? 1 : -1);
    const Index axis = given < 0 ? given + rank : given;
    if (rank != 2 || axis != 1)
      fail("attribute 'axis' = ", given, " on an input of shape (N, ", x.onnx.str().substr(1),
           ": only the class axis of (N, K) is supported");
    add_layer(node, std::make_unique<Softmax<T>>(), {x}, {});
  }

  // Dropout: the identity in inference, minicnn's Dropout(ratio) in fit(). Opset 11 gives the
  // ratio as an attribute, later opsets as input 1; the mask output must not be read.
  void dropout(const ::onnx::NodeProto& node) {
    check_attributes(node, {"ratio", "seed"});
    const Activation x = activation(node, 0);
    double ratio = float_attribute(node, "ratio", 0.5f);
    if (const std::optional<T> given = scalar_input(node, 1, "ratio")) ratio = *given;
    if (node.output_size() > 1 && is_used(node.output(1)))
      fail("output 1 ('", node.output(1), "', the mask) is read; minicnn has no such output");
    add_layer(node, std::make_unique<Dropout<T>>(ratio), {x}, {});
    activations_[node.output(0)].onnx = x.onnx;
  }

  void constant_node(const ::onnx::NodeProto& node) {
    check_attributes(node, {"value"});
    const ::onnx::AttributeProto* value = attribute(node, "value");
    if (value == nullptr || value->type() != ::onnx::AttributeProto::TENSOR)
      fail("expected the attribute 'value' (a tensor); the other forms are not supported");
    constants_[node.output(0)] = &value->t();
  }

  // ---- Window attributes (Conv, MaxPool, AveragePool) -----------------------------------------

  struct Window {
    Size2 kernel, strides, dilations;
    Pads pads;
  };

  // kernel_shape (checked against `kernel`), strides, dilations, and pads or auto_pad. ONNX's
  // pads are (top, left, bottom, right); SAME_UPPER puts the odd row at the bottom (Keras's
  // 'same'), SAME_LOWER at the top, both computed here from the input's extents.
  Window window_attributes(const ::onnx::NodeProto& node, const Shape& x, Size2 kernel,
                           bool allow_dilations) const {
    const auto pair = [&](const char* name, std::int64_t fallback) {
      const std::vector<std::int64_t> v = ints_attribute(node, name, {fallback, fallback});
      if (v.size() != 2) fail("attribute '", name, "' has ", v.size(), " values: expected 2");
      for (const std::int64_t e : v)
        if (e <= 0) fail("attribute '", name, "' = (", join(v), "): expected values > 0");
      return Size2(v[0], v[1]);
    };
    Window w{kernel, pair("strides", 1), pair("dilations", 1), Pads(0)};
    if (!allow_dilations && attribute(node, "dilations") != nullptr && !(w.dilations == Size2(1)))
      fail("attribute 'dilations' is not supported");
    if (attribute(node, "kernel_shape") != nullptr && !(pair("kernel_shape", 1) == kernel))
      fail("attribute 'kernel_shape' = ", pair("kernel_shape", 1).str(),
           " differs from the kernel's ", kernel.str());
    const std::string auto_pad = string_attribute(node, "auto_pad", "NOTSET");
    if (auto_pad == "NOTSET") {
      const std::vector<std::int64_t> p = ints_attribute(node, "pads", {0, 0, 0, 0});
      if (p.size() != 4)
        fail("attribute 'pads' has ", p.size(), " values: expected 4 (a 2-D window)");
      for (const std::int64_t e : p)
        if (e < 0) fail("attribute 'pads' = (", join(p), "): expected values >= 0");
      w.pads = Pads(p[0], p[2], p[1], p[3]);
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const auto axis = [&](Index in, Index k, Index s, Index d) {
        if (!dilated_extent_fits(k, d)) fail("the dilated kernel's extent overflows");
        const WindowAxis a = window_axis(in, dilated_extent(k, d), s, Padding::same);
        return auto_pad == "SAME_UPPER" ? std::make_pair(a.pad_before, a.pad_after)
                                        : std::make_pair(a.pad_after, a.pad_before);
      };
      const auto rows = axis(x[1], kernel.height, w.strides.height, w.dilations.height);
      const auto cols = axis(x[2], kernel.width, w.strides.width, w.dilations.width);
      w.pads = Pads(rows.first, rows.second, cols.first, cols.second);
    } else if (auto_pad != "VALID") {
      fail("attribute 'auto_pad' = '", auto_pad,
           "': expected NOTSET, SAME_UPPER, SAME_LOWER or VALID");
    }
    return w;
  }

  // ---- Inputs ----------------------------------------------------------------------------------

  static bool has_input(const ::onnx::NodeProto& node, int k) {
    return k < node.input_size() && !node.input(k).empty();
  }
  static std::string input_name(const ::onnx::NodeProto& node, int k) {
    return "input " + std::to_string(k) + " ('" + node.input(k) + "')";
  }

  // Input k, a tensor the model computes from its input.
  Activation activation(const ::onnx::NodeProto& node, int k) const {
    if (!has_input(node, k)) fail("input ", k, " is missing");
    const auto found = activations_.find(node.input(k));
    if (found == activations_.end())
      fail(input_name(node, k),
           " is a constant; minicnn supports it only as a tensor computed "
           "from the model's input");
    return found->second;
  }
  // Input k, a batch of images (N, C, H, W).
  Activation image(const ::onnx::NodeProto& node, int k) const {
    const Activation x = activation(node, k);
    if (x.onnx.rank() != 3)
      fail(input_name(node, k), " has shape (N, ", x.onnx.str().substr(1),
           ": expected (N, C, H, W), a 2-D operation");
    return x;
  }
  // Input k, a batch of feature vectors (N, F).
  Activation features(const ::onnx::NodeProto& node, int k) const {
    const Activation x = activation(node, k);
    if (x.onnx.rank() != 1)
      fail(input_name(node, k), " has shape (N, ", x.onnx.str().substr(1),
           ": expected (N, F); flatten it first");
    return x;
  }
  // Input k, a constant: an initializer or a Constant node's value.
  const ::onnx::TensorProto& constant(const ::onnx::NodeProto& node, int k) const {
    if (!has_input(node, k)) fail("input ", k, " is missing");
    const auto found = constants_.find(node.input(k));
    if (found == constants_.end())
      fail(input_name(node, k),
           " is computed by the graph; minicnn needs it to be a constant "
           "(an initializer)");
    return *found->second;
  }
  // A constant weight tensor of the given rank.
  Tensor<T> weights(const ::onnx::NodeProto& node, int k, int rank) const {
    Tensor<T> w = to_tensor<T>(constant(node, k), input_name(node, k));
    if (w.rank() != rank || w.size() == 0)
      fail(input_name(node, k), " has shape ", w.shape(), ": expected a non-empty tensor of rank ",
           rank);
    return w;
  }
  // A constant of `n` values, shape (n).
  Tensor<T> vector_constant(const ::onnx::NodeProto& node, int k, Index n) const {
    Tensor<T> v = to_tensor<T>(constant(node, k), input_name(node, k));
    if (v.rank() != 1 || v.dim(0) != n)
      fail(input_name(node, k), " has shape ", v.shape(), ": expected (", n, ")");
    return v;
  }
  // A bias of `n` values given as (n), (1, n) or a scalar (broadcast to every unit).
  Tensor<T> bias_constant(const ::onnx::NodeProto& node, int k, Index n) const {
    const Tensor<T> v = to_tensor<T>(constant(node, k), input_name(node, k));
    const Shape& s = v.shape();
    const bool scalar = v.size() == 1 && (s.rank() == 1 || (s.rank() == 2 && s[0] == 1));
    if (scalar) return Tensor<T>({n}, v.data()[0]);
    if ((s.rank() == 1 && s[0] == n) || (s.rank() == 2 && s[0] == 1 && s[1] == n)) {
      Tensor<T> b({n});
      std::copy(v.begin(), v.end(), b.begin());
      return b;
    }
    fail(input_name(node, k), " has shape ", s, ": expected a bias of shape (", n, "), (1, ", n,
         ") or a scalar; other broadcasts are not supported");
  }
  // An optional scalar constant input (Clip's min and max, Dropout's ratio).
  std::optional<T> scalar_input(const ::onnx::NodeProto& node, int k, const char* what) const {
    if (!has_input(node, k)) return std::nullopt;
    const Tensor<T> v = to_tensor<T>(constant(node, k), input_name(node, k));
    if (v.size() != 1)
      fail(input_name(node, k), " (", what, ") has shape ", v.shape(), ": expected a scalar");
    return v.data()[0];
  }

  bool is_used(const std::string& name) const {
    if (name.empty()) return false;
    const auto found = consumers_.find(name);
    return graph_outputs_.count(name) != 0 || (found != consumers_.end() && !found->second.empty());
  }

  static Tensor<T> transposed(const Tensor<T>& m) {
    Tensor<T> t({m.dim(1), m.dim(0)});
    t.matrix() = m.matrix().transpose();
    return t;
  }

  // ---- Attributes ------------------------------------------------------------------------------

  static const ::onnx::AttributeProto* attribute(const ::onnx::NodeProto& node, const char* name) {
    for (const auto& a : node.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  // Refuses any attribute outside `known`: an attribute minicnn does not read would be ignored.
  static void check_attributes(const ::onnx::NodeProto& node, std::set<std::string> known) {
    for (const auto& a : node.attribute())
      if (known.count(a.name()) == 0)
        fail("attribute '", a.name(), "' is not supported by minicnn's import of ", node.op_type());
  }
  static const ::onnx::AttributeProto* typed(const ::onnx::NodeProto& node, const char* name,
                                             ::onnx::AttributeProto::AttributeType type) {
    const ::onnx::AttributeProto* a = attribute(node, name);
    if (a != nullptr && a->type() != type)
      fail("attribute '", name, "' has type ",
           ::onnx::AttributeProto::AttributeType_Name(a->type()), ": expected ",
           ::onnx::AttributeProto::AttributeType_Name(type));
    return a;
  }
  static std::int64_t int_attribute(const ::onnx::NodeProto& node, const char* name,
                                    std::int64_t fallback) {
    const auto* a = typed(node, name, ::onnx::AttributeProto::INT);
    return a ? a->i() : fallback;
  }
  static float float_attribute(const ::onnx::NodeProto& node, const char* name, float fallback) {
    const auto* a = typed(node, name, ::onnx::AttributeProto::FLOAT);
    return a ? a->f() : fallback;
  }
  static std::vector<std::int64_t> ints_attribute(const ::onnx::NodeProto& node, const char* name,
                                                  std::vector<std::int64_t> fallback) {
    const auto* a = typed(node, name, ::onnx::AttributeProto::INTS);
    return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : fallback;
  }
  static std::string string_attribute(const ::onnx::NodeProto& node, const char* name,
                                      std::string fallback) {
    const auto* a = typed(node, name, ::onnx::AttributeProto::STRING);
    return a ? a->s() : fallback;
  }

  // ---- Layers ----------------------------------------------------------------------------------

  // Adds `layer` reading `inputs` under the node's name, records its output as the node's output 0
  // and keeps `parameters` (the layer's, in its order) for after build(). The layer's plan gives
  // the output shape now, so that every later node is checked against it.
  Activation add_layer(const ::onnx::NodeProto& node, std::unique_ptr<Layer<T>> layer,
                       const std::vector<Activation>& inputs, std::vector<Tensor<T>> parameters) {
    layer->set_name(unique(layer_name(node.name()), ""));
    std::vector<Node> nodes;
    std::vector<Shape> shapes;
    for (const Activation& input : inputs) {
      nodes.push_back(input.node);
      shapes.push_back(input.shape);
    }
    const LayerPlan plan =
        layer->as_merge() ? layer->as_merge()->plan(shapes) : layer->plan(shapes.front());
    const Layer<T>* added = layer.get();  // the model shares it; alive as long as model_
    const Activation y{model_.add(std::move(layer), nodes), plan.output_shape, plan.output_shape};
    names_.insert(added->name());  // the model's default name when the node has none
    if (!parameters.empty()) weights_.emplace_back(added->name(), std::move(parameters));
    activations_[node.output(0)] = y;
    return y;
  }

  // `wanted` if free (neither a layer's nor the input's name yet), else wanted_1, wanted_2, ...;
  // "" when wanted is empty and there is no fallback (the model then names the layer).
  std::string unique(const std::string& wanted, const std::string& fallback) {
    const std::string base = wanted.empty() ? fallback : wanted;
    if (base.empty()) return "";
    std::string name =
        unique_name(base, [&](const std::string& n) { return names_.count(n) != 0; });
    names_.insert(name);
    return name;
  }

  std::string where(const ::onnx::NodeProto& node) const {
    std::string index;
    for (int k = 0; k < static_cast<int>(order_.size()); ++k)
      if (order_[static_cast<std::size_t>(k)] == &node) index = std::to_string(k);
    return "node '" + (node.name().empty() ? "#" + index : node.name()) + "' (" + node.op_type() +
           ")";
  }

  static std::string join(const std::vector<std::int64_t>& values) {
    std::string text;
    for (std::size_t k = 0; k < values.size(); ++k)
      text += (k ? ", " : "") + std::to_string(values[k]);
    return text;
  }

  std::string source_;
  std::int64_t opset_ = 0;
  Model<T> model_;
  Node input_;
  std::optional<std::int64_t> batch_;  // the input's fixed batch extent, if it has one
  std::vector<const ::onnx::NodeProto*> order_;
  std::map<std::string, Activation> activations_;
  std::map<std::string, const ::onnx::TensorProto*> constants_;
  std::map<std::string, std::vector<const ::onnx::NodeProto*>> consumers_;
  std::set<std::string> graph_outputs_;
  std::set<const ::onnx::NodeProto*> absorbed_;  // nodes folded into another's layer
  std::set<std::string> names_;                  // the names given so far
  std::vector<std::pair<std::string, std::vector<Tensor<T>>>> weights_;  // layer -> parameters
};

}  // namespace onnx_io

// The model an ONNX file's bytes describe. `source` names them in messages; `seed` seeds what the
// file does not fix (Dropout's masks in fit()).
template <typename T = float>
Model<T> load_onnx_bytes(const void* data, std::size_t size,
                         const std::string& source = "ONNX model", std::uint64_t seed = 0) {
  if (size > static_cast<std::size_t>(INT_MAX))
    fail(source, ": expected at most ", INT_MAX, " bytes (protobuf's limit), got ", size);
  ::onnx::ModelProto proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size)))
    fail(source, ": not a valid ONNX model (protobuf could not parse its ", size,
         " bytes: truncated or not an ONNX file)");
  return onnx_io::Importer<T>(source).run(proto, seed);
}

// The model of the ONNX file at `path` (see the top of this file).
template <typename T = float>
Model<T> load_onnx(const std::string& path, std::uint64_t seed = 0) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("ONNX file '", path, "': cannot open it for reading");
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) fail("ONNX file '", path, "': reading it failed");
  return load_onnx_bytes<T>(bytes.data(), bytes.size(), "ONNX file '" + path + "'", seed);
}

}  // namespace minicnn
