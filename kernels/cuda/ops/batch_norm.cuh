#pragma once

#include <cstddef>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/activation.cuh"
#include "kernels/cuda/ops/column_sums.cuh"
#include "kernels/cuda/ops/elementwise.cuh"
#include "kernels/error.h"
#include "kernels/ops/batch_norm.h"

// Batch norm fused with an activation on the GPU, as kernels/ops/batch_norm.h: x is contiguous
// [rows, channels] (NHWC with rows = N*H*W), the parameters are device pointers to the max-size
// [C_max] tensors of which the op reads and updates the prefix [:channels], and saved mean and
// invstd are [channels]. Statistics and gradient sums are deterministic two-stage column sums
// (column_sums.cuh) in double, shifted by row 0 as on the CPU.

namespace ofa::cuda {

struct BatchNormDeviceParams {
  const float* gamma;
  const float* beta;
  float* running_mean;
  float* running_var;
};

struct BatchNormDeviceGrads {
  float* gamma;  // accumulates
  float* beta;   // accumulates
};

struct BatchNormDeviceSaved {
  float* mean;
  float* invstd;  // 1 / sqrt(biased batch variance + eps)
};

namespace batch_norm_detail {

inline void check_sizes(const char* op, long long rows, int channels) {
  OFA_CHECK(rows >= 1 && channels >= 1, op, "needs at least one row and one channel, got ", rows, " x ", channels);
}

// The pre-activation both directions use, fused explicitly so that the backward's activation
// slope sees bit for bit the value the forward activated, whatever nvcc contracts elsewhere.
__device__ __forceinline__ float pre_activation(float x, float mean, float scale, float beta) {
  return fmaf(x - mean, scale, beta);
}

// Sums of x - x[row 0] and of its square.
struct MomentTerms {
  const float* x;
  struct Channel {
    const float* x;
    float shift;
    __device__ void operator()(long long e, float (&t)[2]) const {
      const float d = x[e] - shift;
      t[0] = d;
      t[1] = d * d;
    }
  };
  __device__ Channel for_channel(int, int c) const { return {x, x[c]}; }
};

// Batch mean and biased variance from the shifted sums, the running statistics updated with
// the unbiased variance, all in double as on the CPU.
struct MomentFinish {
  const float* x;
  long long rows;
  BatchNormDeviceParams params;
  BatchNormDeviceSaved saved;
  BatchNormConfig config;
  __device__ void operator()(int, int c, const double (&totals)[2]) const {
    const double count = double(rows);
    const double shifted_mean = totals[0] / count;
    const double mean = double(x[c]) + shifted_mean;
    const double biased = totals[1] / count - shifted_mean * shifted_mean;
    const double variance = biased > 0.0 ? biased : 0.0;
    const double keep = 1.0 - double(config.momentum);
    params.running_mean[c] = float(keep * params.running_mean[c] + config.momentum * mean);
    params.running_var[c] = float(keep * params.running_var[c] + config.momentum * variance * (count / (count - 1.0)));
    saved.mean[c] = float(mean);
    saved.invstd[c] = float(1.0 / sqrt(variance + double(config.eps)));
  }
};

// dz = dy * act'(z) and dz * (x - mean), with z recomputed from x.
template <Activation A>
struct GradientTerms {
  const float* x;
  const float* dy;
  const float* gamma;
  const float* beta;
  BatchNormDeviceSaved saved;
  struct Channel {
    const float* x;
    const float* dy;
    float mean, scale, beta;
    __device__ void operator()(long long e, float (&t)[2]) const {
      const float in = x[e];
      const float dz = dy[e] * activation_device::slope<A>(pre_activation(in, mean, scale, beta));
      t[0] = dz;
      t[1] = dz * (in - mean);
    }
  };
  __device__ Channel for_channel(int, int c) const {
    return {x, dy, saved.mean[c], saved.invstd[c] * gamma[c], beta[c]};
  }
};

// dgamma and dbeta accumulate; the input gradient's per-channel coefficients, as the CPU op's
//   dx = scale * dz + centred_coef * (x - mean) + offset,
// go to `coefficients` ([2][channels]) for the dx pass.
struct GradientFinish {
  long long rows;
  int channels;
  const float* gamma;
  BatchNormDeviceSaved saved;
  BatchNormDeviceGrads grads;
  float* coefficients;
  __device__ void operator()(int, int c, const double (&totals)[2]) const {
    const float invstd = saved.invstd[c];
    const double scale = double(invstd * gamma[c]);
    const double dbeta = totals[0];
    const double dgamma = totals[1] * invstd;
    grads.beta[c] += float(dbeta);
    grads.gamma[c] += float(dgamma);
    coefficients[c] = float(-scale * invstd * dgamma / double(rows));
    coefficients[channels + c] = float(-scale * dbeta / double(rows));
  }
};

}  // namespace batch_norm_detail

// y = act((x - mean) * invstd * gamma + beta). Training passes the saved batch statistics;
// evaluation (FromVariance) passes the running mean and variance, and invstd is computed here.
template <Activation A, int V, bool FromVariance>
__global__ void batch_norm_normalise_kernel(const float* x, long long rows, int channels,
                                            const float* __restrict__ mean, const float* __restrict__ spread,
                                            const float* __restrict__ gamma, const float* __restrict__ beta, float eps,
                                            float* y) {
  const int units = channels / V;
  const elementwise::RowLoop r = elementwise::row_loop(units);
  if (r.first >= r.stride) return;
  float m[V], scale[V], shift[V];
  OFA_UNROLL
  for (int i = 0; i < V; ++i) {
    const int c = r.unit * V + i;
    const float invstd = FromVariance ? float(1.0 / sqrt(double(spread[c]) + double(eps))) : spread[c];
    m[i] = mean[c];
    scale[i] = invstd * gamma[c];
    shift[i] = beta[c];
  }
  for (long long u = r.first; u < rows * units; u += r.stride) {
    elementwise::Floats<V> v = elementwise::load<V>(x + u * V);
    OFA_UNROLL
    for (int i = 0; i < V; ++i)
      v.v[i] = activation_device::apply<A>(batch_norm_detail::pre_activation(v.v[i], m[i], scale[i], shift[i]));
    elementwise::store<V>(y + u * V, v);
  }
}

template <Activation A, int V>
__global__ void batch_norm_input_backward_kernel(const float* x, const float* dy, long long rows, int channels,
                                                 BatchNormDeviceSaved saved, const float* __restrict__ gamma,
                                                 const float* __restrict__ beta, const float* __restrict__ coefficients,
                                                 float* dx) {
  const int units = channels / V;
  const elementwise::RowLoop r = elementwise::row_loop(units);
  if (r.first >= r.stride) return;
  float m[V], scale[V], shift[V], centred[V], offset[V];
  OFA_UNROLL
  for (int i = 0; i < V; ++i) {
    const int c = r.unit * V + i;
    m[i] = saved.mean[c];
    scale[i] = saved.invstd[c] * gamma[c];
    shift[i] = beta[c];
    centred[i] = coefficients[c];
    offset[i] = coefficients[channels + c];
  }
  for (long long u = r.first; u < rows * units; u += r.stride) {
    const elementwise::Floats<V> in = elementwise::load<V>(x + u * V);
    elementwise::Floats<V> g = elementwise::load<V>(dy + u * V);
    OFA_UNROLL
    for (int i = 0; i < V; ++i) {
      const float dz =
          g.v[i] * activation_device::slope<A>(batch_norm_detail::pre_activation(in.v[i], m[i], scale[i], shift[i]));
      g.v[i] = scale[i] * dz + centred[i] * (in.v[i] - m[i]) + offset[i];
    }
    elementwise::store<V>(dx + u * V, g);
  }
}

namespace batch_norm_detail {

template <Launcher L, bool FromVariance>
void normalise(const L& launcher, Activation activation, const float* x, long long rows, int channels,
               const float* mean, const float* spread, const float* gamma, const float* beta, float eps, float* y) {
  const int width = elementwise::vector_width(channels, {x, y});
  activation_math::dispatch(activation, [&](auto kind) {
    elementwise::with_vector_width(width, [&](auto v) {
      constexpr int V = decltype(v)::value;
      const long long units = channels / V;
      launcher.launch(batch_norm_normalise_kernel<decltype(kind)::value, V, FromVariance>,
                      dim3(elementwise::grid_stride_blocks(rows * units, units)), dim3(elementwise::kThreads), 0, x,
                      rows, channels, mean, spread, gamma, beta, eps, y);
    });
  });
}

}  // namespace batch_norm_detail

// Device bytes of scratch the training forward and the backward need.
inline std::size_t batch_norm_workspace_bytes(long long rows, int channels) {
  return columns::grid_for("batch_norm_workspace_bytes", rows, channels, 1).partial_count(2) * sizeof(double) +
         2 * std::size_t(channels) * sizeof(float);
}

// Normalises with the batch statistics (biased variance) and updates running_mean /
// running_var[:channels] with the unbiased variance. Needs >= 2 rows; y may alias x.
template <Launcher L>
void batch_norm_train_forward(const L& launcher, const float* x, long long rows, int channels,
                              const BatchNormDeviceParams& params, Activation activation, float* y,
                              const BatchNormDeviceSaved& saved, const BatchNormConfig& config, void* workspace) {
  const char* op = "batch_norm_train_forward";
  batch_norm_detail::check_sizes(op, rows, channels);
  OFA_CHECK(rows >= 2, op, "training needs more than one value per channel, got ", rows, " rows");
  OFA_CHECK(config.momentum >= 0.0f && config.momentum <= 1.0f, op, "momentum ", config.momentum, " must be in [0, 1]");
  OFA_CHECK(config.eps > 0.0f, op, "eps ", config.eps, " must be positive");
  columns::sum_columns<2>(launcher, columns::grid_for(op, rows, channels, 1), batch_norm_detail::MomentTerms{x},
                          batch_norm_detail::MomentFinish{x, rows, params, saved, config},
                          static_cast<double*>(workspace));
  batch_norm_detail::normalise<L, false>(launcher, activation, x, rows, channels, saved.mean, saved.invstd,
                                         params.gamma, params.beta, config.eps, y);
}

// Normalises with the running statistics; nothing is updated. y may alias x.
template <Launcher L>
void batch_norm_eval_forward(const L& launcher, const float* x, long long rows, int channels,
                             const BatchNormDeviceParams& params, Activation activation, float* y,
                             float eps = kBatchNormEps) {
  const char* op = "batch_norm_eval_forward";
  batch_norm_detail::check_sizes(op, rows, channels);
  OFA_CHECK(eps > 0.0f, op, "eps ", eps, " must be positive");
  batch_norm_detail::normalise<L, true>(launcher, activation, x, rows, channels, params.running_mean,
                                        params.running_var, params.gamma, params.beta, eps, y);
}

// Backward of batch_norm_train_forward: dx (overwritten, may alias dy) may be null;
// grads.gamma / grads.beta[:channels] accumulate.
template <Launcher L>
void batch_norm_backward(const L& launcher, const float* x, long long rows, int channels,
                         const BatchNormDeviceParams& params, const BatchNormDeviceSaved& saved, Activation activation,
                         const float* dy, float* dx, const BatchNormDeviceGrads& grads, void* workspace) {
  const char* op = "batch_norm_backward";
  batch_norm_detail::check_sizes(op, rows, channels);
  const columns::Grid grid = columns::grid_for(op, rows, channels, 1);
  double* partials = static_cast<double*>(workspace);
  float* coefficients = reinterpret_cast<float*>(partials + grid.partial_count(2));
  activation_math::dispatch(activation, [&](auto kind) {
    constexpr Activation A = decltype(kind)::value;
    columns::sum_columns<2>(
        launcher, grid, batch_norm_detail::GradientTerms<A>{x, dy, params.gamma, params.beta, saved},
        batch_norm_detail::GradientFinish{rows, channels, params.gamma, saved, grads, coefficients}, partials);
    if (dx == nullptr) return;
    elementwise::with_vector_width(elementwise::vector_width(channels, {x, dy, dx}), [&](auto v) {
      constexpr int V = decltype(v)::value;
      const long long units = channels / V;
      launcher.launch(batch_norm_input_backward_kernel<A, V>,
                      dim3(elementwise::grid_stride_blocks(rows * units, units)), dim3(elementwise::kThreads), 0, x, dy,
                      rows, channels, saved, params.gamma, params.beta, coefficients, dx);
    });
  });
}

}  // namespace ofa::cuda
