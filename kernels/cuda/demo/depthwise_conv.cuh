#pragma once

#include <cstddef>

#include "kernels/cuda/launch.h"

namespace ofa::cuda::demo {

// An NHWC depthwise convolution, square kernel, zero padding kernel/2.
struct DepthwiseShape {
  int batch, height, width, channels, kernel, stride;
  __host__ __device__ int out_height() const { return (height - 1) / stride + 1; }
  __host__ __device__ int out_width() const { return (width - 1) / stride + 1; }
};

// y[n,i,j,c] = sum_{u,v} x[n, i*stride + u - kernel/2, j*stride + v - kernel/2, c] w[u,v,c].
// A block computes a tile x tile patch of outputs for Channels channels (threadIdx.x, so
// global loads are contiguous in NHWC). It stages the input patch with its halo and the
// weights in dynamic shared memory, [position][channel], then each thread computes outputs of
// its channel. Every thread reaches the barrier; only the computation skips absent channels.
template <int Channels>
__global__ void depthwise_conv_kernel(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
                                      DepthwiseShape s, int tile) {
  OFA_DYNAMIC_SHARED(float, shared);
  const int span = (tile - 1) * s.stride + s.kernel;  // input rows (and columns) a patch reads
  float* const patch = shared;
  float* const weights = shared + span * span * Channels;
  const int groups = ceil_div(s.channels, Channels);
  const int n = int(blockIdx.z) / groups, c = int(blockIdx.z) % groups * Channels + int(threadIdx.x);
  const int out_i0 = int(blockIdx.y) * tile, out_j0 = int(blockIdx.x) * tile;
  const int in_i0 = out_i0 * s.stride - s.kernel / 2, in_j0 = out_j0 * s.stride - s.kernel / 2;
  const bool has_channel = c < s.channels;

  for (int p = int(threadIdx.y); p < span * span; p += int(blockDim.y)) {
    const int i = in_i0 + p / span, j = in_j0 + p % span;
    const bool inside = has_channel && i >= 0 && i < s.height && j >= 0 && j < s.width;
    patch[p * Channels + int(threadIdx.x)] = inside ? x[((n * s.height + i) * s.width + j) * s.channels + c] : 0.0f;
  }
  for (int t = int(threadIdx.y); t < s.kernel * s.kernel; t += int(blockDim.y))
    weights[t * Channels + int(threadIdx.x)] = has_channel ? w[t * s.channels + c] : 0.0f;
  __syncthreads();
  if (!has_channel) return;

  const int out_h = s.out_height(), out_w = s.out_width();
  for (int p = int(threadIdx.y); p < tile * tile; p += int(blockDim.y)) {
    const int oi = out_i0 + p / tile, oj = out_j0 + p % tile;
    if (oi >= out_h || oj >= out_w) continue;
    const float* const window = patch + ((p / tile) * s.stride * span + (p % tile) * s.stride) * Channels;
    float sum = 0.0f;
    for (int u = 0; u < s.kernel; ++u)
      for (int v = 0; v < s.kernel; ++v)
        sum = fmaf(window[(u * span + v) * Channels + int(threadIdx.x)],
                   weights[(u * s.kernel + v) * Channels + int(threadIdx.x)], sum);
    y[((n * out_h + oi) * out_w + oj) * s.channels + c] = sum;
  }
}

// Output tiles of 8 x 8 (4 x 4 at stride 2) keep the staged patch under 48 KiB for kernel 7.
template <Launcher L>
void depthwise_conv(const L& launcher, const float* x, const float* w, float* y, const DepthwiseShape& s) {
  constexpr int channels = 32, rows = 8;
  const int tile = s.stride == 1 ? 8 : 4;
  const int span = (tile - 1) * s.stride + s.kernel;
  const std::size_t shared_bytes = sizeof(float) * std::size_t((span * span + s.kernel * s.kernel) * channels);
  const dim3 grid(ceil_div(s.out_width(), tile), ceil_div(s.out_height(), tile),
                  s.batch * ceil_div(s.channels, channels));
  launcher.launch(depthwise_conv_kernel<channels>, grid, dim3(channels, rows), shared_bytes, x, w, y, s, tile);
}

}  // namespace ofa::cuda::demo
