#pragma once

#include <cstdint>

#include "kernels/tensor.h"

namespace ofa {

// Squeeze-and-excitation with elastic channels (OFA's DynamicSE):
//   pooled = global_avg_pool(x)                                   [N, c]
//   hidden = relu(pooled * reduce_weight[:mid, :c]^T + reduce_bias[:mid])   [N, mid]
//   gate   = h_sigmoid(hidden * expand_weight[:c, :mid]^T + expand_bias[:c]) [N, c]
//   y      = x * gate (per image and channel)
// c is x's last extent; mid is the elastic hidden width the supernet chose for c.

// Max-size weights, used in place through prefix views.
struct SqueezeExciteWeights {
  Tensor reduce_weight;  // [Mid_max, C_max]
  Tensor reduce_bias;    // [Mid_max]
  Tensor expand_weight;  // [C_max, Mid_max]
  Tensor expand_bias;    // [C_max]
};

// Same shapes as the weights; the backward ACCUMULATES into the active slices.
using SqueezeExciteGrads = SqueezeExciteWeights;

// The small per-image intermediates the forward keeps so the backward never revisits a
// big tensor more than it must. All contiguous.
struct SqueezeExciteSaved {
  Tensor pooled;       // [N, c]
  Tensor hidden;       // [N, mid], after the ReLU
  Tensor gate_logits;  // [N, c], before the h-sigmoid
  Tensor gate;         // [N, c]
  static SqueezeExciteSaved allocate(std::int64_t batch, std::int64_t channels, std::int64_t mid_channels,
                                     Device device = Device::cpu);
};

// x contiguous [N, H, W, c]; y like x (may alias x only when no backward follows);
// saved as allocated for (N, c, mid_channels).
void squeeze_excite_forward(const Tensor& x, const SqueezeExciteWeights& weights, std::int64_t mid_channels,
                            Tensor& y, SqueezeExciteSaved& saved);

// dx (overwritten, may alias dy) may be null; grads accumulate. mid comes from saved.hidden.
void squeeze_excite_backward(const Tensor& x, const SqueezeExciteWeights& weights, const SqueezeExciteSaved& saved,
                             const Tensor& dy, Tensor* dx, SqueezeExciteGrads& grads);

}  // namespace ofa
