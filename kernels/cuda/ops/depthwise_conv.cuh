#pragma once

#include <algorithm>
#include <cstddef>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/elastic_kernel.cuh"
#include "kernels/cuda/ops/partial_sums.cuh"
#include "kernels/error.h"

// The CUDA twin of kernels/ops/depthwise_conv.h: a depthwise k x k convolution, "same" padding
// k/2, on NHWC activations,
//   y[n, i, j, c] = sum_{u,v} x[n, i*stride + u - k/2, j*stride + v - k/2, c] * kernel[u, v, c],
// x [N,H,W,C] and y [N,Ho,Wo,C] contiguous. The kernel's taps are tap_stride floats apart, so the
// [:, :, :C] prefix of a max-size [K,K,C_max] weight (tap_stride C_max) is read in place, like a
// contiguous effective kernel (tap_stride C).
//
// Every kernel here gives a block 32 channels (threadIdx.x, so global loads are 128-byte runs of
// NHWC) and a square tile of pixels, and stages the input window the tile reads, with its halo
// and zeros outside the image, plus the taps, in shared memory [position][channel].

namespace ofa::cuda {

inline constexpr int kDepthwiseChannels = 32, kDepthwiseRows = 8;
// The weight gradient keeps ceil(k*k / rows) taps per thread in registers.
inline constexpr int kDepthwiseMaxKernel = 7;
inline constexpr int kDepthwiseTapsPerThread = ceil_div(kDepthwiseMaxKernel * kDepthwiseMaxKernel, kDepthwiseRows);

struct DepthwiseConvShape {
  int batch, height, width, channels, kernel, stride;

