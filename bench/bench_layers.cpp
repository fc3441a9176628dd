// The Google Benchmark suite (docs/performance.md):
//   - Eigen's square 1024 x 1024 float GEMM: the machine's reference FLOP rate;
//   - the convolutions' matrix product on one thread at the reference models' shapes: minicnn's
//     product (gemm.hpp) against Eigen's;
//   - forward and backward of every layer at the shapes it has in the reference models
//     (bench/reference_models.hpp), batch 64, with FLOP rates for the convolutions;
//   - one training step (Adam) and one inference batch of each reference model, in images/s;
//   - DepthwiseConv2D's direct kernel against an im2col lowering on a MobileNet-like shape, and
//     on MobileNetV2's own depthwise layers.
// Threads: OMP_NUM_THREADS (default: all cores). Every timing is wall-clock (UseRealTime), since
// the work runs on OpenMP threads.
//   OMP_NUM_THREADS=2 build/bench/bench_layers --benchmark_filter=Conv
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "minicnn/gemm.hpp"
#include "minicnn/layers/depthwise_conv2d.hpp"
#include "minicnn/layers/im2col.hpp"
#include "reference_models.hpp"

namespace {

using namespace minicnn;

// The batch of the layer and model benchmarks: 64, or $MINICNN_BENCH_BATCH. ctest's smoke run
// takes 4 (bench/CMakeLists.txt), so that every benchmark still runs under the sanitizers at a
// fraction of their cost (docs/reliability.md).
Index batch_from_environment() {
  const char* text = std::getenv("MINICNN_BENCH_BATCH");
  if (text == nullptr) return 64;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1)
    fail("bench_layers: MINICNN_BENCH_BATCH: expected a positive integer, got '", text, "'");
  return value;
}
const Index kBatch = batch_from_environment();

// Eigen's own product of two square matrices: 2*n^3 floating-point operations.
void square_gemm(benchmark::State& state) {
  const Index n = state.range(0);
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * static_cast<double>(n * n * n),
                                               benchmark::Counter::kIsIterationInvariantRate);
}

