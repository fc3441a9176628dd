// Pool2D: what MaxPool2D and AvgPool2D share: the window arguments (pool size, strides that
// default to the pool size as in Keras, padding), their checks, config and rebuilding from it,
// and the window geometry computed at build(). Derived supplies forward, backward and kind().
//
// Padding is Keras's 'valid' or 'same', or explicit pads on each side (PyTorch's `padding`,
// ONNX's `pads`), each smaller than the pool on its axis, so that every window holds at least one
// element of the input: the padded elements never count (MaxPool2D takes the maximum over the
// window's elements inside the input, AvgPool2D their mean: PyTorch's count_include_pad=False).
#pragma once

#include <memory>
#include <optional>

#include "minicnn/layer.hpp"
#include "minicnn/layers/im2col.hpp"
#include "minicnn/layers/window.hpp"

namespace minicnn {

template <typename T, typename Derived>
class Pool2D : public Layer<T> {
 public:
  // padding is 'valid', 'same' or 'explicit'; the key pads (top,bottom,left,right) is there only
  // with 'explicit', so configs written before explicit pads existed read as they did.
  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    const Size2 pool_size = Size2::parse(config.get("pool_size"));
    const Size2 strides = Size2::parse(config.get("strides"));
    if (config.get("padding") == kExplicit)
      return std::make_unique<Derived>(pool_size, strides, Pads::parse(config.get("pads")));
    return std::make_unique<Derived>(pool_size, strides,
                                     padding_from_string(config.get("padding")));
  }

  Config config() const override {
    Config config;
    config.set("pool_size", pool_size_.str())
        .set("strides", strides_.str())
        .set("padding", pads_ ? kExplicit : to_string(padding_));
    if (pads_) config.set("pads", pads_->str());
    return config;
  }
  const std::optional<Pads>& pads() const { return pads_; }
  std::unique_ptr<Layer<T>> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }

 protected:
  // `kind` names the layer in the argument errors (the object is not constructed yet).
  Pool2D(const char* kind, Size2 pool_size, Size2 strides, Padding padding)
      : pool_size_(pool_size), strides_(strides), padding_(padding) {
    check_window_argument(kind, "pool_size", pool_size);
    check_window_argument(kind, "strides", strides);
  }
  Pool2D(const char* kind, Size2 pool_size, Size2 strides, Pads pads)
      : Pool2D(kind, pool_size, strides, Padding::valid) {
    if (pads.any_negative() || pads.top >= pool_size.height || pads.bottom >= pool_size.height ||
        pads.left >= pool_size.width || pads.right >= pool_size.width)
      fail(kind, ": expected pads >= 0 and smaller than the ", pool_size.str(),
           " pool on every side, got ", pads.str(), " (top,bottom,left,right)");
    pads_ = pads;
  }

  // (C, H, W) -> (C, OH, OW), with the window arithmetic of window.hpp; no parameters.
  LayerPlan plan_layer(const Shape& input_shape) const override {
    const WindowGeometry g = geometry(input_shape);
    return {{g.channels, g.out_h, g.out_w}, {}};
  }
  void build_layer(const Shape& input_shape, Random&) override {
    geometry_ = geometry(input_shape);
  }

  WindowGeometry geometry(const Shape& input_shape) const {
    if (pads_)
      return WindowGeometry::of(this->label(), "pool", input_shape, pool_size_, strides_, *pads_);
    return WindowGeometry::of(this->label(), "pool", input_shape, pool_size_, strides_, padding_);
  }

  static constexpr const char* kExplicit = "explicit";  // config's padding with pads_

  Size2 pool_size_;
  Size2 strides_;
  Padding padding_;
  std::optional<Pads> pads_;  // explicit padding, in place of padding_
  WindowGeometry geometry_;
};

}  // namespace minicnn
