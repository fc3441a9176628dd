// Pool2D: what MaxPool2D and AvgPool2D share: the window arguments (pool size, strides that
// default to the pool size as in Keras, padding), their checks, config and rebuilding from it,
// and the window geometry computed at build(). Derived supplies forward, backward and kind().
#pragma once

#include <memory>

#include "minicnn/layer.hpp"
#include "minicnn/layers/im2col.hpp"
#include "minicnn/layers/window.hpp"

namespace minicnn {

template <typename T, typename Derived>
class Pool2D : public Layer<T> {
 public:
  static std::unique_ptr<Layer<T>> from_config(const Config& config) {
    return std::make_unique<Derived>(Size2::parse(config.get("pool_size")),
                                     Size2::parse(config.get("strides")),
                                     padding_from_string(config.get("padding")));
  }

  Config config() const override {
    return Config()
        .set("pool_size", pool_size_.str())
        .set("strides", strides_.str())
        .set("padding", to_string(padding_));
  }
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

  // (C, H, W) -> (C, OH, OW), with the window arithmetic of window.hpp; no parameters.
  LayerPlan plan_layer(const Shape& input_shape) const override {
    const WindowGeometry g = geometry(input_shape);
    return {{g.channels, g.out_h, g.out_w}, {}};
  }
  void build_layer(const Shape& input_shape, Random&) override {
    geometry_ = geometry(input_shape);
  }

  WindowGeometry geometry(const Shape& input_shape) const {
    return WindowGeometry::of(this->label(), "pool", input_shape, pool_size_, strides_, padding_);
  }

  Size2 pool_size_;
  Size2 strides_;
  Padding padding_;
  WindowGeometry geometry_;
};

}  // namespace minicnn
