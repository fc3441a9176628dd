// The models the export tests run through other runtimes, and what they share: the five reference
// models of bench/reference_models.hpp by their zoo names, a ResNet-18 and a MobileNetV2 at 64x64
// (random weights; 224x224 costs 12 times as much under AddressSanitizer for no more coverage), and
// a graph that holds every exportable layer kind once or more, with the paddings and options that
// change the ONNX node (asymmetric 'same' pads, dilation, depth multiplier, ReLU6, three-way Add).
// BatchNorm's statistics and scales are drawn at random, so that its export is tested on numbers
// that are not the identity's.
#pragma once

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bench/reference_models.hpp"
#include "minicnn/minicnn.hpp"

namespace export_test {

using namespace minicnn;

// gamma, beta uniform in [-1, 1) and [0.5, 1.5); moving mean in [-0.5, 0.5), variance in
// [0.5, 1.5): every BatchNormalization normalises for real.
inline void randomize_batch_norms(Model<float>& model, std::uint64_t seed) {
  Random random(seed);
  for (Parameter<float>* p : model.parameters()) {
    if (p->path.find("/moving_mean") != std::string::npos ||
        p->path.find("/beta") != std::string::npos)
      p->value.fill_uniform(random, -0.5f, 0.5f);
    if (p->path.find("/moving_variance") != std::string::npos ||
        p->path.find("/gamma") != std::string::npos)
      p->value.fill_uniform(random, 0.5f, 1.5f);
  }
}

// Every exportable kind on a (3, 13, 12) input: odd and even extents make 'same' pad one more at
// the bottom/right with stride 2.
// relu6 = false puts a plain ReLU in the place of ReLU(6): OpenCV 4.6 cannot read opset 13's Clip,
// and the rest is worth checking there.
inline Model<float> every_layer_model(bool relu6 = true, std::uint64_t seed = 7) {
  Model<float> m;
  Node x = m.input({3, 13, 12}, "image");
  Node a = m.add<RandomAugmentation>(x, AugmentationSettings{true, 0.1, 0.1});
  a = m.add<Conv2D>(a, 8, 3, 2, Padding::same);  // (8, 7, 6), pads 1,1 rows, 0,1 columns
  a = m.add<BatchNorm>(a, 0.9, 1e-5);
  a = relu6 ? m.add<ReLU>(a, 6.0) : m.add<ReLU>(a);
  Node b = m.add<DepthwiseConv2D>(a, 3, 1, Padding::same, 2, true, Size2(2, 1));  // (16, 7, 6)
  b = m.add<LeakyReLU>(b, 0.2);
  Node c = m.add<SeparableConv2D>(a, 16, 3, 1, Pads(1, 1, 1, 1), 1, true);  // (16, 7, 6)
  c = m.add<Tanh>(c);
  Node d = m.add<Conv2D>(a, 16, 3, 1, Pads(2, 1, 0, 2), true, Initializer::he_normal, Size2(2, 1));
  d = m.add<ZeroPadding2D>(d, Pads(1, 0, 0, 0));  // (16, 7, 6)
  d = m.add<Sigmoid>(d);
  Node s = m.add<Add>({b, c, d});
  s = m.add<BatchNorm>(s);
  s = m.add<ReLU>(s);
  Node p = m.add<MaxPool2D>(s, 3, 2, Padding::same);  // (16, 4, 3)
  Node q = m.add<AvgPool2D>(s, 2, 2, Padding::same);  // (16, 4, 3)
  Node j = m.add<Concatenate>({p, q}, 1);             // (32, 4, 3)
  Node g = m.add<GlobalAveragePooling2D>(j);
  Node f = m.add<Flatten>(j);
  Node h = m.add<Concatenate>({g, f}, -1);
  h = m.add<Dropout>(h, 0.5);
  h = m.add<Dense>(h, 10);
  h = m.add<Softmax>(h);
  m.build(h, seed);
  randomize_batch_norms(m, seed + 1);
  return m;
}

// A model to check and its name in the test output.
struct ExportCase {
  std::string name;
  std::function<Model<float>()> build;
};

inline std::vector<ExportCase> export_cases() {
  std::vector<ExportCase> cases;
  for (const bench::ReferenceModel& reference : bench::reference_models())
    cases.push_back({reference.name, [reference] {
                       Model<float> m = bench::build_reference_model<float>(reference, 3);
                       randomize_batch_norms(m, 4);
                       return m;
                     }});
  cases.push_back({"resnet18 (3, 64, 64)", [] {
                     Model<float> m = resnet18<float>(1000, true, {3, 64, 64}, 5);
                     randomize_batch_norms(m, 6);
                     return m;
                   }});
  cases.push_back({"mobilenet_v2 (3, 64, 64)", [] {
                     Model<float> m = mobilenet_v2<float>(1000, true, {3, 64, 64}, 8);
                     randomize_batch_norms(m, 9);
                     return m;
                   }});
  cases.push_back({"every_layer", [] { return every_layer_model(); }});
  cases.push_back({"every_layer without ReLU6", [] { return every_layer_model(false); }});
  return cases;
}

// A batch of `batch` inputs uniform in [-1, 1).
inline Tensor<float> test_input(const Model<float>& model, Index batch, std::uint64_t seed = 11) {
  Tensor<float> x(model.input_shape().with_batch(batch));
  Random random(seed);
  x.fill_uniform(random, -1.0f, 1.0f);
  return x;
}

// Raw little-endian float32 files: what the Node script of tools/ort reads and writes.
inline void write_floats(const std::string& path, const Tensor<float>& t) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(t.data()), static_cast<std::streamsize>(t.size() * 4));
  if (!out) fail("write_floats: cannot write '", path, "'");
}
inline std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail("read_floats: cannot read '", path, "'");
  std::vector<float> values(static_cast<std::size_t>(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
  return values;
}

// How far another runtime's output `a` is from minicnn's `b`, relative to the output's scale:
// max |a - b| / max |b| over the elements (the tests require <= 1e-5). Not element by element: a
// softmax turns an absolute difference d of the logits into a relative difference d of every
// probability, so a class of probability 1e-9 differs by the same 1e-6 relative as the winning one
// when the logits (up to 140 in a random-weight ResNet-18) differ by 1e-6; float computations in
// another summation order differ so (docs/onnx-export.md has the figures).
inline double relative_difference(const std::vector<float>& a, const Tensor<float>& b) {
  double largest = 0.0, worst = 0.0;
  for (Index i = 0; i < b.size(); ++i) {
    largest = std::max(largest, std::abs(double(b[i])));
    worst = std::max(worst, std::abs(double(a[std::size_t(i)]) - double(b[i])));
  }
  return largest > 0.0 ? worst / largest : worst;
}

// The same element by element, each element relative to itself with a floor of 1e-3 max |b|
// under which values count as zero: reported, not required (see above).
inline double elementwise_difference(const std::vector<float>& a, const Tensor<float>& b) {
  double largest = 0.0;
  for (Index i = 0; i < b.size(); ++i)
    largest = std::max(largest, std::abs(double(b[i])));
  const double floor = 1e-3 * largest;
  double worst = 0.0;
  for (Index i = 0; i < b.size(); ++i) {
    const double scale = std::max(std::abs(double(b[i])), floor);
    worst = std::max(worst, std::abs(double(a[std::size_t(i)]) - double(b[i])) / scale);
  }
  return worst;
}

}  // namespace export_test
