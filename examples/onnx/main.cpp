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
#include <map>
#include <string>

#include "minicnn/minicnn.hpp"
#include "minicnn/onnx/export.hpp"
#include "minicnn/onnx/import.hpp"
#include "onnx/inspect.hpp"

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

// An ONNX file, read as it is (examples/onnx/inspect.hpp).
void inspect_onnx(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail("ONNX file '", path, "': cannot open it for reading");
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::cout << describe_onnx(bytes, "ONNX file '" + path + "'");
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
