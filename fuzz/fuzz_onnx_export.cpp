// libFuzzer target: the ONNX exporter on every model the importer accepts, and minicnn-onnx's
// inspect (examples/onnx/inspect.hpp), on any bytes.
//
// inspect must describe the bytes or refuse them with a minicnn::Error. A model load_onnx_bytes
// accepts holds only exportable layers, so to_onnx must export it (an Error there, ONNX's checker
// refusing the exported graph among them, is a finding), and the exported file, imported again,
// must predict what the model predicts bit for bit (docs/onnx.md's round trip) when its
// activations are small enough to run quickly.
#include <cstdint>
#include <cstring>
#include <string>

#include "../examples/onnx/inspect.hpp"
#include "fuzz_support.hpp"
#include "minicnn/onnx/export.hpp"
#include "minicnn/onnx/import.hpp"

using minicnn::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    minicnn::describe_onnx(bytes, "fuzz.onnx");
  } catch (const minicnn::Error&) {
  }
  minicnn::Model<float> model;
  try {
    model = minicnn::load_onnx_bytes<float>(data, size, "fuzz.onnx");
  } catch (const minicnn::Error&) {
    return 0;  // refused, with a message
  }
  std::string exported;
  try {
    exported = minicnn::to_onnx(model).SerializeAsString();
  } catch (const minicnn::Error& e) {
    require(false, (std::string("an imported model does not export: ") + e.what()).c_str());
  }
  const minicnn::Model<float> again =
      minicnn::load_onnx_bytes<float>(exported.data(), exported.size(), "exported.onnx");
  constexpr minicnn::Index kLargest = 1 << 16;
  if (model.input_shape().size() > kLargest) return 0;
  for (minicnn::Index i = 0; i < model.size(); ++i)
    if (model.layer(i).output_shape().size() > kLargest) return 0;
  const minicnn::Tensor<float> x(model.input_shape().with_batch(1), 0.5f);
  const minicnn::Tensor<float> y = model.predict(x), z = again.predict(x);
  require(y.shape() == z.shape() &&
              std::memcmp(y.data(), z.data(), sizeof(float) * std::size_t(y.size())) == 0,
          "the exported model, imported again, predicts differently");
  return 0;
}
