// ONNX export: save_onnx(model, path) writes a built minicnn model, Sequential or graph, as an
// ONNX file (opset 13) that ONNX Runtime, OpenCV's dnn module and the other runtimes execute with
// minicnn's inference-mode results; to_onnx(model) gives the onnx::ModelProto itself.
//
// The file, as ONNX's IR describes it:
//   - one graph input, named as the model's input, float (N, C, H, W) (or the sample's own rank)
//     with the batch dimension symbolic ("N"); one graph output, named as the output layer;
//   - every layer becomes one node (two for SeparableConv2D and GlobalAveragePooling2D, a chain for
//     an Add of 3 or more inputs) named as the layer; its output tensor has the layer's name, so
//     that a tensor of the file is the output of the minicnn layer of that name;
//   - every parameter is an initializer named by its path, "conv1/kernel", in minicnn's layout,
//     which is ONNX's (NCHW data, OIHW kernels, (C*M, 1, KH, KW) grouped kernels), but for Dense's
//     kernel (in, units), stored transposed, (units, in), as Gemm's B with transB = 1: PyTorch's
//     Linear layout, which every runtime reads (OpenCV 4.6 misreads transB = 0 with a bias).
// The mapping of each layer kind is written above its case in export_layer() below; a kind that
// has none is refused with an Error naming the layer. Keras's 'same' padding becomes explicit
// pads, computed from the layer's input shape by window.hpp's rule (the odd extra row or column at
// the bottom/right): the file never uses auto_pad, whose SAME_UPPER is that rule but which some
// importers ignore.
//
// Inference form: Dropout and RandomAugmentation are identities (Identity nodes, kept so that
// every layer has its tensor), BatchNormalization normalises with the moving statistics (ONNX's
// BatchNormalization in inference mode; its momentum attribute has Keras's convention, which is
// minicnn's, and is recorded though inference does not read it).
#pragma once

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "minicnn/atomic_file.hpp"
#include "minicnn/error.hpp"
#include "minicnn/layers/depthwise_conv2d.hpp"
#include "minicnn/layers/window.hpp"
#include "minicnn/model/model.hpp"

namespace minicnn {

namespace onnx_export {

// The opset the file declares (the default domain's) and the IR version that introduced it
// (ONNX 1.8): the oldest IR that can hold it, so that older runtimes read the file too.
inline constexpr std::int64_t kOpset = 13;
inline constexpr std::int64_t kIrVersion = 7;

// A float tensor as an initializer: dims, and the values as little-endian bytes in raw_data
// (written byte by byte, so that the file is the same on any host).
inline void set_float_tensor(onnx::TensorProto& tensor, const std::string& name, const Shape& shape,
                             const float* values) {
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  for (Index d = 0; d < shape.rank(); ++d)
    tensor.add_dims(shape[d]);
  std::string bytes(static_cast<std::size_t>(shape.size()) * 4, '\0');
  for (std::size_t i = 0; i < bytes.size() / 4; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, values + i, 4);
    for (int b = 0; b < 4; ++b)
      bytes[4 * i + static_cast<std::size_t>(b)] = static_cast<char>(bits >> (8 * b));
  }
  tensor.set_raw_data(std::move(bytes));
}

// Appends the nodes and initializers of one graph; names are the caller's.
class GraphWriter {
 public:
  explicit GraphWriter(onnx::GraphProto& graph) : graph_(graph) {}

  onnx::NodeProto& node(const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs, const std::string& output) {
    onnx::NodeProto& node = *graph_.add_node();
    node.set_op_type(op);
    node.set_name(name);
    for (const std::string& input : inputs)
      node.add_input(input);
    node.add_output(output);
    return node;
  }

  void parameter(const Parameter<float>& p) {
    set_float_tensor(*graph_.add_initializer(), p.path, p.value.shape(), p.value.data());
  }
  // A matrix (rows, cols) as its transpose (cols, rows).
  void transposed_parameter(const Parameter<float>& p) {
    const Index rows = p.value.dim(0), cols = p.value.dim(1);
    std::vector<float> values(static_cast<std::size_t>(rows * cols));
    for (Index r = 0; r < rows; ++r)
      for (Index c = 0; c < cols; ++c)
        values[static_cast<std::size_t>(c * rows + r)] = p.value.data()[r * cols + c];
    set_float_tensor(*graph_.add_initializer(), p.path, Shape{cols, rows}, values.data());
  }
  // A constant 1-D int64 tensor (Pad's pads) or a float scalar (Clip's bounds).
  void int64_constant(const std::string& name, const std::vector<std::int64_t>& values) {
    onnx::TensorProto& tensor = *graph_.add_initializer();
    tensor.set_name(name);
    tensor.set_data_type(onnx::TensorProto::INT64);
    tensor.add_dims(static_cast<std::int64_t>(values.size()));
    for (std::int64_t v : values)
      tensor.add_int64_data(v);
  }
  void float_scalar(const std::string& name, float value) {
    set_float_tensor(*graph_.add_initializer(), name, Shape{}, &value);
  }

