// minicnn's half of the side-by-side comparison with PyTorch (bench/compare_pytorch.py runs it
// alternately with its PyTorch twin): one model, training steps and inference batches on data held
// in memory, timed on the wall clock, reported as one JSON line:
//
//   {"framework": "minicnn", "model": "mnist_model4", "threads": 2, "batch": 64,
//    "train_images_per_second": 1234.5, "inference_images_per_second": 4567.8,
//    "startup_rss_mib": 4.2, "peak_rss_mib": 42.1}
//
// The models are the five reference models (bench/reference_models.hpp, batch 64) and the graph
// models (bench/graph_models.hpp, each with its own batch; ResNet-18, ResNet-50 and MobileNetV2
// report only inference and "train_images_per_second": null). With --onnx FILE (when built with
// the minicnn::onnx component) the model is instead the file read by load_onnx, inference only,
// reported as "framework": "minicnn-onnx": bench/compare_engines.py runs the file ONNX Runtime
// runs, so that the two figures time the same computation. A training step is Model::train_on_batch
// with Adam (forward, loss, backward, update); an inference batch is Model::predict. Warm-up steps
// (buffers sized, Adam's slots created) are not timed; then steps run until --seconds have passed
// and at least --min-steps were made.
#include <omp.h>

#include <cstdio>
#include <iostream>

#include "common/command_line.hpp"
#include "graph_models.hpp"
#include "minicnn/atomic_file.hpp"
#include "reference_models.hpp"
#include "throughput_timing.hpp"
#if MINICNN_THROUGHPUT_ONNX
#include "minicnn/onnx/import.hpp"
#endif

namespace {

// The tensor's elements as raw float32 bytes (the host's byte order: little-endian on the x86-64
// and AArch64 machines the comparison runs on, the order tools/ort/run_onnx.js reads).
std::string float32_bytes(const minicnn::Tensor<float>& t) {
  return std::string(reinterpret_cast<const char*>(t.data()),
                     static_cast<std::size_t>(t.size()) * sizeof(float));
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace minicnn;
  const double startup_rss = bench::peak_rss_mib();
  examples::CommandLine cli("minicnn_throughput",
                            "Training and inference images/s of one reference model "
                            "(bench/reference_models.hpp), printed as one JSON line.");
  cli.option("model", "mnist_model4",
             "a reference model (mnist_model1, mnist_model4, lenet5, cifar10_basic, "
             "cifar100_coarse_first) or a graph model (resnet20, resnet18, resnet50, "
             "mobilenet_v2); with --onnx, only the name printed")
      .option("onnx", "", "an ONNX file to run through load_onnx instead (inference only)")
      .option("check", "",
              "PREFIX: instead of timing, write the first input batch to PREFIX.input.f32 and "
              "the model's predictions for it to PREFIX.output.f32 (raw float32)")
      .option("threads", "1", "OpenMP threads")
      .option("fusion", "on",
              "inference fusion of BatchNorm and ReLU into the layer before them (docs/graph.md): "
              "on, or off for the unfused walk")
      .option("batch", "0",
              "images per batch; 0: the model's workload (64, resnet20 128, resnet50 8, "
              "resnet18 and mobilenet_v2 16, --onnx 1)")
      .option("seconds", "5", "minimum timed seconds per phase (training, inference)")
      .option("min-steps", "5", "minimum timed batches per phase")
      .option("warmup", "3", "untimed batches before each phase");
  if (!cli.parse(argc, argv)) return 0;

  const std::string name = cli.get("model");
  const int threads = static_cast<int>(cli.get_int("threads"));
  Index batch = cli.get_int("batch");
  if (threads < 1 || batch < 0)
    fail("minicnn_throughput: expected --threads >= 1 and --batch >= 0");
  omp_set_num_threads(threads);

  // A reference model (a Sequential of the zoo), a graph model, or an ONNX file, with its workload.
  std::unique_ptr<Model<float>> model;
  Shape input;
  Index classes = 0;
  bool trains = true;
  std::string framework = "minicnn";
  const std::string onnx = cli.get("onnx");
  if (!onnx.empty()) {
#if MINICNN_THROUGHPUT_ONNX
    model = std::make_unique<Model<float>>(load_onnx<float>(onnx));
    input = model->input_shape();
    classes = 1;  // no training: the labels are never read
    trains = false;
    batch = batch == 0 ? 1 : batch;
    framework = "minicnn-onnx";
#else
    fail("minicnn_throughput: --onnx '", onnx,
         "': built without the minicnn::onnx component (Debian: libonnx-dev libprotobuf-dev)");
#endif
  }
  for (const auto& r : bench::reference_models())
    if (onnx.empty() && r.name == name) {
      model = std::make_unique<Sequential<float>>(bench::build_reference_model<float>(r, 42));
      input = zoo_model<float>(name).input;
      classes = r.classes;
      batch = batch == 0 ? 64 : batch;
    }
  for (const auto& g : bench::graph_models())
    if (onnx.empty() && g.name == name) {
      model = bench::build_graph_model(g, 42);
      input = g.input;
      classes = g.classes;
      trains = g.trains;
      batch = batch == 0 ? g.batch : batch;
    }
  if (model == nullptr) fail("minicnn_throughput: unknown model '", name, "'");
  const std::string fusion = cli.get("fusion");
  if (fusion != "on" && fusion != "off")
    fail("minicnn_throughput: expected --fusion on or off, got '", fusion, "'");
  model->set_inference_fusion(fusion == "on");
  constexpr Index kBatches = 4;  // cycled through, so that caches do not hold one batch only
  const bench::SyntheticBatches<float> data(input, classes, batch, kBatches, 7);
  if (const std::string prefix = cli.get("check"); !prefix.empty()) {
    write_file_atomically(prefix + ".input.f32", float32_bytes(data.inputs[0]),
                          "minicnn_throughput --check");
    write_file_atomically(prefix + ".output.f32",
                          float32_bytes(model->predict(data.inputs[0], batch)),
                          "minicnn_throughput --check");
    return 0;
  }
  Adam<float> adam;
  const long long warmup = cli.get_int("warmup"), min_steps = cli.get_int("min-steps");
  const double seconds = cli.get_double("seconds");

  const double train = trains ? bench::batches_per_second(
                                    [&](long long i) {
                                      model->train_on_batch(data.inputs[i % kBatches],
                                                            data.labels[i % kBatches], adam);
                                    },
                                    warmup, min_steps, seconds)
                              : 0.0;
  const double inference = bench::batches_per_second(
      [&](long long i) { model->predict(data.inputs[i % kBatches], batch); }, warmup, min_steps,
      seconds);

  // A workload without training reports null there.
  char train_text[32] = "null";
  if (trains)
    std::snprintf(train_text, sizeof train_text, "%.2f", train * static_cast<double>(batch));
  std::printf(
      "{\"framework\": \"%s\", \"model\": \"%s\", \"threads\": %d, \"batch\": %lld, "
      "\"train_images_per_second\": %s, \"inference_images_per_second\": %.2f, "
      "\"startup_rss_mib\": %.1f, \"peak_rss_mib\": %.1f}\n",
      framework.c_str(), name.c_str(), threads, static_cast<long long>(batch), train_text,
      inference * static_cast<double>(batch), startup_rss, bench::peak_rss_mib());
  return 0;
} catch (const std::exception& e) {
  std::cerr << e.what() << '\n';
  return 1;
}
