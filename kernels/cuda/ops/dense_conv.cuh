#pragma once

#include <algorithm>
#include <cstddef>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/partial_sums.cuh"
#include "kernels/error.h"

// The CUDA twin of kernels/ops/dense_conv.h, the stem: a dense k x k convolution, "same"
// padding k/2, on NHWC activations:
//   y[n, i, j, o] = sum_{u,v,ci} x[n, i*stride + u - k/2, j*stride + v - k/2, ci] * weight[o, u, v, ci]
// x [N,H,W,Cin], y [N,Ho,Wo,out] contiguous; weight the contiguous max-size [Cout_max,K,K,Cin],
// whose first `out` filters (a contiguous prefix) are active. The stem has three input channels
// and a few dozen filters: one thread per output element, with the weights (a few KiB, shared by
// every pixel) read through the read-only cache, is as fast as the memory traffic allows.

namespace ofa::cuda {

struct DenseConvShape {
  int batch, height, width, in_channels, out_channels, kernel, stride;

  __host__ __device__ int pad() const { return kernel / 2; }
  __host__ __device__ int out_height() const { return (height - 1) / stride + 1; }
  __host__ __device__ int out_width() const { return (width - 1) / stride + 1; }
  __host__ __device__ int filter_size() const { return kernel * kernel * in_channels; }
  __host__ __device__ int output_pixels() const { return batch * out_height() * out_width(); }
};

// Indices are ints (64-bit division is slow on GPUs): every tensor must stay under 2^31 floats,
// as a stem's do by far (batch 256 at 224 x 224 is 38.5M).
inline void check_dense_conv(const char* op, const DenseConvShape& s) {
  OFA_CHECK(s.batch > 0 && s.height > 0 && s.width > 0 && s.in_channels > 0 && s.out_channels > 0, op,
            "needs positive sizes, got batch ", s.batch, ", ", s.height, "x", s.width, ", channels ", s.in_channels,
            " -> ", s.out_channels);
  OFA_CHECK(s.kernel > 0 && s.kernel % 2 == 1 && s.stride > 0, op,
            "needs an odd kernel and a positive stride, got kernel ", s.kernel, ", stride ", s.stride);
  const long long largest = std::max({static_cast<long long>(s.batch) * s.height * s.width * s.in_channels,
                                      static_cast<long long>(s.batch) * s.out_height() * s.out_width() * s.out_channels,
                                      static_cast<long long>(s.out_channels) * s.kernel * s.kernel * s.in_channels});
  OFA_CHECK(largest < (1ll << 31), op, "tensors of 2^31 floats or more are not supported, got ", largest);
}

template <int Threads>
__global__ void __launch_bounds__(Threads)
    dense_conv_forward_kernel(const float* __restrict__ x, const float* __restrict__ weight, float* __restrict__ y,
                              DenseConvShape s) {
  const int e = int(blockIdx.x) * Threads + int(threadIdx.x);
  if (e >= s.output_pixels() * s.out_channels) return;
  const int o = e % s.out_channels, pixel = e / s.out_channels;
  const int j = pixel % s.out_width(), i = pixel / s.out_width() % s.out_height();
  const int n = pixel / (s.out_width() * s.out_height());
  const float* const filter = weight + o * s.filter_size();
  float sum = 0.0f;
  for (int u = 0; u < s.kernel; ++u) {
    const int ih = i * s.stride + u - s.pad();
    if (ih < 0 || ih >= s.height) continue;
    for (int v = 0; v < s.kernel; ++v) {
      const int iw = j * s.stride + v - s.pad();
      if (iw < 0 || iw >= s.width) continue;
      const float* const xp = x + ((n * s.height + ih) * s.width + iw) * s.in_channels;
      const float* const wp = filter + (u * s.kernel + v) * s.in_channels;
      for (int ci = 0; ci < s.in_channels; ++ci) sum = fmaf(xp[ci], __ldg(wp + ci), sum);
    }
  }
  y[e] = sum;
}

// dx[n, h, w, ci] = sum over the outputs (i, j) whose window holds (h, w) at tap (u, v), i.e.
// h = i*stride + u - pad, and over the filters o, of dy[n, i, j, o] * weight[o, u, v, ci].
template <int Threads>
__global__ void __launch_bounds__(Threads)
    dense_conv_backward_data_kernel(const float* __restrict__ dy, const float* __restrict__ weight,
                                    float* __restrict__ dx, DenseConvShape s) {
  const int e = int(blockIdx.x) * Threads + int(threadIdx.x);
  if (e >= s.batch * s.height * s.width * s.in_channels) return;
  const int ci = e % s.in_channels, pixel = e / s.in_channels;
  const int w = pixel % s.width, h = pixel / s.width % s.height, n = pixel / (s.width * s.height);
  float sum = 0.0f;
  for (int u = 0; u < s.kernel; ++u) {
    const int ti = h + s.pad() - u;  // i * stride
    if (ti < 0 || ti % s.stride != 0 || ti / s.stride >= s.out_height()) continue;
    for (int v = 0; v < s.kernel; ++v) {
      const int tj = w + s.pad() - v;
      if (tj < 0 || tj % s.stride != 0 || tj / s.stride >= s.out_width()) continue;
      const float* const gp =
          dy + ((n * s.out_height() + ti / s.stride) * s.out_width() + tj / s.stride) * s.out_channels;
      const float* const wp = weight + (u * s.kernel + v) * s.in_channels + ci;
      for (int o = 0; o < s.out_channels; ++o) sum = fmaf(gp[o], __ldg(wp + o * s.filter_size()), sum);
    }
  }
  dx[e] = sum;
}

// First stage of dweight: partials[chunk, o, u, v, ci] = sum over the chunk's output pixels of
// dy[pixel, o] * x[the input under tap (u, v) of pixel, ci]. One thread per weight entry
// (blockIdx.y picks the range), so a block's threads read neighbouring inputs of one pixel.
template <int Threads>
__global__ void __launch_bounds__(Threads)
    dense_conv_weight_partials_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                      float* __restrict__ partials, DenseConvShape s, int pixels_per_chunk) {
  const int e = int(blockIdx.y) * Threads + int(threadIdx.x);
  const int entries = s.out_channels * s.filter_size();
  if (e >= entries) return;
  const int ci = e % s.in_channels, v = e / s.in_channels % s.kernel;
  const int u = e / (s.in_channels * s.kernel) % s.kernel, o = e / s.filter_size();
  const int begin = int(blockIdx.x) * pixels_per_chunk, end = min(s.output_pixels(), begin + pixels_per_chunk);
  // Walk the chunk by output row and column, without a division per pixel.
  int n = begin / (s.out_height() * s.out_width()), i = begin / s.out_width() % s.out_height();
  int j = begin % s.out_width();
  float sum = 0.0f;
  for (int pixel = begin; pixel < end; ++pixel) {
    const int ih = i * s.stride + u - s.pad(), iw = j * s.stride + v - s.pad();
    if (ih >= 0 && ih < s.height && iw >= 0 && iw < s.width)
      sum = fmaf(dy[pixel * s.out_channels + o], x[((n * s.height + ih) * s.width + iw) * s.in_channels + ci], sum);
    if (++j == s.out_width()) {
      j = 0;
      if (++i == s.out_height()) {
        i = 0;
        ++n;
      }
    }
  }
  partials[int(blockIdx.x) * entries + e] = sum;
}