 private:
  onnx::GraphProto& graph_;
};

inline void set_ints(onnx::NodeProto& node, const std::string& name,
                     const std::vector<std::int64_t>& values) {
  onnx::AttributeProto& a = *node.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (std::int64_t v : values)
    a.add_ints(v);
}
inline void set_int(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
  onnx::AttributeProto& a = *node.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(value);
}
inline void set_float(onnx::NodeProto& node, const std::string& name, float value) {
  onnx::AttributeProto& a = *node.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(value);
}

// A 2-D window's attributes: kernel_shape, strides, dilations (when not all 1) and pads in ONNX's
// order (top, left, bottom, right). `pads` is explicit, or Keras's rule resolved on the input
// (C, H, W) by window.hpp: 'valid' pads nothing, 'same' pads total = max((out - 1) * stride +
// span - in, 0) with the odd one at the end.
inline void set_window(onnx::NodeProto& node, const Shape& input, Size2 kernel, Size2 strides,
                       Size2 dilation, const DepthwisePadding& padding) {
  Pads pads(0);
  if (padding.widths()) {
    pads = *padding.widths();
  } else {
    const WindowAxis rows = window_axis(input[1], dilated_extent(kernel.height, dilation.height),
                                        strides.height, padding.rule());
    const WindowAxis cols = window_axis(input[2], dilated_extent(kernel.width, dilation.width),
                                        strides.width, padding.rule());
    pads = Pads(rows.pad_before, rows.pad_after, cols.pad_before, cols.pad_after);
  }
  set_ints(node, "kernel_shape", {kernel.height, kernel.width});
  set_ints(node, "strides", {strides.height, strides.width});
  if (!(dilation == Size2(1))) set_ints(node, "dilations", {dilation.height, dilation.width});
  set_ints(node, "pads", {pads.top, pads.left, pads.bottom, pads.right});
}

// The layer's parameter called `name` ("kernel", "bias", ...).
inline const Parameter<float>& parameter(const Layer<float>& layer, const std::string& name) {
  for (const Parameter<float>* p : layer.parameters())
    if (p->name == name) return *p;
  fail("save_onnx: ", layer.label(), " has no parameter '", name, "'");
}

// Conv2D's and the pools' padding as DepthwisePadding describes it: explicit widths (config
// padding 'explicit' and pads), or Keras's rule.
inline DepthwisePadding window_padding(const Config& config) {
  if (config.get("padding") == "explicit") return Pads::parse(config.get("pads"));
  return padding_from_string(config.get("padding"));
}

// Writes the nodes of one layer reading the tensors `inputs` of one-sample shapes `shapes`;
// its output tensor is the layer's name.
inline void export_layer(GraphWriter& out, const Layer<float>& layer,
                         const std::vector<std::string>& inputs, const std::vector<Shape>& shapes) {
  const std::string kind = layer.kind();
  const std::string& name = layer.name();
  const Config config = layer.config();
  const auto with_bias = [&](std::vector<std::string> names, const char* bias) {
    if (config.get_bool("use_bias")) names.push_back(parameter(layer, bias).path);
    return names;
  };
  for (const Parameter<float>* p : layer.parameters()) {
    if (kind == "Dense" && p->name == "kernel")
      out.transposed_parameter(*p);
    else
      out.parameter(*p);
  }

  // Conv2D: Conv(x, kernel (F, C, KH, KW)[, bias]), group 1.
  if (kind == "Conv2D") {
    onnx::NodeProto& node = out.node(
        "Conv", name, with_bias({inputs[0], parameter(layer, "kernel").path}, "bias"), name);
    set_window(node, shapes[0], Size2::parse(config.get("kernel_size")),
               Size2::parse(config.get("strides")), Size2::parse(config.get("dilation_rate")),
               window_padding(config));
    return;
  }
  // DepthwiseConv2D: Conv with group = C on depthwise_kernel (C*M, 1, KH, KW): output channel
  // c*M + m reads input channel c, which is ONNX's grouped convolution with C groups.
  // SeparableConv2D: the same without bias, node and tensor "<name>/depthwise", then the layer's
  // node: a 1x1 Conv with the pointwise kernel (F, C*M, 1, 1) and the bias.
  if (kind == "DepthwiseConv2D" || kind == "SeparableConv2D") {
    const bool separable = kind == "SeparableConv2D";
    const std::string depthwise = separable ? name + "/depthwise" : name;
    std::vector<std::string> depthwise_inputs = {inputs[0],
                                                 parameter(layer, "depthwise_kernel").path};
    if (!separable) depthwise_inputs = with_bias(depthwise_inputs, "bias");
    onnx::NodeProto& node = out.node("Conv", depthwise, depthwise_inputs, depthwise);
    set_window(node, shapes[0], Size2::parse(config.get("kernel_size")),
               Size2::parse(config.get("strides")), Size2::parse(config.get("dilation_rate")),
               DepthwisePadding::parse(config.get("padding")));
    set_int(node, "group", shapes[0][0]);
    if (separable) {
      onnx::NodeProto& pointwise =
          out.node("Conv", name,
                   with_bias({depthwise, parameter(layer, "pointwise_kernel").path}, "bias"), name);
      set_ints(pointwise, "kernel_shape", {1, 1});
    }
    return;
  }
  // Dense: Gemm(x (N, in), B = kernel^T (units, in)[, bias]) = x B^T + bias, transB = 1.
  if (kind == "Dense") {
    set_int(out.node("Gemm", name, with_bias({inputs[0], parameter(layer, "kernel").path}, "bias"),
                     name),
            "transB", 1);
    return;
  }
  // BatchNormalization: (x, gamma, beta, moving_mean, moving_variance), inference mode.
  if (kind == "BatchNormalization") {
    onnx::NodeProto& node =
        out.node("BatchNormalization", name,
                 {inputs[0], parameter(layer, "gamma").path, parameter(layer, "beta").path,
                  parameter(layer, "moving_mean").path, parameter(layer, "moving_variance").path},
                 name);
    set_float(node, "epsilon", static_cast<float>(config.get_double("epsilon")));
    set_float(node, "momentum", static_cast<float>(config.get_double("momentum")));
    return;
  }
  // MaxPooling2D: MaxPool, whose padding never wins a maximum (minicnn's -infinity).
  // AveragePooling2D: AveragePool with count_include_pad = 0: a window's mean is over its elements
  // inside the input, Keras's 'same' rule and minicnn's with explicit pads.
  if (kind == "MaxPooling2D" || kind == "AveragePooling2D") {
    const bool max = kind == "MaxPooling2D";
    onnx::NodeProto& node = out.node(max ? "MaxPool" : "AveragePool", name, {inputs[0]}, name);
    set_window(node, shapes[0], Size2::parse(config.get("pool_size")),
               Size2::parse(config.get("strides")), Size2(1), window_padding(config));
    if (!max) set_int(node, "count_include_pad", 0);
    return;
  }
  // ZeroPadding2D: Pad in 'constant' mode (0) with pads (x1_begin ... x4_begin, x1_end ...) as an
  // int64 input: nothing on N and C, the widths on H and W.
  if (kind == "ZeroPadding2D") {
    const Pads p = Pads::parse(config.get("padding"));
    out.int64_constant(name + "/pads", {0, 0, p.top, p.left, 0, 0, p.bottom, p.right});
    out.node("Pad", name, {inputs[0], name + "/pads"}, name);
    return;
  }
  // ReLU: Relu; with max_value m, Clip(x, 0, m) (opset 13's bounds are scalar inputs).
  if (kind == "ReLU") {
    if (!config.has("max_value")) {
      out.node("Relu", name, {inputs[0]}, name);
      return;
    }
    out.float_scalar(name + "/min", 0.0f);
    out.float_scalar(name + "/max", static_cast<float>(config.get_double("max_value")));
    out.node("Clip", name, {inputs[0], name + "/min", name + "/max"}, name);
    return;
  }
  if (kind == "LeakyReLU") {
    set_float(out.node("LeakyRelu", name, {inputs[0]}, name), "alpha",
              static_cast<float>(config.get_double("alpha")));
    return;
  }
  if (kind == "Tanh" || kind == "Sigmoid") {
    out.node(kind, name, {inputs[0]}, name);
    return;
  }
  // Softmax: over the class scores, the last axis of (N, K).
  if (kind == "Softmax") {
    set_int(out.node("Softmax", name, {inputs[0]}, name), "axis", -1);
    return;
  }
  // Flatten: ONNX's Flatten at axis 1 is (N, d1 * d2 * ...), row-major as minicnn's.
  if (kind == "Flatten") {
    set_int(out.node("Flatten", name, {inputs[0]}, name), "axis", 1);
    return;
  }
  // GlobalAveragePooling2D: GlobalAveragePool (N, C, 1, 1) into "<name>/pooled", then Flatten.
  if (kind == "GlobalAveragePooling2D") {
    out.node("GlobalAveragePool", name + "/pooled", {inputs[0]}, name + "/pooled");
    set_int(out.node("Flatten", name, {name + "/pooled"}, name), "axis", 1);
    return;
  }
  if (kind == "Dropout" || kind == "RandomAugmentation") {
    out.node("Identity", name, {inputs[0]}, name);
    return;
  }
  // Add: ((x0 + x1) + x2) + ..., the order minicnn sums in, as a chain of binary Adds named
  // "<name>/1", "<name>/2", ..., the last one being the layer's.
  if (kind == "Add") {
    std::string sum = inputs[0];
    for (std::size_t k = 1; k < inputs.size(); ++k) {
      const std::string partial = k + 1 == inputs.size() ? name : name + "/" + std::to_string(k);
      out.node("Add", partial, {sum, inputs[k]}, partial);
      sum = partial;
    }
    return;
  }
  // Concatenate: Concat on the same axis (batch axis 0, negative from the end, as ONNX counts).
  if (kind == "Concatenate") {
    set_int(out.node("Concat", name, inputs, name), "axis", config.get_int("axis"));
    return;
  }
  fail("save_onnx: ", layer.label(), " has no ONNX mapping; exportable kinds: Add, ",
       "AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense, DepthwiseConv2D, ",
       "Dropout, Flatten, GlobalAveragePooling2D, LeakyReLU, MaxPooling2D, RandomAugmentation, ",
       "ReLU, SeparableConv2D, Sigmoid, Softmax, Tanh, ZeroPadding2D");
}

// A graph input or output: float, batch dimension "N", then the sample's extents.
inline void set_value_info(onnx::ValueInfoProto& value, const std::string& name,
                           const Shape& sample) {
  value.set_name(name);
  auto& tensor = *value.mutable_type()->mutable_tensor_type();
  tensor.set_elem_type(onnx::TensorProto::FLOAT);
  tensor.mutable_shape()->add_dim()->set_dim_param("N");
  for (Index d = 0; d < sample.rank(); ++d)
    tensor.mutable_shape()->add_dim()->set_dim_value(sample[d]);
}

}  // namespace onnx_export

