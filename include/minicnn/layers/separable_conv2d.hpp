// SeparableConv2D: a depthwise convolution without bias, then a 1x1 ("pointwise") convolution
// with bias that mixes the channels (Keras's SeparableConv2D; in PyTorch, conv2d with groups = C
// and no bias, then a 1x1 conv2d). Input (N, C, H, W), the depthwise result Z (N, C*M, OH, OW),
// output (N, F, OH, OW). Parameters in Keras's order and names: depthwise_kernel
// (C*M, 1, KH, KW) as in DepthwiseConv2D, pointwise_kernel (F, C*M, 1, 1) as in a 1x1 Conv2D,
// bias (F): C*KH*KW*M + C*M*F + F numbers, as Keras counts them. Padding, strides and dilation
// belong to the depthwise step (see depthwise_conv2d.hpp).
//
// The depthwise step is depthwise_conv2d.hpp's kernels, the pointwise step one product of
// gemm.hpp per sample: the maths is written once. Samples are spread over OpenMP threads and each
// product is computed by one thread, so y and dx are bit-identical across thread counts; dWp is a
// sum over samples in sample order, deterministic for a given thread count.
//
// Workspaces: Z and dZ (N, C*M, OH, OW) are kept in the layer for training-mode forward() and
// backward() (grown once, reused); inference-mode forward() uses a thread_local Z instead, so
// several threads may run inference on one layer at once.
#pragma once

#include <memory>

#include "minicnn/gemm.hpp"
#include "minicnn/initializers.hpp"
#include "minicnn/layer.hpp"
#include "minicnn/layers/depthwise_conv2d.hpp"

namespace minicnn {

template <typename T>
class SeparableConv2D : public Layer<T> {
 public:
  // Keras's arguments and defaults, in Keras's order but for dilation_rate, which comes after
  // use_bias as in DepthwiseConv2D.
  SeparableConv2D(Index filters, Size2 kernel_size, Size2 strides = 1,
                  DepthwisePadding padding = Padding::valid, Index depth_multiplier = 1,
                  bool use_bias = true, Size2 dilation_rate = 1,
                  Initializer depthwise_initializer = Initializer::glorot_uniform,
                  Initializer pointwise_initializer = Initializer::glorot_uniform)
      : filters_(filters),
        kernel_size_(kernel_size),
        strides_(strides),
        padding_(padding),
        depth_multiplier_(depth_multiplier),
        use_bias_(use_bias),
        dilation_rate_(dilation_rate),
        depthwise_initializer_(depthwise_initializer),
        pointwise_initializer_(pointwise_initializer) {
    if (filters <= 0) fail("SeparableConv2D: expected filters > 0, got ", filters);
    check_depthwise_arguments("SeparableConv2D", kernel_size, strides, padding, depth_multiplier,
                              dilation_rate);
  }

  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<SeparableConv2D>(
        config.get_int("filters"), Size2::parse(config.get("kernel_size")),
        Size2::parse(config.get("strides")), DepthwisePadding::parse(config.get("padding")),
        config.get_int("depth_multiplier"), config.get_bool("use_bias"),
        Size2::parse(config.get("dilation_rate")),
        initializer_from_string(config.get("depthwise_initializer")),
        initializer_from_string(config.get("pointwise_initializer")));
  }

  std::string kind() const override { return "SeparableConv2D"; }
  Config config() const override {
    return Config()
        .set("filters", filters_)
        .set("kernel_size", kernel_size_.str())
        .set("strides", strides_.str())
        .set("padding", padding_.str())
        .set("depth_multiplier", depth_multiplier_)
        .set("use_bias", use_bias_)
        .set("dilation_rate", dilation_rate_.str())
        .set("depthwise_initializer", to_string(depthwise_initializer_))
        .set("pointwise_initializer", to_string(pointwise_initializer_));
  }
  std::unique_ptr<Layer<T>> clone() const override {
    return std::make_unique<SeparableConv2D>(*this);
  }

  std::vector<Parameter<T>*> parameters() override {
    if (use_bias_) return {&depthwise_kernel_, &pointwise_kernel_, &bias_};
    return {&depthwise_kernel_, &pointwise_kernel_};
  }

  // Z = depthwise(x; Wd)               (depthwise::forward, no bias)
  // Y_n = Wp Z_n + b                   Wp: (F, C*M),  Z_n: (C*M, OH*OW),  Y_n: (F, OH*OW)
  void forward(const Tensor<T>& x, Tensor<T>& y, Mode mode) override {
    this->check_input(x);
    Tensor<T>& z = mode == Mode::training ? z_ : inference_buffer();
    depthwise_step(x, z);
    const Index batch = x.dim(0), positions = geometry_.positions();
    const Index channels = geometry_.out_channels();
    y.resize(this->output_shape().with_batch(batch));
#pragma omp parallel for schedule(static)
    for (Index n = 0; n < batch; ++n)
      gemm::multiply<T>({pointwise_kernel_.value.data(), channels, 1},
                        {z.data() + n * channels * positions, positions, 1}, filters_, positions,
                        channels, y.data() + n * filters_ * positions, positions, false,
                        use_bias_ ? bias_.value.data() : nullptr);
  }

