#pragma once

#include <cstdint>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/elementwise.cuh"
#include "kernels/error.h"
#include "kernels/random.h"

// Inverted dropout on the GPU with the CPU op's mask bit for bit (kernels/ops/dropout.h):
// keep(i) = uniform01(seed, stream, i) >= p for the flat index i, drawn again by the backward
// instead of stored. Forward and backward are the same masked scale.

namespace ofa::cuda {

template <int V>
__global__ void dropout_kernel(const float* in, long long units, float p, float scale, std::uint64_t seed,
                               std::uint64_t stream, float* out) {
  for (long long u = elementwise::flat_first(); u < units; u += elementwise::flat_stride()) {
    elementwise::Floats<V> v = elementwise::load<V>(in + u * V);
    OFA_UNROLL
    for (int i = 0; i < V; ++i)
      v.v[i] = uniform01(seed, stream, static_cast<std::uint64_t>(u * V + i)) >= p ? v.v[i] * scale : 0.0f;
    elementwise::store<V>(out + u * V, v);
  }
}

namespace dropout_detail {

template <Launcher L>
void masked_scale(const L& launcher, const char* op, const float* in, long long n, float p, std::uint64_t seed,
                  std::uint64_t stream, float* out) {
  OFA_CHECK(n >= 0, op, "negative element count ", n);
  OFA_CHECK(p >= 0.0f && p < 1.0f, op, "drop probability p = ", p, " must be in [0, 1)");
  if (n == 0 || (p == 0.0f && in == out)) return;
  // As PyTorch and the CPU op: the float 1 / (1 - p), then one multiply. At p = 0 every element
  // is kept and scaled by exactly 1: a copy.
  const float scale = 1.0f / (1.0f - p);
  elementwise::with_vector_width(elementwise::vector_width(n, {in, out}), [&](auto v) {
    constexpr int V = decltype(v)::value;
    launcher.launch(dropout_kernel<V>, dim3(elementwise::grid_stride_blocks(n / V)), dim3(elementwise::kThreads), 0, in,
                    n / V, p, scale, seed, stream, out);
  });
}

}  // namespace dropout_detail

// y[i] = keep(i) ? x[i] / (1 - p) : 0 over n contiguous floats; y may alias x.
template <Launcher L>
void dropout_forward(const L& launcher, const float* x, long long n, float p, std::uint64_t seed, std::uint64_t stream,
                     float* y) {
  dropout_detail::masked_scale(launcher, "dropout_forward", x, n, p, seed, stream, y);
}

// dx[i] = keep(i) ? dy[i] / (1 - p) : 0 with the forward's (p, seed, stream); dx may alias dy.
template <Launcher L>
void dropout_backward(const L& launcher, const float* dy, long long n, float p, std::uint64_t seed,
                      std::uint64_t stream, float* dx) {
  dropout_detail::masked_scale(launcher, "dropout_backward", dy, n, p, seed, stream, dx);
}

}  // namespace ofa::cuda
