#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/partial_sums.cuh"
#include "kernels/error.h"

// The CUDA twin of kernels/ops/elastic_kernel.h, OFA's kernel transformation. The depthwise
// weight is stored once, [K_max, K_max, C_max]; the kernel of size k is the chain of steps
// from K_max down to k, each taking the centre t x t window of the larger kernel and mapping it
// per channel through a [t*t, t*t] matrix: out[a] = sum_b M[a, b] in[b].
//
// Channels are independent, so a block owns 32 of them (threadIdx.x) and walks the whole chain
// in shared memory, its taps spread over threadIdx.y. The matrices' gradients sum over every
// channel: each block writes its channels' share and a second pass adds the shares in a fixed
// order (partial_sums.cuh).

namespace ofa::cuda {

inline constexpr int kMaxElasticSteps = 4;

// sizes[0] = K_max > sizes[1] > ... > sizes[steps] = the active kernel size (steps = 0 at K_max).
struct ElasticKernelShape {
  int channels_max, channels, steps;
  int sizes[kMaxElasticSteps + 1];

  __host__ __device__ int k_max() const { return sizes[0]; }
  __host__ __device__ int kernel_size() const { return sizes[steps]; }
};

// One matrix per step (the first `steps` are read), in the order of ElasticKernelShape::sizes.
template <class Pointer>
struct ElasticTransforms {
  Pointer matrix[kMaxElasticSteps];
};

// From the CPU op's arguments: the elastic sizes from K_max down, the active kernel size and
// channel count, and the weight's C_max.
inline ElasticKernelShape elastic_kernel_shape(std::span<const std::int64_t> kernel_sizes, std::int64_t kernel_size,
                                               std::int64_t channels, std::int64_t channels_max) {
  const char* op = "cuda elastic kernel";
  const auto found = std::find(kernel_sizes.begin(), kernel_sizes.end(), kernel_size);
  OFA_CHECK(found != kernel_sizes.end(), op, "kernel size ", kernel_size, " is not an elastic kernel size");
  const auto steps = found - kernel_sizes.begin();
  OFA_CHECK(steps <= kMaxElasticSteps, op, "at most ", kMaxElasticSteps, " transformation steps, got ", steps);
  OFA_CHECK(channels > 0 && channels <= channels_max, op, "active channels ", channels, " must be in 1..",
            channels_max);
  ElasticKernelShape s{int(channels_max), int(channels), int(steps), {}};
  for (int i = 0; i <= s.steps; ++i) {
    OFA_CHECK(kernel_sizes[std::size_t(i)] % 2 == 1 && (i == 0 || kernel_sizes[std::size_t(i)] < s.sizes[i - 1]), op,
              "kernel sizes must be odd and strictly descending");
    s.sizes[i] = int(kernel_sizes[std::size_t(i)]);
  }
  return s;
}

inline constexpr int kElasticChannels = 32, kElasticRows = 8;

// window[q, lane] = the centre t x t window (t = sizes[step + 1]) of the step's source kernel:
// the weight's channel c for step 0, the previous step's result (in shared memory) after.
template <int Channels, int Rows>
__device__ __forceinline__ void gather_centre(const float* weight, const float* previous, float* window,
                                              const ElasticKernelShape& s, int step, int c) {
  const int t = s.sizes[step + 1], from = s.sizes[step], offset = (from - t) / 2;
  const int lane = int(threadIdx.x);
  for (int q = int(threadIdx.y); q < t * t; q += Rows) {
    const int tap = (q / t + offset) * from + q % t + offset;
    window[q * Channels + lane] = step > 0         ? previous[tap * Channels + lane]
                                  : c < s.channels ? weight[static_cast<long long>(tap) * s.channels_max + c]
                                                   : 0.0f;
  }
}

// out[a, lane] = sum_b M[a, b] in[b, lane] over taps x taps.
template <int Channels, int Rows>
__device__ __forceinline__ void apply_transform(const float* matrix, const float* in, float* out, int taps) {
  const int lane = int(threadIdx.x);
  for (int a = int(threadIdx.y); a < taps; a += Rows) {
    float sum = 0.0f;
    for (int b = 0; b < taps; ++b) sum = fmaf(__ldg(matrix + a * taps + b), in[b * Channels + lane], sum);
    out[a * Channels + lane] = sum;
  }
}

// effective[k, k, channels] (contiguous) = the kernel of size k of the weight's first channels.
template <int Channels, int Rows>
__global__ void __launch_bounds__(Channels* Rows)
    elastic_kernel_forward_kernel(const float* __restrict__ weight, ElasticTransforms<const float*> transforms,
                                  ElasticKernelShape s, float* __restrict__ effective) {
  OFA_DYNAMIC_SHARED(float, shared);
  const int taps_1 = s.steps > 0 ? s.sizes[1] * s.sizes[1] : 0;
  float* const window = shared;
  float* const result = shared + taps_1 * Channels;
  const int c = int(blockIdx.x) * Channels + int(threadIdx.x);
  for (int step = 0; step < s.steps; ++step) {
    gather_centre<Channels, Rows>(weight, result, window, s, step, c);
    __syncthreads();
    apply_transform<Channels, Rows>(transforms.matrix[step], window, result, s.sizes[step + 1] * s.sizes[step + 1]);
    __syncthreads();
  }
  if (c >= s.channels) return;
  const int k = s.kernel_size();
  for (int q = int(threadIdx.y); q < k * k; q += Rows)
    effective[q * s.channels + c] =
        s.steps > 0 ? result[q * Channels + int(threadIdx.x)] : weight[static_cast<long long>(q) * s.channels_max + c];
}

// Where step `step`'s share of the matrix gradients starts in a block's partials, and (at
// step = steps) how many floats a block writes.
__host__ __device__ inline int elastic_partial_offset(const ElasticKernelShape& s, int step) {
  int offset = 0;
  for (int i = 0; i < step; ++i) offset += s.sizes[i + 1] * s.sizes[i + 1] * s.sizes[i + 1] * s.sizes[i + 1];
  return offset;
}

// Backward through the chain for the block's channels: dweight's centre window accumulates the
// gradient of the taps the chain read, and partials[block, step, a, b] = sum over the block's
// channels of d_out[a] in[b], the block's share of dM for each step.
template <int Channels, int Rows>
__global__ void __launch_bounds__(Channels* Rows)
    elastic_kernel_backward_kernel(const float* __restrict__ weight, ElasticTransforms<const float*> transforms,
                                   ElasticKernelShape s, const float* __restrict__ d_effective,
                                   float* __restrict__ dweight, float* __restrict__ partials) {
  OFA_DYNAMIC_SHARED(float, shared);
  const int lane = int(threadIdx.x), row = int(threadIdx.y), tid = row * Channels + lane;
  const int c = int(blockIdx.x) * Channels + lane;
  const bool has_channel = c < s.channels;
  const int k = s.kernel_size();
  if (s.steps == 0) {  // the weight itself: no shared memory, no barrier
    if (has_channel)
      for (int q = row; q < k * k; q += Rows)
        dweight[static_cast<long long>(q) * s.channels_max + c] += d_effective[q * s.channels + c];
    return;
  }

  // Shared memory: every step's input window (the forward pass recomputed), then the result of
  // one step, then two gradient buffers, each holding up to the first step's taps.
  const int taps_1 = s.sizes[1] * s.sizes[1];
  float* inputs[kMaxElasticSteps];
  float* next = shared;
  for (int step = 0; step < s.steps; ++step) {
    inputs[step] = next;
    next += s.sizes[step + 1] * s.sizes[step + 1] * Channels;
  }
  float* const result = next;
  float* grad = result + taps_1 * Channels;
  float* other = grad + taps_1 * Channels;

  for (int step = 0; step < s.steps; ++step) {
    gather_centre<Channels, Rows>(weight, result, inputs[step], s, step, c);
    __syncthreads();
    if (step + 1 == s.steps) break;
    apply_transform<Channels, Rows>(transforms.matrix[step], inputs[step], result,
                                    s.sizes[step + 1] * s.sizes[step + 1]);
    __syncthreads();
  }
  for (int q = row; q < k * k; q += Rows)
    grad[q * Channels + lane] = has_channel ? d_effective[q * s.channels + c] : 0.0f;
  __syncthreads();

  float* const block_partials = partials + blockIdx.x * static_cast<long long>(elastic_partial_offset(s, s.steps));
  for (int step = s.steps - 1; step >= 0; --step) {
    const float* const m = transforms.matrix[step];
    const int t = s.sizes[step + 1], taps = t * t, from = s.sizes[step], offset = (from - t) / 2;
    const float* const in = inputs[step];
    // dM[a, b] += sum_c d_out[a, c] in[b, c]; absent channels hold zeros.
    float* const step_partials = block_partials + elastic_partial_offset(s, step);
    for (int e = tid; e < taps * taps; e += Channels * Rows) {
      const float* const da = grad + (e / taps) * Channels;
      const float* const ib = in + (e % taps) * Channels;
      float sum = 0.0f;
      for (int i = 0; i < Channels; ++i) sum = fmaf(da[i], ib[i], sum);
      step_partials[e] = sum;
    }
    // d_in[b] = sum_a M[a, b] d_out[a], the gradient of the source's centre window; the rest of
    // the source was not read and gets none.
    for (int q = row; q < from * from; q += Rows) {
      const int u = q / from - offset, v = q % from - offset;
      const bool centre = u >= 0 && u < t && v >= 0 && v < t;
      float sum = 0.0f;
      if (centre)
        for (int a = 0; a < taps; ++a) sum = fmaf(__ldg(m + a * taps + u * t + v), grad[a * Channels + lane], sum);
      if (step > 0)
        other[q * Channels + lane] = sum;
      else if (centre && has_channel)
        dweight[static_cast<long long>(q) * s.channels_max + c] += sum;
    }
    __syncthreads();
    float* const swap = grad;
    grad = other;
    other = swap;
  }
}

// Floats of workspace elastic_kernel_backward needs.
inline std::size_t elastic_kernel_backward_workspace(const ElasticKernelShape& s) {
  return std::size_t(ceil_div(s.channels, kElasticChannels)) * std::size_t(elastic_partial_offset(s, s.steps));
}

inline std::size_t elastic_kernel_shared_bytes(const ElasticKernelShape& s, int buffers) {
  return s.steps > 0 ? sizeof(float) * std::size_t(buffers * s.sizes[1] * s.sizes[1] * kElasticChannels) : 0;
}

// effective: contiguous [k, k, channels], overwritten.
template <Launcher L>
void elastic_kernel_forward(const L& launcher, const float* weight, const ElasticTransforms<const float*>& transforms,
                            const ElasticKernelShape& s, float* effective) {
  launcher.launch(elastic_kernel_forward_kernel<kElasticChannels, kElasticRows>,
                  dim3(unsigned(ceil_div(s.channels, kElasticChannels))), dim3(kElasticChannels, kElasticRows),
                  elastic_kernel_shared_bytes(s, 2), weight, transforms, s, effective);
}

// d_effective: contiguous [k, k, channels]. dweight (max-size, like weight) and the matrices of
// the steps taken accumulate, the latter through `workspace` (elastic_kernel_backward_workspace
// floats) in a fixed order; the matrices of steps not taken are neither read nor written.
template <Launcher L>
void elastic_kernel_backward(const L& launcher, const float* weight, const ElasticTransforms<const float*>& transforms,
                             const ElasticKernelShape& s, const float* d_effective, float* dweight,
                             const ElasticTransforms<float*>& dtransforms, float* workspace) {
  const int groups = ceil_div(s.channels, kElasticChannels);
  // Every step's input is at most the first step's size: steps + 3 buffers of it cover all.
  launcher.launch(elastic_kernel_backward_kernel<kElasticChannels, kElasticRows>, dim3(unsigned(groups)),
                  dim3(kElasticChannels, kElasticRows), elastic_kernel_shared_bytes(s, s.steps + 3), weight, transforms,
                  s, d_effective, dweight, workspace);
  const int block_floats = elastic_partial_offset(s, s.steps);
  for (int step = 0; step < s.steps; ++step) {
    const int taps = s.sizes[step + 1] * s.sizes[step + 1];
    sum_partials(launcher, PartialSums{workspace + elastic_partial_offset(s, step), block_floats, groups, taps, taps},
                 dtransforms.matrix[step], taps, true);
  }
}

}  // namespace ofa::cuda