  __host__ __device__ int pad() const { return kernel / 2; }
  __host__ __device__ int out_height() const { return (height - 1) / stride + 1; }
  __host__ __device__ int out_width() const { return (width - 1) / stride + 1; }
  // Output tiles: 8 x 8 (4 x 4 at stride 2, whose input window is twice as wide) keep the
  // staged window under 48 KiB for kernel 7.
  __host__ __device__ int tile() const { return stride == 1 ? 8 : 4; }
  __host__ __device__ int span() const { return (tile() - 1) * stride + kernel; }  // input rows a tile reads
  __host__ __device__ int tiles_high() const { return (out_height() + tile() - 1) / tile(); }
  __host__ __device__ int tiles_wide() const { return (out_width() + tile() - 1) / tile(); }
};

inline void check_depthwise_conv(const char* op, const DepthwiseConvShape& s, int tap_stride) {
  OFA_CHECK(s.batch > 0 && s.height > 0 && s.width > 0 && s.channels > 0 && tap_stride >= s.channels, op,
            "needs positive sizes and a tap stride of at least the channels, got batch ", s.batch, ", ", s.height, "x",
            s.width, ", channels ", s.channels, ", tap stride ", tap_stride);
  OFA_CHECK(s.kernel > 0 && s.kernel % 2 == 1 && s.kernel <= kDepthwiseMaxKernel && (s.stride == 1 || s.stride == 2),
            op, "needs an odd kernel up to ", kDepthwiseMaxKernel, " and stride 1 or 2, got kernel ", s.kernel,
            ", stride ", s.stride);
  OFA_CHECK(s.batch * ceil_div(s.channels, kDepthwiseChannels) <= 65535, op, "batch ", s.batch, " x channel groups ",
            ceil_div(s.channels, kDepthwiseChannels), " exceeds the grid's z extent");
}

__host__ __device__ constexpr int floor_div(int a, int b) { return a >= 0 ? a / b : -((b - 1 - a) / b); }

// window[(r * cols + q) * Channels + lane] = src[n, row0 + r, col0 + q, c] for the block's rows
// (threadIdx.y strides), zero outside [0, height) x [0, width) and for absent channels.
template <int Channels, int Rows>
__device__ __forceinline__ void stage_window(const float* src, float* window, int n, int c, bool has_channel, int row0,
                                             int col0, int rows, int cols, int height, int width, int channels) {
  for (int p = int(threadIdx.y); p < rows * cols; p += Rows) {
    const int i = row0 + p / cols, j = col0 + p % cols;
    const bool inside = has_channel && i >= 0 && i < height && j >= 0 && j < width;
    window[p * Channels + int(threadIdx.x)] =
        inside ? src[((static_cast<long long>(n) * height + i) * width + j) * channels + c] : 0.0f;
  }
}

template <int Channels, int Rows>
__device__ __forceinline__ void stage_taps(const float* kernel, int tap_stride, float* taps, int count, int c,
                                           bool has_channel) {
  for (int t = int(threadIdx.y); t < count; t += Rows)
    taps[t * Channels + int(threadIdx.x)] = has_channel ? kernel[static_cast<long long>(t) * tap_stride + c] : 0.0f;
}

// One output tile of one image's channel group per block: grid (tiles wide, tiles high,
// batch x channel groups).
template <int Channels, int Rows>
__global__ void __launch_bounds__(Channels* Rows)
    depthwise_conv_forward_kernel(const float* __restrict__ x, const float* __restrict__ kernel, int tap_stride,
                                  float* __restrict__ y, DepthwiseConvShape s) {
  OFA_DYNAMIC_SHARED(float, shared);
  const int tile = s.tile(), span = s.span(), lane = int(threadIdx.x);
  float* const window = shared;
  float* const taps = shared + span * span * Channels;
  const int groups = ceil_div(s.channels, Channels);
  const int n = int(blockIdx.z) / groups, c = int(blockIdx.z) % groups * Channels + lane;
  const bool has_channel = c < s.channels;
  const int out_i0 = int(blockIdx.y) * tile, out_j0 = int(blockIdx.x) * tile;
  stage_window<Channels, Rows>(x, window, n, c, has_channel, out_i0 * s.stride - s.pad(), out_j0 * s.stride - s.pad(),
                               span, span, s.height, s.width, s.channels);
  stage_taps<Channels, Rows>(kernel, tap_stride, taps, s.kernel * s.kernel, c, has_channel);
  __syncthreads();
  if (!has_channel) return;

  for (int p = int(threadIdx.y); p < tile * tile; p += Rows) {
    const int oi = out_i0 + p / tile, oj = out_j0 + p % tile;
    if (oi >= s.out_height() || oj >= s.out_width()) continue;
    const float* const corner = window + ((p / tile) * s.stride * span + (p % tile) * s.stride) * Channels + lane;
    float sum = 0.0f;
    for (int u = 0; u < s.kernel; ++u)
      for (int v = 0; v < s.kernel; ++v)
        sum = fmaf(corner[(u * span + v) * Channels], taps[(u * s.kernel + v) * Channels + lane], sum);
    y[((static_cast<long long>(n) * s.out_height() + oi) * s.out_width() + oj) * s.channels + c] = sum;
  }
}

// dx tiles are 8 x 8 at either stride; the dy rows they read.
inline constexpr int kDepthwiseDataTile = 8;
__host__ __device__ inline int depthwise_data_span(const DepthwiseConvShape& s) {
  return (kDepthwiseDataTile + s.kernel + s.stride - 3) / s.stride + 1;
}

// dx[n, h, w, c] = sum over the taps (u, v) and outputs (i, j) with h = i*stride + u - pad (and
// likewise w) of dy[n, i, j, c] * kernel[u, v, c]. A block stages the dy window its dx tile
// reads: from row floor((h0 + pad - k + 1) / stride), so that every (h + pad - u) - stride * row0
// is a non-negative offset into it, a multiple of the stride exactly where an output exists.
template <int Channels, int Rows>
__global__ void __launch_bounds__(Channels* Rows)
    depthwise_conv_backward_data_kernel(const float* __restrict__ dy, const float* __restrict__ kernel, int tap_stride,
                                        float* __restrict__ dx, DepthwiseConvShape s) {
  OFA_DYNAMIC_SHARED(float, shared);
  constexpr int tile = kDepthwiseDataTile;
  const int span = depthwise_data_span(s), lane = int(threadIdx.x);
  float* const window = shared;
  float* const taps = shared + span * span * Channels;
  const int groups = ceil_div(s.channels, Channels);
  const int n = int(blockIdx.z) / groups, c = int(blockIdx.z) % groups * Channels + lane;
  const bool has_channel = c < s.channels;
  const int h0 = int(blockIdx.y) * tile, w0 = int(blockIdx.x) * tile;
  const int row0 = floor_div(h0 + s.pad() - s.kernel + 1, s.stride);
  const int col0 = floor_div(w0 + s.pad() - s.kernel + 1, s.stride);
  stage_window<Channels, Rows>(dy, window, n, c, has_channel, row0, col0, span, span, s.out_height(), s.out_width(),
                               s.channels);
  stage_taps<Channels, Rows>(kernel, tap_stride, taps, s.kernel * s.kernel, c, has_channel);
  __syncthreads();
  if (!has_channel) return;

  for (int p = int(threadIdx.y); p < tile * tile; p += Rows) {
    const int h = h0 + p / tile, w = w0 + p % tile;
    if (h >= s.height || w >= s.width) continue;
    float sum = 0.0f;
    for (int u = 0; u < s.kernel; ++u) {
      const int a = h + s.pad() - u - s.stride * row0;
      if (a % s.stride != 0) continue;
      for (int v = 0; v < s.kernel; ++v) {
        const int b = w + s.pad() - v - s.stride * col0;
        if (b % s.stride != 0) continue;
        sum = fmaf(window[((a / s.stride) * span + b / s.stride) * Channels + lane],
                   taps[(u * s.kernel + v) * Channels + lane], sum);
      }
    }
    dx[((static_cast<long long>(n) * s.height + h) * s.width + w) * s.channels + c] = sum;
  }
}

// First stage of dkernel: partials[chunk, u, v, c] = sum over the chunk's output tiles (of every
// image; grid (chunks, channel groups)) of dy[n, i, j, c] * x[n, i*stride + u - pad, ..., c]. A
// block stages one tile's input window and dy at a time and each thread keeps its taps' sums
// (taps row, row + Rows, ...) in registers across the chunk.
template <int Channels, int Rows, int TapsPerThread>
__global__ void __launch_bounds__(Channels* Rows)
    depthwise_conv_kernel_partials_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                          float* __restrict__ partials, DepthwiseConvShape s,
                                          long long tiles_per_chunk) {
  OFA_DYNAMIC_SHARED(float, shared);
  const int tile = s.tile(), span = s.span(), lane = int(threadIdx.x), row = int(threadIdx.y);
  const int taps = s.kernel * s.kernel;
  float* const window = shared;
  float* const grad = shared + span * span * Channels;
  const int c = int(blockIdx.y) * Channels + lane;
  const bool has_channel = c < s.channels;
  const long long tiles_per_image = static_cast<long long>(s.tiles_high()) * s.tiles_wide();
  const long long begin = blockIdx.x * tiles_per_chunk;
  const long long end = min(begin + tiles_per_chunk, s.batch * tiles_per_image);

  float sums[TapsPerThread] = {};
  for (long long item = begin; item < end; ++item) {
    const int n = int(item / tiles_per_image), t = int(item % tiles_per_image);
    const int out_i0 = t / s.tiles_wide() * tile, out_j0 = t % s.tiles_wide() * tile;
    stage_window<Channels, Rows>(x, window, n, c, has_channel, out_i0 * s.stride - s.pad(), out_j0 * s.stride - s.pad(),
                                 span, span, s.height, s.width, s.channels);
    stage_window<Channels, Rows>(dy, grad, n, c, has_channel, out_i0, out_j0, tile, tile, s.out_height(), s.out_width(),
                                 s.channels);
    __syncthreads();
    OFA_UNROLL
    for (int r = 0; r < TapsPerThread; ++r) {
      const int tap = row + r * Rows;
      if (tap >= taps) break;
      const float* const corner = window + ((tap / s.kernel) * span + tap % s.kernel) * Channels + lane;
      float sum = sums[r];
      for (int p = 0; p < tile * tile; ++p)
        sum = fmaf(corner[((p / tile) * s.stride * span + (p % tile) * s.stride) * Channels], grad[p * Channels + lane],
                   sum);
      sums[r] = sum;
    }
    __syncthreads();  // before the next tile overwrites the staged windows
  }
  if (!has_channel) return;
  for (int r = 0; r < TapsPerThread && row + r * Rows < taps; ++r)
    partials[(blockIdx.x * static_cast<long long>(taps) + row + r * Rows) * s.channels + c] = sums[r];
}

