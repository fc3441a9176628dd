// dlib's side of bench/compare_engines.py: dlib 19.24 (Debian's libdlib-dev), a C++ library that
// trains CNNs too, on twins of minicnn's models written in its DNN template DSL. Training steps
// (Adam) and inference batches on random data held in memory, timed as bench/model_throughput.cpp
// times minicnn, printed as one JSON line like its:
//
//   {"framework": "dlib", "model": "lenet5", "threads": 1, "batch": 64,
//    "train_images_per_second": 1234.5, "inference_images_per_second": 4567.8,
//    "startup_rss_mib": 4.2, "peak_rss_mib": 42.1}
//
// The twins, layer for layer as bench/compare_pytorch.py's (the zoo's shapes): every convolution
// and pool has its padding written out, because dlib's default for a stride-1 convolution is
// nr/2 ('same'-like) where the reference models use 'valid'. Differences that cost little and are
// stated: dlib's convolutions always carry a bias (ResNet-20's have none in minicnn and PyTorch),
// its Adam has epsilon 1e-8 (minicnn's and Keras's 1e-7), and inference ends at the logits (the
// others add a softmax over 10 or 20 classes). MobileNetV2 has no twin: dlib 19.24's con_ has no
// groups, so no depthwise convolution.
//
// A training step is compute_parameter_gradients (forward, loss, backward) and update_parameters
// with one adam solver per layer, learning rate 1e-3, on the network with bn_con and dropout.
// Inference runs the network dlib prescribes for it: the same weights converted to one with
// affine in place of bn_con (the moving statistics) and multiply in place of dropout.
//
// Threads: dlib's CPU convolutions and fully connected layers are products in the system BLAS
// (OpenBLAS with Debian's libopenblas0-pthread), which reads its thread count from the
// environment when it is loaded, before main. So --threads does not set it: the program refuses
// to run unless OPENBLAS_NUM_THREADS says the same (compare_engines.py sets it, as for PyTorch).
#include <dlib/dnn.h>
#include <dlib/revision.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "minicnn/error.hpp"
#include "throughput_timing.hpp"

namespace {

using namespace dlib;

// Convolutions and pools with the padding spelled out (dlib's default would be 'same'-like).
template <long filters, long k, typename SUBNET>
using conv_valid = add_layer<con_<filters, k, k, 1, 1, 0, 0>, SUBNET>;
template <long filters, long k, int stride, int pad, typename SUBNET>
using conv = add_layer<con_<filters, k, k, stride, stride, pad, pad>, SUBNET>;
template <typename SUBNET>
using max_pool2 = add_layer<max_pool_<2, 2, 2, 2, 0, 0>, SUBNET>;
template <typename SUBNET>
using avg_pool2 = add_layer<avg_pool_<2, 2, 2, 2, 0, 0>, SUBNET>;

using gray_input = input<matrix<float>>;                // (1, 28, 28)
using rgb_input = input<std::array<matrix<float>, 3>>;  // (3, 32, 32)

// The models, on a BatchNorm layer BN and a Dropout layer DROP: bn_con and dropout to train,
// affine and multiply to infer (dlib converts one network into the other, weights kept).
template <template <typename> class BN, template <typename> class DROP>
struct Twins {
  // Conv 32,3 - Dense 10.
  using mnist_model1 = loss_multiclass_log<fc<10, conv_valid<32, 3, gray_input>>>;
  // Conv 32,5 - Conv 64,5 - BN - MaxPool 2 - Conv 128,5 - Dense 10 (no activations: the lab's).
  using mnist_model4 = loss_multiclass_log<
      fc<10, conv_valid<128, 5, max_pool2<BN<conv_valid<64, 5, conv_valid<32, 5, gray_input>>>>>>>;
  // LeNet-5: tanh and average pooling.
  using lenet5 = loss_multiclass_log<fc<
      10, htan<fc<84, htan<fc<120, avg_pool2<htan<conv_valid<
                                       16, 5, avg_pool2<htan<conv_valid<6, 5, rgb_input>>>>>>>>>>>>;
  // Two VGG blocks of 3x3 'valid' convolutions, Dropout .25 and .5 (dlib's dropout rate is set
  // at run time; the rate does not change the cost).
  template <long filters, typename SUBNET>
  using vgg_block =
      DROP<max_pool2<relu<conv_valid<filters, 3, relu<conv_valid<filters, 3, SUBNET>>>>>>;
  using cifar10_basic =
      loss_multiclass_log<fc<10, DROP<relu<fc<256, vgg_block<64, vgg_block<32, rgb_input>>>>>>>;
  // Conv 8/16/32 with Dropout .2, Dense 500, 20 coarse classes.
  using cifar100_coarse_first = loss_multiclass_log<
      fc<20, DROP<relu<fc<500, max_pool2<relu<conv_valid<
                                   32, 3,
                                   DROP<max_pool2<relu<conv_valid<
                                       16, 3, DROP<relu<conv_valid<8, 3, rgb_input>>>>>>>>>>>>>>>;

