// Small ONNX models built in C++ for the importer's tests: one input, nodes, initializers, one
// output, as ONNX's protobuf classes hold them (what a file parses into).
//
//   GraphBuilder g(13);
//   g.input("x", {-1, 3, 8, 8});                       // -1: a symbolic batch extent "N"
//   g.initializer("w", {4, 3, 3, 3}, values);
//   g.node("Conv", {"x", "w"}, {"y"}, "conv").ints("pads", {1, 1, 1, 1});
//   g.output("y");
//   Model<float> model = load_onnx_bytes(g.bytes().data(), g.bytes().size());
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace minicnn::testing {

// A node under construction: attribute setters chain.
class NodeBuilder {
 public:
  explicit NodeBuilder(onnx::NodeProto& node) : node_(node) {}
  NodeBuilder& i(const std::string& name, std::int64_t value) {
    onnx::AttributeProto& a = add(name, onnx::AttributeProto::INT);
    a.set_i(value);
    return *this;
  }
  NodeBuilder& f(const std::string& name, float value) {
    add(name, onnx::AttributeProto::FLOAT).set_f(value);
    return *this;
  }
  NodeBuilder& s(const std::string& name, const std::string& value) {
    add(name, onnx::AttributeProto::STRING).set_s(value);
    return *this;
  }
  NodeBuilder& ints(const std::string& name, const std::vector<std::int64_t>& values) {
    onnx::AttributeProto& a = add(name, onnx::AttributeProto::INTS);
    for (const std::int64_t v : values)
      a.add_ints(v);
    return *this;
  }
  onnx::NodeProto& proto() { return node_; }

 private:
  onnx::AttributeProto& add(const std::string& name, onnx::AttributeProto::AttributeType type) {
    onnx::AttributeProto& a = *node_.add_attribute();
    a.set_name(name);
    a.set_type(type);
    return a;
  }
  onnx::NodeProto& node_;
};

class GraphBuilder {
 public:
  explicit GraphBuilder(std::int64_t opset = 13) {
    model_.set_ir_version(onnx::IR_VERSION);
    model_.add_opset_import()->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  // A FLOAT graph input; an extent of -1 is the symbolic batch "N".
  void input(const std::string& name, const std::vector<std::int64_t>& dims) {
    onnx::ValueInfoProto& value = *graph().add_input();
    value.set_name(name);
    auto& tensor = *value.mutable_type()->mutable_tensor_type();
    tensor.set_elem_type(onnx::TensorProto::FLOAT);
    auto& shape = *tensor.mutable_shape();
    for (const std::int64_t d : dims) {
      if (d < 0)
        shape.add_dim()->set_dim_param("N");
      else
        shape.add_dim()->set_dim_value(d);
    }
  }
  void output(const std::string& name) {
    onnx::ValueInfoProto& value = *graph().add_output();
    value.set_name(name);
    auto& tensor = *value.mutable_type()->mutable_tensor_type();
    tensor.set_elem_type(onnx::TensorProto::FLOAT);
    tensor.mutable_shape();  // of unknown extents, which the checker wants present
  }
  // A FLOAT initializer in raw_data (little-endian, as every exporter writes it).
  onnx::TensorProto& initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                                 const std::vector<float>& values) {
    onnx::TensorProto& t = *graph().add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    for (const std::int64_t d : dims)
      t.add_dims(d);
    std::string raw;
    for (const float v : values) {
      std::uint32_t bits;
      std::memcpy(&bits, &v, 4);
      for (int b = 0; b < 4; ++b)
        raw += static_cast<char>((bits >> (8 * b)) & 0xff);
    }
    t.set_raw_data(raw);
    return t;
  }
  onnx::TensorProto& int_initializer(const std::string& name,
                                     const std::vector<std::int64_t>& values) {
    onnx::TensorProto& t = *graph().add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(static_cast<std::int64_t>(values.size()));
    for (const std::int64_t v : values)
      t.add_int64_data(v);
    return t;
  }
  NodeBuilder node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<std::string>& outputs, const std::string& name = "") {
    onnx::NodeProto& node = *graph().add_node();
    node.set_op_type(op);
    node.set_name(name);
    for (const auto& in : inputs)
      node.add_input(in);
    for (const auto& out : outputs)
      node.add_output(out);
    return NodeBuilder(node);
  }

  onnx::GraphProto& graph() { return *model_.mutable_graph(); }
  onnx::ModelProto& model() { return model_; }
  std::string bytes() const { return model_.SerializeAsString(); }

 private:
  onnx::ModelProto model_;
};

// n values 0.1, 0.2, ... shifted by `offset`, alternating in sign: weights that are not symmetric.
inline std::vector<float> ramp(std::size_t n, float offset = 0.0f) {
  std::vector<float> v(n);
  for (std::size_t k = 0; k < n; ++k)
    v[k] = offset + (k % 2 ? -1.0f : 1.0f) * 0.1f * static_cast<float>(k % 7 + 1);
  return v;
}

}  // namespace minicnn::testing