inline std::size_t depthwise_shared_bytes(int positions, int taps) {
  return sizeof(float) * std::size_t((positions + taps) * kDepthwiseChannels);
}

// Chunks of output tiles (over the whole batch) for the kernel-gradient reduction.
inline Chunking depthwise_kernel_chunks(const DepthwiseConvShape& s) {
  const long long tiles = static_cast<long long>(s.batch) * s.tiles_high() * s.tiles_wide();
  return chunk_evenly(tiles, std::max(1, kReductionBlocks / ceil_div(s.channels, kDepthwiseChannels)));
}

// Floats of workspace depthwise_conv_backward needs.
inline std::size_t depthwise_conv_backward_workspace(const DepthwiseConvShape& s) {
  return std::size_t(depthwise_kernel_chunks(s).count) * std::size_t(s.kernel * s.kernel) * std::size_t(s.channels);
}

// dkernel[u, v, c] (taps tap_stride apart) = (accumulate ? dkernel : 0) + sum over the batch,
// through `workspace` in a fixed order.
template <Launcher L>
void depthwise_conv_kernel_gradient(const L& launcher, const float* x, const float* dy, float* dkernel, int tap_stride,
                                    bool accumulate, float* workspace, const DepthwiseConvShape& s) {
  const Chunking chunks = depthwise_kernel_chunks(s);
  const int taps = s.kernel * s.kernel;
  launcher.launch(depthwise_conv_kernel_partials_kernel<kDepthwiseChannels, kDepthwiseRows, kDepthwiseTapsPerThread>,
                  dim3(unsigned(chunks.count), unsigned(ceil_div(s.channels, kDepthwiseChannels))),
                  dim3(kDepthwiseChannels, kDepthwiseRows),
                  depthwise_shared_bytes(s.span() * s.span() + s.tile() * s.tile(), 0), x, dy, workspace, s,
                  chunks.size);
  sum_partials(launcher,
               PartialSums{workspace, static_cast<long long>(taps) * s.channels, chunks.count, taps, s.channels},
               dkernel, tap_stride, accumulate);
}

