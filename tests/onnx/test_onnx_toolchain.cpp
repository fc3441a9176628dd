// The component's foundation: ONNX's protobuf classes and its checker, as Debian's libonnx-dev
// ships them, link and judge a model the way the importer and exporter rely on.
#include <doctest/doctest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <string>

namespace {

// y = Relu(x) on a (N, 4) float input, opset 13.
onnx::ModelProto relu_model() {
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name("relu");
  onnx::NodeProto& node = *graph.add_node();
  node.set_op_type("Relu");
  node.set_name("relu");
  node.add_input("x");
  node.add_output("y");
  for (auto* value : {graph.add_input(), graph.add_output()}) {
    value->set_name(value == &graph.input(0) ? "x" : "y");
    auto& tensor = *value->mutable_type()->mutable_tensor_type();
    tensor.set_elem_type(onnx::TensorProto::FLOAT);
    tensor.mutable_shape()->add_dim()->set_dim_param("N");
    tensor.mutable_shape()->add_dim()->set_dim_value(4);
  }
  return model;
}

}  // namespace

TEST_CASE("ONNX's checker accepts a valid model and names what is wrong in a broken one") {
  onnx::ModelProto model = relu_model();
  CHECK_NOTHROW(onnx::checker::check_model(model));
  // Serialised and parsed back, the model is the same.
  const std::string bytes = model.SerializeAsString();
  onnx::ModelProto parsed;
  REQUIRE(parsed.ParseFromString(bytes));
  CHECK(parsed.graph().node(0).op_type() == "Relu");
  // A node reading a tensor nobody produces.
  model.mutable_graph()->mutable_node(0)->set_input(0, "nowhere");
  CHECK_THROWS_AS(onnx::checker::check_model(model), onnx::checker::ValidationError);
}
