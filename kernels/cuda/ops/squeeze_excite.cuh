#pragma once

#include <cstddef>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/activation.cuh"
#include "kernels/cuda/ops/block_reduce.cuh"
#include "kernels/cuda/ops/column_sums.cuh"
#include "kernels/cuda/ops/pooling.cuh"
#include "kernels/error.h"

// Squeeze-and-excitation with elastic channels on the GPU, as kernels/ops/squeeze_excite.h:
//   pooled = global_avg_pool(x)                                  [N, c]
//   hidden = relu(pooled * reduce_weight[:mid, :c]^T + reduce_bias[:mid])
//   gate   = h_sigmoid(hidden * expand_weight[:c, :mid]^T + expand_bias[:c])
//   y      = x * gate
// composed of the pooling kernels and three small GEMV kernels on [N, c] x [c, mid] that read
// the max-size weights in place (leading dimensions C_max and Mid_max).

namespace ofa::cuda {

struct SqueezeExciteDeviceWeights {
  const float* reduce_weight;  // [Mid_max, C_max]
  const float* reduce_bias;    // [Mid_max]
  const float* expand_weight;  // [C_max, Mid_max]
  const float* expand_bias;    // [C_max]
  int channels_max, mid_max;
};

// The same layouts; the backward accumulates into the active slices.
struct SqueezeExciteDeviceGrads {
  float* reduce_weight;
  float* reduce_bias;
  float* expand_weight;
  float* expand_bias;
};

// What the forward keeps for the backward, contiguous: pooled, gate_logits, gate [N, c];
// hidden [N, mid] after the ReLU.
struct SqueezeExciteDeviceSaved {
  float* pooled;
  float* hidden;
  float* gate_logits;
  float* gate;
};

// A fully connected layer on a few rows: out[n, j] = act(b[j] + sum_k in[n, k] w[j * ld + k]),
// one warp per output so that the weight row is read coalesced; the pre-activation goes to
// `pre` too unless it is null.
template <Activation A>
__global__ void small_linear_forward_kernel(const float* __restrict__ in, const float* __restrict__ w, int ld,
                                            const float* __restrict__ bias, int rows, int out_features, int in_features,
                                            float* __restrict__ pre, float* __restrict__ out) {
  const long long output = static_cast<long long>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (output >= static_cast<long long>(rows) * out_features) return;  // the whole warp: no shuffle is left waiting
  const int n = int(output / out_features), j = int(output % out_features);
  const float* x = in + static_cast<long long>(n) * in_features;
  const float* weights = w + static_cast<long long>(j) * ld;
  float sum = 0.0f;
  for (int k = int(threadIdx.x % 32); k < in_features; k += 32) sum = fmaf(x[k], weights[k], sum);
  const float z = reduction::warp_reduce(sum, reduction::Sum{}) + bias[j];
  if (threadIdx.x % 32 != 0) return;
  if (pre != nullptr) pre[output] = z;
  out[output] = activation_device::apply<A>(z);
}

// din[n, k] = act'(at[n, k]) * sum_j dout[n, j] w[j * ld + k]: one thread per input, threads
// along k so that each weight row is read coalesced.
template <Activation A, int Threads>
__global__ void __launch_bounds__(Threads)
    small_linear_input_backward_kernel(const float* __restrict__ dout, const float* __restrict__ w, int ld, int rows,
                                       int out_features, int in_features, const float* __restrict__ at,
                                       float* __restrict__ din) {
  const int k = int(blockIdx.x) * Threads + int(threadIdx.x), n = int(blockIdx.y);
  if (k >= in_features || n >= rows) return;
  const float* g = dout + static_cast<long long>(n) * out_features;
  float sum = 0.0f;
  for (int j = 0; j < out_features; ++j) sum = fmaf(g[j], w[static_cast<long long>(j) * ld + k], sum);
  const long long i = static_cast<long long>(n) * in_features + k;
  din[i] = A == Activation::none ? sum : activation_device::slope<A>(at[i]) * sum;
}

// dw[j * ld + k] += sum_n dout[n, j] in[n, k] and db[j] += sum_n dout[n, j]: one thread per
// weight, the bias as the input column k == in_features.
template <int Threads>
__global__ void __launch_bounds__(Threads)
    small_linear_weight_backward_kernel(const float* __restrict__ dout, const float* __restrict__ in, int rows,
                                        int out_features, int in_features, float* __restrict__ dw, int ld,
                                        float* __restrict__ db) {
  const int k = int(blockIdx.x) * Threads + int(threadIdx.x), j = int(blockIdx.y);
  if (k > in_features) return;
  float sum = 0.0f;
  for (int n = 0; n < rows; ++n) {
    const float g = dout[static_cast<long long>(n) * out_features + j];
    sum = k < in_features ? fmaf(g, in[static_cast<long long>(n) * in_features + k], sum) : sum + g;
  }
  if (k < in_features) {
    dw[static_cast<long long>(j) * ld + k] += sum;
  } else {
    db[j] += sum;
  }
}

namespace squeeze_excite_detail {

inline void check(const char* op, const PoolShape& s, const SqueezeExciteDeviceWeights& w, int mid) {
  OFA_CHECK(s.channels <= w.channels_max && mid >= 1 && mid <= w.mid_max, op, "active sizes (", s.channels,
            " channels, ", mid, " mid) must be within the weights' (", w.channels_max, ", ", w.mid_max, ")");
}

// dlogits = h_sigmoid'(gate_logits) * (sum over pixels of dy * x), straight from the column totals.
struct GateGradFinish {
  const float* gate_logits;
  float* dlogits;
  int channels;
  __device__ void operator()(int n, int c, const double (&totals)[1]) const {
    const long long i = static_cast<long long>(n) * channels + c;
    dlogits[i] = activation_device::slope<Activation::hsigmoid>(gate_logits[i]) * float(totals[0]);
  }
};

// Scratch of the backward after the column partials: dlogits [N, c], dhidden [N, mid], dpooled [N, c].
struct BackwardScratch {
  double* partials;
  float* dlogits;
  float* dhidden;
  float* dpooled;
};

inline BackwardScratch carve(void* workspace, const PoolShape& s, int mid) {
  double* partials = static_cast<double*>(workspace);
  float* dlogits = reinterpret_cast<float*>(
      partials + columns::grid_for("squeeze_excite_backward", s.pixels, s.channels, s.batch).partial_count(1));
  float* dhidden = dlogits + static_cast<long long>(s.batch) * s.channels;
  return {partials, dlogits, dhidden, dhidden + static_cast<long long>(s.batch) * mid};
}

template <Activation A, Launcher L>
void linear_forward(const L& launcher, const float* in, const float* w, int ld, const float* bias, int rows,
                    int out_features, int in_features, float* pre, float* out) {
  constexpr int warps = 8;
  const long long outputs = static_cast<long long>(rows) * out_features;
  launcher.launch(small_linear_forward_kernel<A>, dim3(unsigned((outputs + warps - 1) / warps)), dim3(32 * warps), 0,
                  in, w, ld, bias, rows, out_features, in_features, pre, out);
}

template <Activation A, Launcher L>
void linear_input_backward(const L& launcher, const float* dout, const float* w, int ld, int rows, int out_features,
                           int in_features, const float* at, float* din) {
  constexpr int threads = 128;
  launcher.launch(small_linear_input_backward_kernel<A, threads>,
                  dim3(unsigned(ceil_div(in_features, threads)), unsigned(rows)), dim3(threads), 0, dout, w, ld, rows,
                  out_features, in_features, at, din);
}

template <Launcher L>
void linear_weight_backward(const L& launcher, const float* dout, const float* in, int rows, int out_features,
                            int in_features, float* dw, int ld, float* db) {
  constexpr int threads = 128;
  launcher.launch(small_linear_weight_backward_kernel<threads>,
                  dim3(unsigned(ceil_div(in_features + 1, threads)), unsigned(out_features)), dim3(threads), 0, dout,
                  in, rows, out_features, in_features, dw, ld, db);
}

}  // namespace squeeze_excite_detail

// Device bytes of scratch forward and backward need.
inline std::size_t squeeze_excite_workspace_bytes(const PoolShape& s, int mid) {
  return pool_workspace_bytes(s) +
         (2 * std::size_t(s.channels) + std::size_t(mid)) * std::size_t(s.batch) * sizeof(float);
}

// x contiguous [N, H*W, c]; y like x (may alias x only when no backward follows).
template <Launcher L>
void squeeze_excite_forward(const L& launcher, const float* x, const PoolShape& s, const SqueezeExciteDeviceWeights& w,
                            int mid, float* y, const SqueezeExciteDeviceSaved& saved, void* workspace) {
  using namespace squeeze_excite_detail;
  check("squeeze_excite_forward", s, w, mid);
  global_avg_pool_forward(launcher, x, s, saved.pooled, workspace);
  linear_forward<Activation::relu>(launcher, saved.pooled, w.reduce_weight, w.channels_max, w.reduce_bias, s.batch, mid,
                                   s.channels, nullptr, saved.hidden);
  linear_forward<Activation::hsigmoid>(launcher, saved.hidden, w.expand_weight, w.mid_max, w.expand_bias, s.batch,
                                       s.channels, mid, saved.gate_logits, saved.gate);
  channel_scale_forward(launcher, x, saved.gate, s, y);
}

// dx (overwritten, may alias dy) may be null; grads accumulate into the active slices.
template <Launcher L>
void squeeze_excite_backward(const L& launcher, const float* x, const PoolShape& s, const SqueezeExciteDeviceWeights& w,
                             int mid, const SqueezeExciteDeviceSaved& saved, const float* dy, float* dx,
                             const SqueezeExciteDeviceGrads& grads, void* workspace) {
  using namespace squeeze_excite_detail;
  const char* op = "squeeze_excite_backward";
  check(op, s, w, mid);
  pooling_detail::check_shape(op, s);
  const BackwardScratch scratch = carve(workspace, s, mid);
  columns::sum_columns<1>(launcher, columns::grid_for(op, s.pixels, s.channels, s.batch),
                          pooling_detail::ScaleGradTerms{x, saved.gate, dy, nullptr, s.channels},
                          GateGradFinish{saved.gate_logits, scratch.dlogits, s.channels}, scratch.partials);
  // The ReLU's slope from its output: hidden > 0 exactly where its input was.
  linear_input_backward<Activation::relu>(launcher, scratch.dlogits, w.expand_weight, w.mid_max, s.batch, s.channels,
                                          mid, saved.hidden, scratch.dhidden);
  linear_weight_backward(launcher, scratch.dlogits, saved.hidden, s.batch, s.channels, mid, grads.expand_weight,
                         w.mid_max, grads.expand_bias);
  linear_weight_backward(launcher, scratch.dhidden, saved.pooled, s.batch, mid, s.channels, grads.reduce_weight,
                         w.channels_max, grads.reduce_bias);
  if (dx == nullptr) return;
  linear_input_backward<Activation::none>(launcher, scratch.dhidden, w.reduce_weight, w.channels_max, s.batch, mid,
                                          s.channels, nullptr, scratch.dpooled);
  pooled_channel_scale_input_backward(launcher, dy, saved.gate, scratch.dpooled, s, dx);
}

}  // namespace ofa::cuda