  // With dY_n = dL/dY_n (F, OH*OW):
  //   dWp += sum over n of dY_n Z_n^T           (F, C*M)
  //   db  += sum over n and positions of dY_n    (F)
  //   dZ_n = Wp^T dY_n                           (C*M, OH*OW)
  //   dWd and dx from dZ: depthwise::backward_kernel and depthwise::backward_input.
  // Z is recomputed rather than kept from forward(), so that backward() reads no training cache
  // in either mode: it costs KH*KW multiply-adds per element of Z, against the F (and 2F here)
  // of the pointwise products.
  void backward(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>& dx,
                Mode) override {
    accumulate_gradients(x, dy);
    dx.resize(x.shape());
    depthwise::backward_input(geometry_, x.dim(0), dz_.data(), depthwise_kernel_.value.data(),
                              dx.data());
  }

  // dWd, dWp and db alone: no dx (the first layer of a model).
  void backward_parameters(const Tensor<T>& x, const Tensor<T>&, const Tensor<T>& dy, Tensor<T>&,
                           Mode) override {
    accumulate_gradients(x, dy);
  }

 private:
  // The formulas above but dx; leaves dZ in dz_.
  void accumulate_gradients(const Tensor<T>& x, const Tensor<T>& dy) {
    this->check_input(x);
    this->check_gradient(x, dy);
    depthwise_step(x, z_);
    const Index batch = x.dim(0), positions = geometry_.positions();
    const Index channels = geometry_.out_channels();
    dz_.resize(z_.shape());
    // Wp^T read in place: element (i, k) of the (C*M, F) left operand is Wp[k, i].
#pragma omp parallel for schedule(static)
    for (Index n = 0; n < batch; ++n)
      gemm::multiply<T>({pointwise_kernel_.value.data(), 1, channels},
                        {dy.data() + n * filters_ * positions, positions, 1}, channels, positions,
                        filters_, dz_.data() + n * channels * positions, positions);
    auto kernel_grad = pointwise_kernel_.grad.matrix(filters_, channels);
    for (Index n = 0; n < batch; ++n) {
      const ConstMatrixMap<T> upstream(dy.data() + n * filters_ * positions, filters_, positions);
      kernel_grad.noalias() +=
          upstream *
          ConstMatrixMap<T>(z_.data() + n * channels * positions, channels, positions).transpose();
      if (use_bias_) bias_.grad.vector() += upstream.rowwise().sum();
    }
    depthwise::backward_kernel(geometry_, batch, x.data(), dz_.data(),
                               depthwise_kernel_.grad.data(), static_cast<T*>(nullptr));
  }

  // z = the depthwise convolution of x, (N, C*M, OH, OW).
  void depthwise_step(const Tensor<T>& x, Tensor<T>& z) const {
    z.resize({x.dim(0), geometry_.out_channels(), geometry_.out_h, geometry_.out_w});
    depthwise::forward(geometry_, x.dim(0), x.data(), depthwise_kernel_.value.data(),
                       gemm::Epilogue<T>{}, z.data());
  }

  // This thread's Z for inference, grown to the largest layer it has served.
  static Tensor<T>& inference_buffer() {
    thread_local Tensor<T> buffer;
    return buffer;
  }

  // (C, H, W) -> (F, OH, OW); depthwise_kernel (C*M, 1, KH, KW), pointwise_kernel
  // (F, C*M, 1, 1), bias (F). Z's samples, which plan() does not see, are checked here.
  LayerPlan plan_layer(const Shape& input_shape) const override {
    const DepthwiseGeometry g = geometry(input_shape);
    const Shape z{g.out_channels(), g.out_h, g.out_w};
    if (bounded_size(z, Layer<T>::kMaxElements) < 0)
      fail(this->label(), ": expected at most ", Layer<T>::kMaxElements,
           " elements in a tensor, got the depthwise result of shape ", z);
    LayerPlan plan{{filters_, g.out_h, g.out_w},
                   {{"depthwise_kernel", {g.out_channels(), 1, g.kernel_h, g.kernel_w}},
                    {"pointwise_kernel", {filters_, g.out_channels(), 1, 1}}}};
    if (use_bias_) plan.parameters.push_back({"bias", {filters_}});
    return plan;
  }

  // Keras's fans: the depthwise kernel's as in DepthwiseConv2D (C*KH*KW, M*KH*KW), the pointwise
  // kernel's on its (1, 1, C*M, F) shape (C*M, F). The bias stays 0.
  void build_layer(const Shape& input_shape, Random& random) override {
    geometry_ = geometry(input_shape);
    const Index taps = geometry_.taps();
    initialize(depthwise_kernel_.value, depthwise_initializer_, geometry_.channels * taps,
               geometry_.multiplier * taps, random);
    initialize(pointwise_kernel_.value, pointwise_initializer_, geometry_.out_channels(), filters_,
               random);
  }

  DepthwiseGeometry geometry(const Shape& input_shape) const {
    return DepthwiseGeometry::of(this->label(), input_shape, depth_multiplier_, kernel_size_,
                                 strides_, dilation_rate_, padding_, Layer<T>::kMaxElements);
  }

  Index filters_;
  Size2 kernel_size_;
  Size2 strides_;
  DepthwisePadding padding_;
  Index depth_multiplier_;
  bool use_bias_;
  Size2 dilation_rate_;
  Initializer depthwise_initializer_;
  Initializer pointwise_initializer_;
  DepthwiseGeometry geometry_;
  Parameter<T> depthwise_kernel_{"depthwise_kernel", {0, 1, 0, 0}};
  Parameter<T> pointwise_kernel_{"pointwise_kernel", {0, 0, 1, 1}};
  Parameter<T> bias_{"bias", {0}};
  Tensor<T> z_, dz_;  // Z and dZ of the last training-mode forward() or backward()
};

}  // namespace minicnn
