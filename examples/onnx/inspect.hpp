// describe_onnx: minicnn-onnx's `inspect` of an ONNX file, read as it is (parsed, not imported),
// so that it summarises files of any runtime and any operators: the IR version and producer, the
// opsets, the graph's inputs (initializers left out) and outputs with their shapes, the nodes
// counted by op type, and the parameter count (the initializers' elements). A separate header so
// that the fuzz target fuzz/fuzz_onnx_export.cpp runs it on any bytes: every dims list is checked
// before it is multiplied, so a crafted file gets an Error, never an overflow.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "minicnn/error.hpp"

namespace minicnn {

// "(N, 3, 224, 224)": symbolic extents by name, unknown ones as '?'.
inline std::string onnx_shape_text(const onnx::ValueInfoProto& value) {
  std::string text = "(";
  const auto& dims = value.type().tensor_type().shape().dim();
  for (int d = 0; d < dims.size(); ++d) {
    if (d > 0) text += ", ";
    text += dims[d].has_dim_param()   ? dims[d].dim_param()
            : dims[d].has_dim_value() ? std::to_string(dims[d].dim_value())
                                      : "?";
  }
  return text + ")";
}

// `source` names the bytes in messages and in the first line ("ONNX file 'x.onnx'").
inline std::string describe_onnx(const std::string& bytes, const std::string& source) {
  onnx::ModelProto model;
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromString(bytes))
    fail(source, ": not a valid ONNX model (protobuf could not parse its ", bytes.size(),
         " bytes)");
  std::ostringstream out;
  out << source << ": IR version " << model.ir_version() << ", producer '" << model.producer_name()
      << "' " << model.producer_version() << "\n";
  for (const auto& opset : model.opset_import())
    out << "  opset " << (opset.domain().empty() ? "ai.onnx" : opset.domain()) << " "
        << opset.version() << "\n";
  const onnx::GraphProto& graph = model.graph();
  std::set<std::string> initialized;
  std::int64_t parameters = 0;
  for (const onnx::TensorProto& t : graph.initializer()) {
    initialized.insert(t.name());
    std::int64_t count = 1;
    for (std::int64_t d : t.dims()) {
      if (d < 0 || (d > 0 && count > std::numeric_limits<std::int64_t>::max() / d))
        fail(source, ": initializer '", t.name(), "' has dims out of range (", d, ")");
      count *= d;
    }
    if (parameters > std::numeric_limits<std::int64_t>::max() - count)
      fail(source, ": the initializers hold more elements than an int64 counts");
    parameters += count;
  }
  for (const onnx::ValueInfoProto& input : graph.input())
    if (!initialized.count(input.name()))
      out << "input  " << input.name() << " " << onnx_shape_text(input) << "\n";
  for (const onnx::ValueInfoProto& output : graph.output())
    out << "output " << output.name() << " " << onnx_shape_text(output) << "\n";
  std::map<std::string, int> ops;
  for (const onnx::NodeProto& node : graph.node())
    ++ops[node.op_type()];
  out << graph.node_size() << " nodes:";
  for (const auto& [op, count] : ops)
    out << (op == ops.begin()->first ? " " : ", ") << op << " " << count;
  out << "\nparameters " << parameters << " (" << graph.initializer_size() << " initializers)\n";
  return out.str();
}

}  // namespace minicnn