inline constexpr int kDenseConvThreads = 256;

// Chunks of output pixels for the dweight reduction: enough blocks to fill the GPU, at least 64
// pixels each.
inline Chunking dense_conv_weight_chunks(const DenseConvShape& s) {
  const int entry_blocks = ceil_div(s.out_channels * s.filter_size(), kDenseConvThreads);
  return chunk_evenly(s.output_pixels(),
                      std::min(std::max(1, kReductionBlocks / entry_blocks), ceil_div(s.output_pixels(), 64)));
}

// Floats of workspace dense_conv_backward needs.
inline std::size_t dense_conv_backward_workspace(const DenseConvShape& s) {
  check_dense_conv("cuda dense_conv_backward_workspace", s);
  return std::size_t(dense_conv_weight_chunks(s).count) * std::size_t(s.out_channels * s.filter_size());
}

template <Launcher L>
void dense_conv_forward(const L& launcher, const float* x, const float* weight, float* y, const DenseConvShape& s) {
  check_dense_conv("cuda dense_conv_forward", s);
  launcher.launch(dense_conv_forward_kernel<kDenseConvThreads>,
                  dim3(ceil_div(s.output_pixels() * s.out_channels, kDenseConvThreads)), dim3(kDenseConvThreads), 0, x,
                  weight, y, s);
}

// dx overwritten (skipped when null); dweight's first out_channels filters accumulate, through
// `workspace` (dense_conv_backward_workspace floats) in a fixed order.
template <Launcher L>
void dense_conv_backward(const L& launcher, const float* x, const float* weight, const float* dy, float* dx,
                         float* dweight, float* workspace, const DenseConvShape& s) {
  check_dense_conv("cuda dense_conv_backward", s);
  if (dx != nullptr)
    launcher.launch(dense_conv_backward_data_kernel<kDenseConvThreads>,
                    dim3(ceil_div(s.batch * s.height * s.width * s.in_channels, kDenseConvThreads)),
                    dim3(kDenseConvThreads), 0, dy, weight, dx, s);
  const Chunking chunks = dense_conv_weight_chunks(s);
  const int entries = s.out_channels * s.filter_size();
  launcher.launch(dense_conv_weight_partials_kernel<kDenseConvThreads>,
                  dim3(unsigned(chunks.count), unsigned(ceil_div(entries, kDenseConvThreads))), dim3(kDenseConvThreads),
                  0, x, dy, workspace, s, int(chunks.size));
  sum_partials(launcher, PartialSums{workspace, entries, chunks.count, 1, entries}, dweight, entries, true);
}

}  // namespace ofa::cuda