// The convolutions' product C (M x N) = A (M x K) B (K x N) on one thread, row-major operands as
// Conv2D holds them (A = W, B = the lowered columns of a group of samples): minicnn's product
// (gemm.hpp) against Eigen's general product.
// Arguments M, K, N; 2*M*K*N floating-point operations.
// Random operands A (M x K), B (K x N) and room for C (M x N), for the state's arguments M, K, N.
struct ProductOperands {
  explicit ProductOperands(const benchmark::State& state)
      : m(state.range(0)), k(state.range(1)), n(state.range(2)), a({m, k}), b({k, n}), c({m, n}) {
    Random random(1);
    a.fill_uniform(random, -1.0f, 1.0f);
    b.fill_uniform(random, -1.0f, 1.0f);
  }
  void count_flops(benchmark::State& state) const {
    state.counters["FLOPS"] = benchmark::Counter(2.0 * static_cast<double>(m * k * n),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  }
  Index m, k, n;
  Tensor<float> a, b, c;
};

void minicnn_product(benchmark::State& state) {
  ProductOperands o(state);
  for (auto _ : state) {
    gemm::multiply<float>({o.a.data(), o.k, 1}, {o.b.data(), o.n, 1}, o.m, o.n, o.k, o.c.data(),
                          o.n);
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  o.count_flops(state);
}

void eigen_product(benchmark::State& state) {
  ProductOperands o(state);
  Eigen::setNbThreads(1);  // one thread's product, as inside Conv2D's parallel loop
  for (auto _ : state) {
    o.c.matrix(o.m, o.n).noalias() = o.a.matrix(o.m, o.k) * o.b.matrix(o.k, o.n);
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  Eigen::setNbThreads(0);  // back to the default: all OpenMP threads
  o.count_flops(state);
}

// One layer of a reference model, the input shape of one sample it sees there, and its
// floating-point operations per sample forward (0: not counted; backward is counted as twice
// the forward for convolutions and dense layers: dW and dx are each one product of that size).
struct LayerCase {
  std::string name;
  std::function<std::unique_ptr<Layer<float>>()> make;
  Shape sample;
  double forward_flops = 0;
};

// 2 * F * C*KH*KW * OH*OW per sample.
double conv_flops(Index filters, Index channels, Index kernel, Index out_h, Index out_w) {
  return 2.0 * static_cast<double>(filters * channels * kernel * kernel * out_h * out_w);
}

LayerCase conv(const std::string& where, Index filters, Index kernel, Shape sample,
               Padding padding = Padding::valid) {
  const Index out_h = padding == Padding::same ? sample[1] : sample[1] - kernel + 1;
  const Index out_w = padding == Padding::same ? sample[2] : sample[2] - kernel + 1;
  return {"Conv2D " + std::to_string(filters) + "," + std::to_string(kernel) + " on " +
              sample.str() + " (" + where + ")",
          [=] { return std::make_unique<Conv2D<float>>(filters, kernel, 1, padding); }, sample,
          conv_flops(filters, sample[0], kernel, out_h, out_w)};
}

template <typename L, typename... Args>
LayerCase layer(const std::string& label, Shape sample, double flops, Args... args) {
  return {label + " on " + sample.str(), [=] { return std::make_unique<L>(args...); }, sample,
          flops};
}

std::vector<LayerCase> layer_cases() {
  return {
      conv("mnist_model1", 32, 3, {1, 28, 28}),
      conv("mnist_model4", 32, 5, {1, 28, 28}),
      conv("mnist_model4, largest", 64, 5, {32, 24, 24}),
      conv("mnist_model4", 128, 5, {64, 10, 10}),
      conv("lenet5", 6, 5, {3, 32, 32}),
      conv("lenet5", 16, 5, {6, 14, 14}),
      conv("cifar10_basic", 32, 3, {3, 32, 32}),
      conv("cifar10_basic, largest", 32, 3, {32, 30, 30}),
      conv("cifar10_basic", 64, 3, {32, 14, 14}),
      conv("cifar10_basic", 64, 3, {64, 12, 12}),
      conv("cifar10_improved, largest", 32, 3, {32, 32, 32}, Padding::same),
      conv("cifar100_coarse_first", 8, 3, {3, 32, 32}),
      conv("cifar100_coarse_first", 16, 3, {8, 30, 30}),
      conv("cifar100_coarse_first", 32, 3, {16, 14, 14}),
      layer<Dense<float>>("Dense 10", {21632}, 2.0 * 21632 * 10, 10),
      layer<Dense<float>>("Dense 256", {4096}, 2.0 * 4096 * 256, 256),
      layer<Dense<float>>("Dense 500", {1152}, 2.0 * 1152 * 500, 500),
      layer<MaxPool2D<float>>("MaxPool2D 2", {64, 20, 20}, 0, 2),
      layer<MaxPool2D<float>>("MaxPool2D 2", {32, 32, 32}, 0, 2),
      layer<AvgPool2D<float>>("AvgPool2D 2", {6, 28, 28}, 0, 2),
      layer<BatchNorm<float>>("BatchNorm", {64, 20, 20}, 0),
      layer<ReLU<float>>("ReLU", {64, 20, 20}, 0),
      layer<Tanh<float>>("Tanh", {6, 28, 28}, 0),
      layer<Dropout<float>>("Dropout .25", {32, 16, 16}, 0, 0.25),
      layer<Softmax<float>>("Softmax", {10}, 0),
  };
}

// A built layer with a random input and upstream gradient of batch kBatch.
struct LayerFixture {
  std::unique_ptr<Layer<float>> layer;
  Tensor<float> x, y, dy, dx;

  explicit LayerFixture(const LayerCase& c) : layer(c.make()) {
    Random random(1);
    layer->build(c.sample, random);
    x.resize(c.sample.with_batch(kBatch));
    x.fill_uniform(random, -1.0f, 1.0f);
    layer->forward(x, y, Mode::training);
    dy.resize(y.shape());
    dy.fill_uniform(random, -1.0f, 1.0f);
  }
};

void set_flops(benchmark::State& state, double flops_per_sample) {
  if (flops_per_sample > 0)
    state.counters["FLOPS"] = benchmark::Counter(flops_per_sample * kBatch,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void layer_forward(benchmark::State& state, const LayerCase& c, Mode mode) {
  LayerFixture f(c);
  for (auto _ : state) {
    f.layer->forward(f.x, f.y, mode);
    benchmark::ClobberMemory();
  }
  set_flops(state, c.forward_flops);
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void layer_backward(benchmark::State& state, const LayerCase& c) {
  LayerFixture f(c);
  for (auto _ : state) {
    f.layer->forward(f.x, f.y, Mode::training);  // backward needs its forward's state
    f.layer->backward(f.x, f.y, f.dy, f.dx, Mode::training);
    benchmark::ClobberMemory();
  }
  set_flops(state, 3 * c.forward_flops);
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void model_train_step(benchmark::State& state, const bench::ReferenceModel& reference) {
  auto model = bench::build_reference_model<float>(reference, 42);
  const bench::SyntheticBatches<float> data(zoo_model<float>(reference.name).input,
                                            reference.classes, kBatch, 1, 7);
  Adam<float> adam;
  model.train_on_batch(data.inputs[0], data.labels[0], adam);  // buffers and slots sized
  for (auto _ : state)
    benchmark::DoNotOptimize(model.train_on_batch(data.inputs[0], data.labels[0], adam));
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void model_inference(benchmark::State& state, const bench::ReferenceModel& reference) {
  auto model = bench::build_reference_model<float>(reference, 42);
  const bench::SyntheticBatches<float> data(zoo_model<float>(reference.name).input,
                                            reference.classes, kBatch, 1, 7);
  for (auto _ : state) {
    auto out = model.predict(data.inputs[0], kBatch);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// DepthwiseConv2D's forward pass on a MobileNet-like batch (8, 32, 56, 56), 3x3 kernel, 'same',
// stride state.range(0): its direct kernel (state.range(1) = 0) against the lowering a Conv2D
// would do (1): im2col of each channel's plane (9 shifted copies), then a product of one row,
// (1 x 9) (9 x OH*OW), per channel; the planes spread over OpenMP threads in both.
void depthwise_forward(benchmark::State& state) {
  const Index stride = state.range(0);
  const bool lowered = state.range(1) == 1;
  const Shape sample{32, 56, 56};
  const Index batch = 8;
  DepthwiseConv2D<float> layer(3, stride, Padding::same);
  Random random(1);
  layer.build(sample, random);
  Tensor<float> x(sample.with_batch(batch)), y(layer.output_shape().with_batch(batch));
  x.fill_uniform(random, -1.0f, 1.0f);
  const float* kernel = layer.parameters()[0]->value.data();
  const float* bias = layer.parameters()[1]->value.data();
  const WindowGeometry plane =
      WindowGeometry::of("im2col", "kernel", {1, sample[1], sample[2]}, 3, stride, Padding::same);
  const Index positions = plane.positions(), planes = batch * sample[0];
  for (auto _ : state) {
    if (!lowered) {
      layer.forward(x, y, Mode::inference);
    } else {
#pragma omp parallel
      {
        std::vector<float> columns(static_cast<std::size_t>(9 * positions));
#pragma omp for schedule(static)
        for (Index p = 0; p < planes; ++p) {
          const Index c = p % sample[0];
          im2col(plane, x.data() + p * plane.plane(), columns.data());
          gemm::multiply<float>({kernel + c * 9, 9, 1}, {columns.data(), positions, 1}, 1,
                                positions, 9, y.data() + p * positions, positions, false, bias + c);
        }
      }
    }
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * 9 * static_cast<double>(planes * positions),
                                               benchmark::Counter::kIsIterationInvariantRate);
}

// DepthwiseConv2D on one image through a depthwise layer of MobileNetV2 (models/mobilenet_v2.hpp:
// 3x3, padding 1 on every side, no bias): (C, H, W) = (state.range(0), state.range(1),
// state.range(1)), stride state.range(2); the inference pass (state.range(3) = 0) or the backward
// pass, dx and dW (1).
void mobilenet_depthwise(benchmark::State& state) {
  const Shape sample{state.range(0), state.range(1), state.range(1)};
  const bool backward = state.range(3) == 1;
  DepthwiseConv2D<float> layer(3, state.range(2), Pads(1), 1, false);
  Random random(1);
  const Shape out = layer.build(sample, random);
  Tensor<float> x(sample.with_batch(1)), y, dy(out.with_batch(1)), dx;
  x.fill_uniform(random, -1.0f, 1.0f);
  dy.fill_uniform(random, -1.0f, 1.0f);
  layer.forward(x, y, Mode::training);
  for (auto _ : state) {
    if (backward)
      layer.backward(x, y, dy, dx, Mode::training);
    else
      layer.forward(x, y, Mode::inference);
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * 9 * static_cast<double>(out.size()) * (backward ? 2 : 1);
  state.counters["FLOPS"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("omp_threads", std::to_string(omp_get_max_threads()));
  benchmark::AddCustomContext("eigen_simd", Eigen::SimdInstructionSetsInUse());
  benchmark::RegisterBenchmark("Eigen GEMM square", square_gemm)
      ->Arg(1024)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  // (F, C*KH*KW, S*OH*OW) of mnist_model4's two largest convolutions, cifar10_improved's largest
  // and a 64-filter one of it, LeNet-5's first (6 filters: thinner than one register block), and
  // ResNet-50's at batch 1: the stem, the first 3x3 and a 1x1 of each stage (3,136 to 49 columns).
  for (const auto product : {minicnn_product, eigen_product})
    benchmark::RegisterBenchmark(product == minicnn_product ? "product/minicnn" : "product/Eigen",
                                 product)
        ->Args({64, 800, 400})
        ->Args({128, 1600, 288})
        ->Args({32, 288, 1024})
        ->Args({64, 288, 512})
        ->Args({6, 75, 784})
        ->Args({64, 147, 12544})
        ->Args({64, 576, 3136})
        ->Args({256, 64, 3136})
        ->Args({128, 1152, 784})
        ->Args({1024, 256, 196})
        ->Args({512, 4608, 49})
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  static const std::vector<LayerCase> cases = layer_cases();
  for (const LayerCase& c : cases) {
    benchmark::RegisterBenchmark(("forward/" + c.name).c_str(), layer_forward, c, Mode::training)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("inference/" + c.name).c_str(), layer_forward, c, Mode::inference)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("forward+backward/" + c.name).c_str(), layer_backward, c)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  for (const auto& reference : bench::reference_models()) {
    benchmark::RegisterBenchmark(("train step/" + reference.name).c_str(), model_train_step,
                                 reference)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("inference batch/" + reference.name).c_str(), model_inference,
                                 reference)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("DepthwiseConv2D 3x3 on (8, 32, 56, 56)", depthwise_forward)
      ->ArgNames({"stride", "im2col"})
      ->Args({1, 0})
      ->Args({1, 1})
      ->Args({2, 0})
      ->Args({2, 1})
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  for (const Index backward : {0, 1})
    benchmark::RegisterBenchmark("DepthwiseConv2D MobileNetV2", mobilenet_depthwise)
        ->ArgNames({"C", "HW", "stride", "backward"})
        ->Args({32, 112, 1, backward})
        ->Args({96, 112, 2, backward})
        ->Args({144, 56, 1, backward})
        ->Args({144, 56, 2, backward})
        ->Args({192, 28, 1, backward})
        ->Args({384, 14, 1, backward})
        ->Args({960, 7, 1, backward})
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
