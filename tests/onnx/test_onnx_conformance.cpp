// ONNX's own backend node tests (Debian's libonnx-testdata, ONNX 1.12): every case of every
// operator the importer supports, run through load_onnx and compared with ONNX's expected output.
//
// Each case is a one-node model.onnx with test_data_set_0/input_<k>.pb and output_<k>.pb. Input 0
// is the data the minicnn model takes; the node's other inputs (weights, shapes, Clip's bounds)
// become initializers holding their test values, as an exported model has them. A case runs when
// its input 0 is a float batch of CHW images (rank 4) or an (N, F) matrix (rank 2) and the
// importer accepts the model; otherwise it is skipped with the reason (the importer's refusal,
// which names the attribute or input). Training graphs (training_mode = 1) are skipped: their
// output uses batch statistics, where minicnn's predict() uses the moving ones.
//
// The test prints the table of cases (docs/onnx.md has it). Every case that runs must match within
// 1e-4 relative (the rule of tests/support/golden.hpp), and every case listed in
// tests/golden/onnx/conformance_must_run.txt, the cases that ran when the importer was written,
// must run: an importer that starts refusing one of them fails.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "minicnn/onnx/import.hpp"
#include "support/golden.hpp"

using namespace minicnn;
namespace fs = std::filesystem;

namespace {

const fs::path kNodeTests = "/usr/share/libonnx-testdata/data/node";

const std::set<std::string> kOperators{"Conv",        "BatchNormalization",
                                       "Relu",        "Clip",
                                       "LeakyRelu",   "Sigmoid",
                                       "Tanh",        "MaxPool",
                                       "AveragePool", "GlobalAveragePool",
                                       "Pad",         "Add",
                                       "Concat",      "Flatten",
                                       "Reshape",     "Gemm",
                                       "MatMul",      "Softmax",
                                       "Dropout",     "Identity"};

std::string read_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// The cases that ran and matched when the importer was written, one name a line.
std::set<std::string> must_run() {
  std::ifstream file(std::string(MINICNN_GOLDEN_DIR) + "/onnx/conformance_must_run.txt");
  std::set<std::string> names;
  for (std::string line; std::getline(file, line);)
    if (!line.empty()) names.insert(line);
  return names;
}

onnx::TensorProto read_tensor(const fs::path& path) {
  onnx::TensorProto tensor;
  const std::string bytes = read_bytes(path);
  if (!tensor.ParseFromString(bytes)) fail("cannot parse ", path.string());
  return tensor;
}

struct Outcome {
  bool ran = false;
  std::string note;  // the skip reason, or the comparison's report
};

Outcome run_case(const fs::path& dir, const onnx::ModelProto& original) {
  onnx::ModelProto model = original;
  onnx::GraphProto& graph = *model.mutable_graph();
  const onnx::NodeProto& node = graph.node(0);
  for (const auto& a : node.attribute())
    if (a.name() == "training_mode" && a.i() != 0)
      return {false, "training_mode = 1: a training graph (batch statistics)"};
  const fs::path data = dir / "test_data_set_0";
  const onnx::TensorProto x = read_tensor(data / "input_0.pb");
  if (x.data_type() != onnx::TensorProto::FLOAT)
    return {false, "input 0 is " + onnx_io::data_type_name(x.data_type()) + ", not FLOAT"};
  if (x.dims_size() != 4 && x.dims_size() != 2)
    return {false, "input 0 has rank " + std::to_string(x.dims_size()) +
                       ": not a batch of CHW images (rank 4) or an (N, F) matrix"};
  // Inputs 1.. become initializers with their test values.
  std::vector<onnx::ValueInfoProto> inputs(graph.input().begin(), graph.input().end());
  graph.clear_input();
  *graph.add_input() = inputs[0];
  for (std::size_t k = 1; k < inputs.size(); ++k) {
    onnx::TensorProto& init = *graph.add_initializer();
    init = read_tensor(data / ("input_" + std::to_string(k) + ".pb"));
    init.set_name(inputs[k].name());
    if (init.data_type() == onnx::TensorProto::BOOL && node.op_type() == "Dropout") {
      const bool training = !init.raw_data().empty() ? init.raw_data()[0] != 0
                                                     : init.int32_data_size() && init.int32_data(0);
      if (training) return {false, "training_mode = true: dropout applied at inference"};
    }
  }
  const std::string bytes = model.SerializeAsString();
  try {
    const Model<double> imported =
        load_onnx_bytes<double>(bytes.data(), bytes.size(), "model.onnx");
    const Tensor<double> input = onnx_io::to_tensor<double>(x, "input_0.pb");
    const Tensor<double> y = imported.predict(input);
    Tensor<double> expected =
        onnx_io::to_tensor<double>(read_tensor(data / "output_0.pb"), "output_0.pb");
    // GlobalAveragePool's (N, C, 1, 1) is minicnn's (N, C): the same values in the same order.
    if (expected.size() == y.size() && expected.shape() != y.shape()) {
      Tensor<double> reshaped(y.shape());
      std::copy(expected.begin(), expected.end(), reshaped.begin());
      expected = reshaped;
    }
    const testing::GoldenComparison result = testing::compare_golden("y", y, expected, 1e-4);
    return {result.passed, result.passed ? "matches" : "MISMATCH: " + result.report};
  } catch (const Error& e) {
    return {false, e.what()};
  }
}

}  // namespace

TEST_CASE("ONNX's node tests of every supported operator run and match, or say why not") {
  REQUIRE_MESSAGE(fs::is_directory(kNodeTests), "Debian's libonnx-testdata is not installed");
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(kNodeTests))
    dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  std::map<std::string, Outcome> outcomes;
  Index ran = 0, mismatched = 0;
  std::cout << "| Case | Operator | Runs | Why not |\n|---|---|---|---|\n";
  for (const fs::path& dir : dirs) {
    onnx::ModelProto model;
    if (!model.ParseFromString(read_bytes(dir / "model.onnx")) || model.graph().node_size() != 1)
      continue;
    const std::string op = model.graph().node(0).op_type();
    if (kOperators.count(op) == 0) continue;
    const std::string name = dir.filename().string();
    const Outcome outcome = run_case(dir, model);
    outcomes[name] = outcome;
    ran += outcome.ran ? 1 : 0;
    const bool mismatch = outcome.note.rfind("MISMATCH", 0) == 0;
    mismatched += mismatch ? 1 : 0;
    std::string why = outcome.ran ? "" : outcome.note;
    // The path prefix says nothing the table's row does not.
    if (why.rfind("model.onnx: ", 0) == 0) why = why.substr(12);
    std::replace(why.begin(), why.end(), '|', '/');
    std::cout << "| " << name << " | " << op << " | " << (outcome.ran ? "yes" : "no") << " | "
              << why << " |\n";
    if (mismatch) FAIL_CHECK(name << ": " << outcome.note);
  }
  std::cout << "\n" << ran << " of " << outcomes.size() << " cases run and match\n";
  CHECK(mismatched == 0);
  const std::set<std::string> required = must_run();
  CHECK(!required.empty());
  for (const std::string& name : required) {
    CAPTURE(name);
    const auto found = outcomes.find(name);
    REQUIRE(found != outcomes.end());
    CHECK_MESSAGE(found->second.ran, found->second.note);
  }
}