  // He et al.'s CIFAR ResNet-20 as minicnn's cifar_resnet(20): 3x3 convolutions padded by 1,
  // BatchNorm after each; a projection shortcut (1x1, stride 2, BatchNorm) where the width doubles.
  template <long filters, int stride, typename SUBNET>
  using body = BN<conv<filters, 3, 1, 1, relu<BN<conv<filters, 3, stride, 1, SUBNET>>>>>;
  template <long filters, typename SUBNET>
  using identity_block = relu<add_prev1<body<filters, 1, tag1<SUBNET>>>>;
  // tag1 marks the block's input x; tag2 the projection BN(conv1x1(x)); skip1 returns to x for
  // the body, and add_prev2 adds the projection to the body's output.
  template <long filters, typename SUBNET>
  using projection_block =
      relu<add_prev2<body<filters, 2, skip1<tag2<BN<conv<filters, 1, 2, 0, tag1<SUBNET>>>>>>>>;
  template <long filters, typename SUBNET>
  using stage = identity_block<filters, identity_block<filters, projection_block<filters, SUBNET>>>;
  using resnet20_stem = relu<BN<conv<16, 3, 1, 1, rgb_input>>>;
  using resnet20 = loss_multiclass_log<
      fc<10, avg_pool_everything<stage<
                 64, stage<32, identity_block<
                                   16, identity_block<16, identity_block<16, resnet20_stem>>>>>>>>;
};
using Train = Twins<bn_con, dropout>;
using Infer = Twins<affine, multiply>;

// One random sample: a grayscale image, or the channels of a colour one, uniform in [0, 1).
void fill_random(matrix<float>& image, long size, std::mt19937& random,
                 std::uniform_real_distribution<float>& pixel) {
  image.set_size(size, size);
  for (float& v : image)
    v = pixel(random);
}
template <std::size_t K>
void fill_random(std::array<matrix<float>, K>& channels, long size, std::mt19937& random,
                 std::uniform_real_distribution<float>& pixel) {
  for (auto& channel : channels)
    fill_random(channel, size, random, pixel);
}

struct Workload {
  long size, classes;  // the input's height and width (its channels: the net's input layer)
  long long batch;
  double seconds;
  long long warmup, min_steps;
};

struct Figures {
  double train, inference;  // batches per second
};

// Trains `TrainNet` on random batches, then infers with its InferNet conversion.
template <typename TrainNet, typename InferNet>
Figures measure(const Workload& w) {
  constexpr int kBatches = 4;  // cycled through, as minicnn_throughput does
  std::mt19937 random(7);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::uniform_int_distribution<unsigned long> label(0, static_cast<unsigned long>(w.classes - 1));
  TrainNet net;
  // The batches as dlib's input layer makes tensors of its samples (to_tensor also sets the
  // network's sample_expansion_factor, which compute_parameter_gradients needs).
  std::vector<resizable_tensor> x(kBatches);
  std::vector<std::vector<unsigned long>> y(kBatches);
  for (int b = 0; b < kBatches; ++b) {
    std::vector<typename TrainNet::input_type> samples(static_cast<std::size_t>(w.batch));
    for (auto& sample : samples)
      fill_random(sample, w.size, random, pixel);
    net.to_tensor(samples.begin(), samples.end(), x[b]);
    for (long long n = 0; n < w.batch; ++n)
      y[b].push_back(label(random));
  }

  // Keras's Adam: beta 0.9 and 0.999, no weight decay; learning rate 1e-3 below.
  std::vector<adam> solvers(TrainNet::num_computational_layers, adam(0.0f, 0.9f, 0.999f));
  const double train = bench::batches_per_second(
      [&](long long i) {
        net.compute_parameter_gradients(x[i % kBatches], y[i % kBatches].begin());
        net.update_parameters(make_sstack(solvers), 1e-3);
      },
      w.warmup, w.min_steps, w.seconds);

  InferNet inference_net(net);
  const double inference = bench::batches_per_second(
      [&](long long i) { inference_net.subnet().forward(x[i % kBatches]); }, w.warmup, w.min_steps,
      w.seconds);
  return {train, inference};
}

}  // namespace

