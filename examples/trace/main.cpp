// trace: one MNIST test image through a CNN, layer by layer, forward and backward.
//
//   trace                                          mnist_cnn with fresh weights (seed 42), image 0
//   trace --model runs/mnist/model.mcnn --index 7  a trained model (scripts/train_mnist.sh)
//
// The program walks the model itself with the layer contract of layer.hpp instead of calling
// Sequential::fit or Sequential::predict, so that every step of the engine is written out here:
//
//   forward   y_i = layer_i.forward(y_(i-1))              y_(-1) = x, the image
//   loss      L = cross-entropy of the logits (the Softmax's input) and the label, dL/dlogits
//   backward  dy_(i-1) = layer_i.backward(y_(i-1), y_i, dy_i), each adding dL/dp to its
//             parameters' grad
//
// For each layer it prints the output's shape, range, mean and first values, then the loss and
// the predicted class, then each layer's dL/dinput norm and its parameters' gradient norms. The
// feature maps of every Conv2D are written as PNG grids into --out, with the input image. Last,
// the walk is checked against the model's own code: Sequential::predict must give the same
// probabilities and Sequential::input_gradient the same gradients, else the program fails.
// docs/walkthrough.md is a run of this program, explained.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "minicnn/minicnn.hpp"
#include "minicnn/visual/image_grid.hpp"
#include "minicnn/visual/png.hpp"

using namespace minicnn;

