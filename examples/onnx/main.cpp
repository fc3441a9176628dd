// minicnn-onnx: converts models between ONNX and minicnn's checkpoint files, and summarises either.
//
//   minicnn-onnx import model.onnx out.mcnn   ONNX (opsets 11-17) -> minicnn checkpoint (load_onnx)
//   minicnn-onnx export in.mcnn out.onnx      minicnn checkpoint -> ONNX opset 13 (save_onnx)
//   minicnn-onnx inspect file.onnx|file.mcnn  inputs, outputs, nodes by op type, parameter count
//   minicnn-onnx --help
//
// Exit status: 0 on success, 1 when a file is refused (the message names it and the reason), 2 on
// a wrong command line. Outputs are written atomically: a failure leaves no half-written file.
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <string>

#include "minicnn/minicnn.hpp"
#include "minicnn/onnx/export.hpp"
#include "minicnn/onnx/import.hpp"

using namespace minicnn;

namespace {

const char* const kUsage =
    "Usage: minicnn-onnx COMMAND ...\n"
    "\n"
    "  import MODEL.onnx OUT.mcnn   read an ONNX model (opsets 11 to 17) and save it as a minicnn\n"
    "                               checkpoint\n"
    "  export IN.mcnn OUT.onnx      write a minicnn checkpoint's model as ONNX (opset 13)\n"
    "  inspect FILE.onnx|FILE.mcnn  print the graph's inputs and outputs, its nodes (layers) by\n"
    "                               op type (kind) and its parameter count\n"
    "  --help                       print this text\n";

bool ends_with(const std::string& text, const std::string& end) {
  return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

std::string shape_text(const onnx::ValueInfoProto& value) {
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

// An ONNX file, read as it is (not imported): whatever runtime wrote it and whatever operators it
// holds. The parameter count is the initializers' elements; dims are checked so that a crafted
// file cannot overflow the count.
void inspect_onnx(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("ONNX file '", path, "': cannot open it for reading");
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  onnx::ModelProto model;
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromString(bytes))
    fail("ONNX file '", path, "': not a valid ONNX model (protobuf could not parse its ",
         bytes.size(), " bytes)");
  std::cout << "ONNX file '" << path << "': IR version " << model.ir_version() << ", producer '"
            << model.producer_name() << "' " << model.producer_version() << "\n";
  for (const auto& opset : model.opset_import())
    std::cout << "  opset " << (opset.domain().empty() ? "ai.onnx" : opset.domain()) << " "
              << opset.version() << "\n";
  const onnx::GraphProto& graph = model.graph();
  std::map<std::string, bool> initialized;
  std::int64_t parameters = 0;
  for (const onnx::TensorProto& t : graph.initializer()) {
    initialized[t.name()] = true;
    std::int64_t count = 1;
    for (std::int64_t d : t.dims()) {
      if (d < 0 || (d > 0 && count > std::numeric_limits<std::int64_t>::max() / d))
        fail("ONNX file '", path, "': initializer '", t.name(), "' has dims out of range");
      count *= d;
    }
    if (parameters > std::numeric_limits<std::int64_t>::max() - count)
      fail("ONNX file '", path, "': the initializers hold more elements than an int64 counts");
    parameters += count;
  }
  for (const onnx::ValueInfoProto& input : graph.input())
    if (!initialized.count(input.name()))
      std::cout << "input  " << input.name() << " " << shape_text(input) << "\n";
  for (const onnx::ValueInfoProto& output : graph.output())
    std::cout << "output " << output.name() << " " << shape_text(output) << "\n";
  std::map<std::string, int> ops;
  for (const onnx::NodeProto& node : graph.node())
    ++ops[node.op_type()];
  std::cout << graph.node_size() << " nodes:";
  for (const auto& [op, count] : ops) {
    std::cout << (op == ops.begin()->first ? " " : ", ") << op << " " << count;
  }
  std::cout << "\nparameters " << parameters << " (" << graph.initializer_size()
            << " initializers)\n";
}

// A minicnn checkpoint: its model, summarised as the ONNX file would be, and its summary().
void inspect_mcnn(const std::string& path) {
  const Model<float> model = Model<float>::load(path);
  std::cout << "minicnn checkpoint '" << path << "'\n";
  std::cout << "input  " << model.graph().vertex(model.graph().input()).name << " (N";
  for (Index d = 0; d < model.input_shape().rank(); ++d)
    std::cout << ", " << model.input_shape()[d];
  std::cout << ")\n";
  std::map<std::string, int> kinds;
  for (Index i = 0; i < model.size(); ++i)
    ++kinds[model.layer(i).kind()];
  std::cout << model.size() << " layers:";
  for (const auto& [kind, count] : kinds) {
    std::cout << (kind == kinds.begin()->first ? " " : ", ") << kind << " " << count;
  }
  std::cout << "\nparameters " << model.parameter_count(true) + model.parameter_count(false)
            << "\n\n"
            << model.summary();
}

int run(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  const auto usage_error = [](const std::string& message) {
    std::cerr << "minicnn-onnx: " << message << "\n\n" << kUsage;
    return 2;
  };
  if (command == "import" || command == "export") {
    if (argc != 4)
      return usage_error(command + " takes 2 arguments, got " + std::to_string(argc - 2));
    const std::string in = argv[2], out = argv[3];
    if (command == "import") {
      load_onnx(in).save(out);
    } else {
      save_onnx(Model<float>::load(in), out);
    }
    std::cout << "minicnn-onnx: wrote '" << out << "'\n";
    return 0;
  }
  if (command == "inspect") {
    if (argc != 3) return usage_error("inspect takes 1 argument, got " + std::to_string(argc - 2));
    const std::string file = argv[2];
    if (ends_with(file, ".onnx")) {
      inspect_onnx(file);
    } else if (ends_with(file, ".mcnn")) {
      inspect_mcnn(file);
    } else {
      return usage_error("inspect: expected a file ending in .onnx or .mcnn, got '" + file + "'");
    }
    return 0;
  }
  return usage_error(command.empty() ? "no command given" : "unknown command '" + command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Error& e) {
    std::cerr << "minicnn-onnx: " << e.what() << "\n";
    return 1;
  }
}