int main(int argc, char** argv) try {
  const double startup_rss = bench::peak_rss_mib();
  examples::CommandLine cli("dlib_throughput",
                            "Training and inference images/s of dlib's twin of one model, "
                            "printed as one JSON line.");
  cli.option("model", "lenet5",
             "mnist_model1, mnist_model4, lenet5, cifar10_basic, cifar100_coarse_first, resnet20")
      .option("threads", "1", "BLAS threads: must equal the environment's OPENBLAS_NUM_THREADS")
      .option("batch", "0", "images per batch; 0: the model's workload (64, resnet20 128)")
      .option("seconds", "5", "minimum timed seconds per phase (training, inference)")
      .option("min-steps", "5", "minimum timed batches per phase")
      .option("warmup", "3", "untimed batches before each phase");
  if (!cli.parse(argc, argv)) return 0;

  const std::string name = cli.get("model");
  const long long threads = cli.get_int("threads");
  const char* blas_threads = std::getenv("OPENBLAS_NUM_THREADS");
  if (blas_threads == nullptr || std::to_string(threads) != blas_threads)
    minicnn::fail("dlib_throughput: --threads ", threads, " needs OPENBLAS_NUM_THREADS=", threads,
                  " in the environment (OpenBLAS reads it "
                  "when loaded), got ",
                  blas_threads ? blas_threads : "none");
  Workload w{32,
             10,
             cli.get_int("batch"),
             cli.get_double("seconds"),
             cli.get_int("warmup"),
             cli.get_int("min-steps")};
  if (w.batch < 0) minicnn::fail("dlib_throughput: expected --batch >= 0, got ", w.batch);
  if (name.rfind("mnist", 0) == 0) w.size = 28;
  if (name == "cifar100_coarse_first") w.classes = 20;
  if (w.batch == 0) w.batch = name == "resnet20" ? 128 : 64;

  Figures f{};
  if (name == "mnist_model1")
    f = measure<Train::mnist_model1, Infer::mnist_model1>(w);
  else if (name == "mnist_model4")
    f = measure<Train::mnist_model4, Infer::mnist_model4>(w);
  else if (name == "lenet5")
    f = measure<Train::lenet5, Infer::lenet5>(w);
  else if (name == "cifar10_basic")
    f = measure<Train::cifar10_basic, Infer::cifar10_basic>(w);
  else if (name == "cifar100_coarse_first")
    f = measure<Train::cifar100_coarse_first, Infer::cifar100_coarse_first>(w);
  else if (name == "resnet20")
    f = measure<Train::resnet20, Infer::resnet20>(w);
  else
    minicnn::fail("dlib_throughput: unknown model '", name,
                  "' (mobilenet_v2 cannot be written in dlib 19.24: no depthwise convolution)");

  const double batch = static_cast<double>(w.batch);
  std::printf(
      "{\"framework\": \"dlib\", \"model\": \"%s\", \"threads\": %lld, \"batch\": %lld, "
      "\"train_images_per_second\": %.2f, \"inference_images_per_second\": %.2f, "
      "\"startup_rss_mib\": %.1f, \"peak_rss_mib\": %.1f, \"dlib_version\": \"%d.%d\"}\n",
      name.c_str(), threads, w.batch, f.train * batch, f.inference * batch, startup_rss,
      bench::peak_rss_mib(), DLIB_MAJOR_VERSION, DLIB_MINOR_VERSION);
  return 0;
} catch (const std::exception& e) {
  std::cerr << e.what() << '\n';
  return 1;
}