// The model as an ONNX ModelProto (see the top of this file), checked by ONNX's own checker: a
// file it would refuse is never produced. The model must be built.
inline onnx::ModelProto to_onnx(const Model<float>& model) {
  if (!model.built()) fail("save_onnx: the model is not built; build() it first");
  onnx::ModelProto proto;
  proto.set_ir_version(onnx_export::kIrVersion);
  proto.set_producer_name("minicnn");
  proto.set_producer_version("0.1.0");
  proto.add_opset_import()->set_version(onnx_export::kOpset);
  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name("minicnn");
  onnx_export::GraphWriter writer(graph);

  const Graph<float>& g = model.graph();
  for (Index v = 0; v < g.size(); ++v) {
    const auto& vertex = g.vertex(v);
    if (g.is_input(v)) {
      onnx_export::set_value_info(*graph.add_input(), vertex.name, vertex.shape);
      continue;
    }
    std::vector<std::string> inputs;
    std::vector<Shape> shapes;
    for (Index input : vertex.inputs) {
      inputs.push_back(g.vertex(input).name);
      shapes.push_back(g.vertex(input).shape);
    }
    onnx_export::export_layer(writer, *vertex.layer, inputs, shapes);
  }
  const auto& output = g.vertex(g.output());
  onnx_export::set_value_info(*graph.add_output(), output.name, output.shape);

  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    fail("save_onnx: ONNX's checker refuses the exported graph (a bug of the exporter): ",
         e.what());
  }
  return proto;
}

// Writes to_onnx(model) to `path` atomically (atomic_file.hpp): on any failure, the model refused,
// the checker's refusal or an I/O error, the file at `path` is left as it was.
inline void save_onnx(const Model<float>& model, const std::string& path) {
  const onnx::ModelProto proto = to_onnx(model);
  std::string bytes;
  // protobuf refuses to serialise a message of 2 GiB or more.
  if (proto.ByteSizeLong() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    fail("save_onnx: '", path, "': the model needs ", proto.ByteSizeLong(),
         " bytes, more than the 2 GiB a protobuf file can hold");
  if (!proto.SerializeToString(&bytes)) fail("save_onnx: '", path, "': cannot serialise the model");
  write_file_atomically(path, bytes, "save_onnx");
}

}  // namespace minicnn
