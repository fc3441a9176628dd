// libFuzzer target: the ONNX importer, load_onnx_bytes<T> (onnx/import.hpp), on any bytes.
//
// The bytes are parsed by protobuf into ONNX's ModelProto, judged by ONNX's checker and mapped
// onto minicnn layers; every count, size and raw-data length they claim must be checked against
// what they hold, so the only acceptable outcomes are a clean import or a minicnn::Error (never a
// crash, an overflow, a huge allocation, a cycle or a hang). Imported as float and as double. A
// model it accepts must run: one sample of zeros predicted gives the model's output shape, when
// every layer's output is small enough to run quickly (a file may legitimately ask for large
// activations with tiny weights, e.g. large pads).
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "minicnn/onnx/import.hpp"

namespace {

using minicnn::fuzz::require;

template <typename T>
void import(const std::uint8_t* data, std::size_t size) {
  minicnn::Model<T> model;
  try {
    model = minicnn::load_onnx_bytes<T>(data, size, "fuzz.onnx");
  } catch (const minicnn::Error&) {
    return;  // refused, with a message
  }
  require(model.built(), "an imported model is not built");
  constexpr minicnn::Index kLargest = 1 << 16;
  if (model.input_shape().size() > kLargest) return;
  for (minicnn::Index i = 0; i < model.size(); ++i)
    if (model.layer(i).output_shape().size() > kLargest) return;
  const minicnn::Tensor<T> y =
      model.predict(minicnn::Tensor<T>(model.input_shape().with_batch(1), T(0)));
  require(y.shape() == model.output_shape().with_batch(1),
          "an imported model's prediction does not have its output shape");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  import <float>(data, size);
  import <double>(data, size);
  return 0;
}
