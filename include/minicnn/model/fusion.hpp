// Inference fusion: a convolution, its BatchNorm and its ReLU as one pass over memory, as ONNX
// Runtime folds a BatchNormalization into the Conv before it and fuses the Relu or Clip after it.
//
// A chain of vertices
//   L -> BatchNorm -> ReLU,   L -> BatchNorm,   or   L -> ReLU   (ReLU with or without max_value)
// where L.fuses_output_map() (Conv2D, Dense: any layer that says so, layer.hpp) runs at inference
// as one call L.forward_fused(x, y, after) that writes the chain's last output:
//   y[:, c, ...] = clamp(scale_c L(x)[:, c, ...] + shift_c, low, high)    per channel c
//   (scale_c, shift_c) = (gamma_c / sqrt(var_c + epsilon), beta_c - mean_c gamma_c /
//                         sqrt(var_c + epsilon))    (BatchNorm::inference_affine; (1, 0) without)
//   (low, high)        = (0, max_value or +infinity)  (ReLU::inference_clamp; no clamp without)
// BatchNorm's mean and var are its moving statistics, as in its inference-mode forward().
//
// A vertex joins the chain of the vertex before it only when it is that vertex's one consumer and
// that vertex is not the model's output: the intermediate outputs are then read by nobody, and
// skipping them changes nothing a caller can see. Graph::infer() uses the fused walk unless it is
// asked for an intermediate vertex of a chain (layer_output of a BatchNorm whose ReLU is fused
// with it): then it runs the unfused walk, whose buffers keep every output.
//
// The chains depend on the graph alone and are found once per graph (Graph::connect), as the
// buffer plan is. The map's numbers are computed from the layers' parameters at every call (a
// square root per channel, nothing next to a convolution), so a model trained between two
// predictions never runs on a stale fold. Fused and unfused inference agree up to rounding, not
// bit for bit: the fold rounds scale_c and shift_c once and multiplies before adding.
#pragma once

#include <vector>

#include "minicnn/gemm.hpp"
#include "minicnn/layer.hpp"

namespace minicnn {

// One fused chain, by vertex: L, then the BatchNorm and the ReLU when present.
struct FusedChain {
  Index head = -1;    // L: the vertex whose layer runs forward_fused()
  Index affine = -1;  // the BatchNorm, or -1
  Index clamp = -1;   // the ReLU, or -1
  Index tail = -1;    // the last of them: the vertex whose output the fused call writes
};

// The chains of a connected graph (Graph<T>: its vertices' layers, inputs and consumers, and its
// output), in the order of their heads; a vertex is in one chain at most.
template <typename T, typename Graph>
std::vector<FusedChain> find_fused_chains(const Graph& graph) {
  std::vector<T> scale, shift;  // scratch: only whether a layer is a map matters here
  T low, high;
  // The vertex that alone reads v, when v may be skipped, else -1.
  const auto next = [&](Index v) -> Index {
    const auto& consumers = graph.vertex(v).consumers;
    return v == graph.output() || consumers.size() != 1 ? -1 : consumers[0];
  };
  std::vector<FusedChain> chains;
  for (Index v = 0; v < graph.size(); ++v) {
    const Layer<T>* layer = graph.vertex(v).layer.get();
    if (layer == nullptr || !layer->fuses_output_map()) continue;
    FusedChain chain{v, -1, -1, v};
    Index follower = next(v);
    if (follower >= 0 && graph.vertex(follower).layer->inference_affine(scale, shift)) {
      chain.affine = chain.tail = follower;
      follower = next(follower);
    }
    if (follower >= 0 && graph.vertex(follower).layer->inference_clamp(low, high))
      chain.clamp = chain.tail = follower;
    if (chain.tail != v) chains.push_back(chain);
  }
  return chains;
}

// The map of `chain` from its layers' current parameters (the top of this file); scale and shift
// hold the BatchNorm's, which the returned epilogue points to.
template <typename T, typename Graph>
gemm::Epilogue<T> fused_epilogue(const Graph& graph, const FusedChain& chain, std::vector<T>& scale,
                                 std::vector<T>& shift) {
  gemm::Epilogue<T> after;
  if (chain.affine >= 0) {
    graph.vertex(chain.affine).layer->inference_affine(scale, shift);
    after.row_scale = scale.data();
    after.row_bias = shift.data();
  }
  if (chain.clamp >= 0) graph.vertex(chain.clamp).layer->inference_clamp(after.low, after.high);
  return after;
}

}  // namespace minicnn