namespace {

// Values are printed with 4 significant digits: enough to compare runs, short enough to read.
std::string number(double value) {
  std::ostringstream text;
  text << std::setprecision(4) << value;
  return text.str();
}

// The Euclidean norm of all the values of t, summed in double.
double norm(const Tensor<float>& t) {
  double squares = 0.0;
  for (const float v : t)
    squares += static_cast<double>(v) * static_cast<double>(v);
  return std::sqrt(squares);
}

// "min -0.4123  max 0.5234  mean 0.01315" over all the values of t.
std::string range_and_mean(const Tensor<float>& t) {
  const auto [low, high] = std::minmax_element(t.begin(), t.end());
  double sum = 0.0;
  for (const float v : t)
    sum += static_cast<double>(v);
  return "min " + number(*low) + "  max " + number(*high) + "  mean " +
         number(sum / static_cast<double>(t.size()));
}

// The first `count` values of t in memory order (row-major: for (1, C, H, W), the top row of
// channel 0).
std::string first_values(const Tensor<float>& t, Index count = 6) {
  std::string text;
  for (Index i = 0; i < std::min(count, t.size()); ++i)
    text += (i > 0 ? " " : "") + number(t[i]);
  return text;
}

// "conv2d (Conv2D)", padded to the width of summary()'s first column.
std::string layer_column(const Layer<float>& layer) {
  std::string text = layer.name() + " (" + layer.kind() + ")";
  text.resize(std::max<std::size_t>(text.size() + 1, 32), ' ');
  return text;
}

std::string index_column(Index i) {
  std::ostringstream text;
  text << std::setw(3) << i << "  ";
  return text.str();
}

// The largest |v| over the values of t.
double largest_magnitude(const Tensor<float>& t) {
  double largest = 0.0;
  for (const float v : t)
    largest = std::max(largest, std::abs(static_cast<double>(v)));
  return largest;
}

// The largest |a - b| over two tensors of one shape.
double largest_difference(const Tensor<float>& a, const Tensor<float>& b) {
  if (a.shape() != b.shape())
    fail("expected tensors of one shape to compare, got ", a.shape(), " and ", b.shape());
  double largest = 0.0;
  for (Index i = 0; i < a.size(); ++i)
    largest = std::max(largest, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  return largest;
}

// The model to trace: a checkpoint (--model) or a zoo architecture with fresh weights, either
// way a classifier of the data set's images that ends with Softmax.
Sequential<float> make_model(const examples::CommandLine& cli, const Dataset& test) {
  Sequential<float> model;
  if (!cli.get("model").empty()) {
    model = Sequential<float>::load(cli.get("model"));
    if (model.input_shape() != test.sample_shape())
      fail("the model in '", cli.get("model"), "' takes inputs of shape ", model.input_shape(),
           ", the MNIST images are ", test.sample_shape());
  } else {
    model = zoo_model<float>(cli.get("architecture")).build(test.classes);
    model.build(test.sample_shape(), static_cast<std::uint64_t>(cli.get_int("seed")));
  }
  if (model.layer(model.size() - 1).kind() != "Softmax")
    fail("expected a classifier whose last layer is Softmax, got ",
         model.layer(model.size() - 1).label());
  return model;
}

// What the walk computed, kept for the checks and the pictures.
struct Trace {
  Tensor<float> x;                     // (1, 1, 28, 28): the image, scaled to [0, 1]
  Tensor<float> label;                 // (1): its class, as the sparse losses take it
  std::vector<Tensor<float>> outputs;  // outputs[i] = y_i, the output of layer i
  Tensor<float> logits_gradient;       // dL/dlogits, the gradient entering the backward pass
  Tensor<float> input_gradient;        // dL/dx
};

// y_i = layer_i.forward(y_(i-1)) for every layer, printing each output.
//
// Mode::inference: the function predict() computes, and a deterministic one. In training mode
// Dropout would draw a random mask from its stream (another run, another trace) and BatchNorm
// would normalise with the statistics of this one image and move its running averages.
void forward(Sequential<float>& model, Trace& trace) {
  std::cout << "\nForward, Mode::inference: y_i = layer_i.forward(y_(i-1)), y_(-1) = x\n"
            << "  i  layer (kind)                    output shape and values\n";
  trace.outputs.resize(static_cast<std::size_t>(model.size()));
  const Tensor<float>* input = &trace.x;
  for (Index i = 0; i < model.size(); ++i) {
    Layer<float>& layer = model.layer(i);
    Tensor<float>& y = trace.outputs[static_cast<std::size_t>(i)];
    layer.forward(*input, y, Mode::inference);
    std::cout << index_column(i) << layer_column(layer) << y.shape() << "  " << range_and_mean(y)
              << "\n     first values: " << first_values(y) << '\n';
    input = &y;
  }
}

// The loss of the prediction and its gradient with respect to the logits.
//
// As Sequential does in training (sequential.hpp, "Softmax fusion"), the cross-entropy is computed
// from the logits z, the Softmax's input: L = logsumexp(z) - z_label and dL/dz = softmax(z) -
// onehot(label). The Softmax's own backward is then skipped. The path through the probabilities
// (loss of p, dL/dp = -1/p_label at the label, then Softmax::backward) is the same function, and
// is computed too, to show that both give one gradient.
void loss(Sequential<float>& model, Trace& trace) {
  const Index softmax = model.size() - 1;
  const Tensor<float>& logits = trace.outputs[static_cast<std::size_t>(softmax - 1)];
  const Tensor<float>& probabilities = trace.outputs[static_cast<std::size_t>(softmax)];
  const SparseCategoricalCrossentropy<float> on_logits(/*from_logits=*/true);
  const float value = on_logits.compute(logits, trace.label, &trace.logits_gradient);

  const SparseCategoricalCrossentropy<float> on_probabilities;
  Tensor<float> probability_gradient, unfused_gradient;
  const float value_from_probabilities =
      on_probabilities.compute(probabilities, trace.label, &probability_gradient);
  model.layer(softmax).backward(logits, probabilities, probability_gradient, unfused_gradient,
                                Mode::inference);

  const auto scores = probabilities.matrix();
  Index predicted = 0;
  for (Index k = 1; k < scores.cols(); ++k)
    if (scores(0, k) > scores(0, predicted)) predicted = k;
  const auto label = static_cast<Index>(trace.label[0]);
  std::cout << "\nPredicted class " << predicted << " (p = " << number(scores(0, predicted))
            << "), label " << label << " (p = " << number(scores(0, label)) << ")\n"
            << "Loss: SparseCategoricalCrossentropy from the logits = " << number(value)
            << " (from the probabilities: " << number(value_from_probabilities) << ")\n"
            << "dL/dlogits = softmax(logits) - onehot(label): "
            << first_values(trace.logits_gradient, trace.logits_gradient.size()) << '\n'
            << "  through Softmax::backward of dL/dp instead: largest difference "
            << number(largest_difference(trace.logits_gradient, unfused_gradient)) << '\n';
}

// dy_(i-1) = layer_i.backward(y_(i-1), y_i, dy_i) from the last layer before the Softmax down to
// the first, printing each layer's |dL/dinput| and its parameters' |dL/dp|. backward() adds into
// the parameters' grad, so they are zeroed first. Training asks the first layer for its
// parameters' gradients only (Sequential calls backward_parameters there: its dL/dx feeds nothing
// that learns); the trace asks for dL/dx too, the image's gradient, which saliency maps show.
void backward(Sequential<float>& model, Trace& trace) {
  std::cout << "\nBackward, Mode::inference: dy_(i-1) = layer_i.backward(y_(i-1), y_i, dy_i)\n"
            << "  i  layer (kind)                    |dL/dinput|  parameters' |dL/dp|\n"
            << index_column(model.size() - 1) << layer_column(model.layer(model.size() - 1))
            << "skipped: fused with the loss above\n";
  Optimizer<float>::zero_grad(model.parameters());
  Tensor<float> dy = trace.logits_gradient, dx;
  for (Index i = model.size() - 2; i >= 0; --i) {
    Layer<float>& layer = model.layer(i);
    const auto k = static_cast<std::size_t>(i);
    layer.backward(i == 0 ? trace.x : trace.outputs[k - 1], trace.outputs[k], dy, dx,
                   Mode::inference);
    std::string gradients = number(norm(dx));
    for (const Parameter<float>* p : layer.parameters())
      if (p->trainable) {
        gradients.resize(std::max<std::size_t>(gradients.size(), 11), ' ');
        gradients += "  " + p->name + " " + p->grad.shape().str() + " " + number(norm(p->grad));
      }
    std::cout << index_column(i) << layer_column(layer) << gradients << '\n';
    std::swap(dy, dx);
  }
  trace.input_gradient = dy;
}

// The walk against the model's own code on the same image: predict() must give the same
// probabilities, and input_gradient() (which runs the same layers' forward and backward in
// inference mode, seeded with dL/dlogits at the logits) the same dL/dx and parameter gradients.
// Each layer computes the same function of the same input in both, so they agree to rounding.
void check(Sequential<float>& model, const Trace& trace) {
  std::vector<Tensor<float>> walked;  // the walk's parameter gradients, before they are redone
  for (const Parameter<float>* p : model.parameters())
    if (p->trainable) walked.push_back(p->grad);

  double worst = 0.0;  // the largest difference relative to the largest value it is part of
  const auto compare = [&](const Tensor<float>& theirs, const Tensor<float>& ours) {
    const double difference = largest_difference(theirs, ours);
    const double scale = largest_magnitude(ours);
    worst = std::max(worst, scale > 0.0 ? difference / scale : difference);
    return difference;
  };
  const double probabilities = compare(model.predict(trace.x), trace.outputs.back());
  Tensor<float> dx;
  model.input_gradient(trace.x, model.size() - 2, trace.logits_gradient, dx);
  const double input = compare(dx, trace.input_gradient);
  double parameters = 0.0;
  std::size_t j = 0;
  for (const Parameter<float>* p : model.parameters())
    if (p->trainable) parameters = std::max(parameters, compare(p->grad, walked[j++]));

  std::cout << "\nCheck against the model: Sequential::predict, largest difference "
            << number(probabilities) << "; Sequential::input_gradient, dL/dx " << number(input)
            << ", dL/dp " << number(parameters) << '\n';
  if (worst > 1e-5)
    fail("the layer-by-layer walk disagrees with Sequential::predict or ",
         "Sequential::input_gradient: expected differences below 1e-5 of the largest value, got ",
         worst);
}

// out/input.png, and out/<name>.png for each Conv2D: its F output maps side by side, each scaled
// to its own range (Scaling::per_image) so that the pattern shows whatever the values' size.
void write_pictures(const Sequential<float>& model, const Trace& trace,
                    const std::filesystem::path& out) {
  std::filesystem::create_directories(out);
  GridOptions input;
  input.zoom = 4;
  input.scaling = Scaling::range;  // the pixels in [0, 1]
  write_png((out / "input.png").string(), image_grid(trace.x, input));
  std::cout << "\nPictures: " << (out / "input.png").string();
  GridOptions maps;
  maps.zoom = 2;
  for (Index i = 0; i < model.size(); ++i) {
    if (model.layer(i).kind() != "Conv2D") continue;
    Tensor<float> planes = trace.outputs[static_cast<std::size_t>(i)];  // (1, F, OH, OW)
    planes.reshape({planes.dim(1), 1, planes.dim(2), planes.dim(3)});   // F grey images
    const std::filesystem::path path = out / (model.layer(i).name() + ".png");
    write_png(path.string(), image_grid(planes, maps));
    std::cout << ", " << path.string() << " (" << planes.dim(0) << " maps of " << planes.dim(2)
              << "x" << planes.dim(3) << ")";
  }
  std::cout << '\n';
}

int run(int argc, char** argv) {
  examples::CommandLine cli(
      "trace",
      "Pushes one MNIST test image through a CNN layer by layer, forward then backward, and\n"
      "prints what each layer computes (docs/walkthrough.md explains a run).");
  cli.option("data-dir", data_dir(), "directory holding mnist/ (scripts/fetch_data.sh mnist)")
      .option("index", "0", "the test image to trace, in [0, 10000)")
      .option("model", "", "a trained model (.mcnn) to trace instead of fresh weights")
      .option("architecture", "mnist_cnn", "the minicnn::model_zoo() model of fresh weights")
      .option("seed", "42", "seed of the fresh weights")
      .option("out", "runs/trace", "directory for the PNG files");
  if (!cli.parse(argc, argv)) return 0;

  const Dataset test = load_mnist(cli.get("data-dir"), Split::test);
  const long long index = cli.get_int("index");
  if (index < 0 || index >= test.size())
    fail("--index expects a test image in [0, ", test.size(), "), got ", index);
  Sequential<float> model = make_model(cli, test);
  std::cout << model.summary();

  Trace trace;
  const Index position = static_cast<Index>(index);
  Samples<float>(test, Normalization<float>::scale()).gather(&position, 1, trace.x, trace.label);
  std::cout << "\nImage " << index << " of the MNIST test set, label "
            << static_cast<Index>(trace.label[0]) << ", weights "
            << (cli.get("model").empty()
                    ? "fresh (" + cli.get("architecture") + ", seed " + cli.get("seed") + ")"
                    : "from " + cli.get("model"))
            << "\nx " << trace.x.shape() << "  " << range_and_mean(trace.x) << '\n';

  forward(model, trace);
  loss(model, trace);
  backward(model, trace);
  check(model, trace);
  write_pictures(model, trace, cli.get("out"));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "trace: " << error.what() << '\n';
    return 1;
  }
}