template <Launcher L>
void depthwise_conv_forward(const L& launcher, const float* x, const float* kernel, int tap_stride, float* y,
                            const DepthwiseConvShape& s) {
  check_depthwise_conv("cuda depthwise_conv_forward", s, tap_stride);
  const dim3 grid(unsigned(s.tiles_wide()), unsigned(s.tiles_high()),
                  unsigned(s.batch * ceil_div(s.channels, kDepthwiseChannels)));
  launcher.launch(depthwise_conv_forward_kernel<kDepthwiseChannels, kDepthwiseRows>, grid,
                  dim3(kDepthwiseChannels, kDepthwiseRows),
                  depthwise_shared_bytes(s.span() * s.span(), s.kernel * s.kernel), x, kernel, tap_stride, y, s);
}

// dx = the input gradient through `kernel` (overwritten; skipped when null).
template <Launcher L>
void depthwise_conv_backward_data(const L& launcher, const float* dy, const float* kernel, int tap_stride, float* dx,
                                  const DepthwiseConvShape& s) {
  const int span = depthwise_data_span(s);
  const dim3 grid(unsigned(ceil_div(s.width, kDepthwiseDataTile)), unsigned(ceil_div(s.height, kDepthwiseDataTile)),
                  unsigned(s.batch * ceil_div(s.channels, kDepthwiseChannels)));
  launcher.launch(depthwise_conv_backward_data_kernel<kDepthwiseChannels, kDepthwiseRows>, grid,
                  dim3(kDepthwiseChannels, kDepthwiseRows), depthwise_shared_bytes(span * span, s.kernel * s.kernel),
                  dy, kernel, tap_stride, dx, s);
}

// dx overwritten (skipped when null); dkernel, laid out like kernel, accumulates through
// `workspace` (depthwise_conv_backward_workspace floats) in a fixed order.
template <Launcher L>
void depthwise_conv_backward(const L& launcher, const float* x, const float* kernel, int tap_stride, const float* dy,
                             float* dx, float* dkernel, float* workspace, const DepthwiseConvShape& s) {
  check_depthwise_conv("cuda depthwise_conv_backward", s, tap_stride);
  if (dx != nullptr) depthwise_conv_backward_data(launcher, dy, kernel, tap_stride, dx, s);
  depthwise_conv_kernel_gradient(launcher, x, dy, dkernel, tap_stride, true, workspace, s);
}

// The elastic depthwise layer (kernels/ops/depthwise_conv.h): weight the max-size
// [K_max,K_max,C_max] tensor, the active kernel size and channels in `kernel` (conv.kernel and
// conv.channels must agree with it). At K_max the weight's prefix is used in place; smaller
// kernels run on the effective kernel, built in the workspace.
inline void check_elastic_depthwise(const char* op, const ElasticKernelShape& kernel, const DepthwiseConvShape& conv) {
  OFA_CHECK(conv.kernel == kernel.kernel_size() && conv.channels == kernel.channels, op, "the convolution's kernel ",
            conv.kernel, " and channels ", conv.channels, " differ from the elastic kernel's ", kernel.kernel_size(),
            " and ", kernel.channels);
  check_depthwise_conv(op, conv, kernel.channels_max);
}

inline std::size_t effective_kernel_floats(const ElasticKernelShape& kernel) {
  return kernel.steps > 0 ? std::size_t(kernel.kernel_size() * kernel.kernel_size() * kernel.channels) : 0;
}

inline std::size_t elastic_depthwise_conv_forward_workspace(const ElasticKernelShape& kernel) {
  return effective_kernel_floats(kernel);
}

inline std::size_t elastic_depthwise_conv_backward_workspace(const ElasticKernelShape& kernel,
                                                             const DepthwiseConvShape& conv) {
  return 2 * effective_kernel_floats(kernel) +
         std::max(depthwise_conv_backward_workspace(conv), elastic_kernel_backward_workspace(kernel));
}

template <Launcher L>
void elastic_depthwise_conv_forward(const L& launcher, const float* x, const float* weight,
                                    const ElasticTransforms<const float*>& transforms, const ElasticKernelShape& kernel,
                                    const DepthwiseConvShape& conv, float* y, float* workspace) {
  check_elastic_depthwise("cuda elastic_depthwise_conv_forward", kernel, conv);
  if (kernel.steps == 0) {
    depthwise_conv_forward(launcher, x, weight, kernel.channels_max, y, conv);
    return;
  }
  elastic_kernel_forward(launcher, weight, transforms, kernel, workspace);
  depthwise_conv_forward(launcher, x, workspace, kernel.channels, y, conv);
}

// dx overwritten (skipped when null); dweight and the matrices of the steps taken accumulate.
template <Launcher L>
void elastic_depthwise_conv_backward(const L& launcher, const float* x, const float* weight,
                                     const ElasticTransforms<const float*>& transforms,
                                     const ElasticKernelShape& kernel, const DepthwiseConvShape& conv, const float* dy,
                                     float* dx, float* dweight, const ElasticTransforms<float*>& dtransforms,
                                     float* workspace) {
  check_elastic_depthwise("cuda elastic_depthwise_conv_backward", kernel, conv);
  if (kernel.steps == 0) {
    depthwise_conv_backward(launcher, x, weight, kernel.channels_max, dy, dx, dweight, workspace, conv);
    return;
  }
  float* const effective = workspace;
  float* const d_effective = effective + effective_kernel_floats(kernel);
  float* const scratch = d_effective + effective_kernel_floats(kernel);
  elastic_kernel_forward(launcher, weight, transforms, kernel, effective);
  if (dx != nullptr) depthwise_conv_backward_data(launcher, dy, effective, kernel.channels, dx, conv);
  depthwise_conv_kernel_gradient(launcher, x, dy, d_effective, kernel.channels, false, scratch, conv);
  elastic_kernel_backward(launcher, weight, transforms, kernel, d_effective, dweight, dtransforms, scratch);
}

}  // namespace ofa::cuda
