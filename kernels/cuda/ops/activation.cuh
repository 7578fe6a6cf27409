#pragma once

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/elementwise.cuh"
#include "kernels/error.h"
#include "kernels/ops/activation.h"

// Activations on the GPU: y = act(x) and dx = act'(x) * dy over n contiguous floats.

namespace ofa::cuda {

// kernels/ops/activation.h's activation_math for device code, the same expressions and the
// same derivative at every kink (nvcc may fuse hswish's slope into one FMA: last-bit differences).
namespace activation_device {

__host__ __device__ __forceinline__ float relu6_shifted(float x) {
  return x + 3.0f < 0.0f ? 0.0f : (x + 3.0f > 6.0f ? 6.0f : x + 3.0f);
}

template <Activation A>
__host__ __device__ __forceinline__ float apply(float x) {
  if constexpr (A == Activation::relu) return x > 0.0f ? x : 0.0f;
  if constexpr (A == Activation::hswish) return x * relu6_shifted(x) * (1.0f / 6.0f);
  if constexpr (A == Activation::hsigmoid) return relu6_shifted(x) * (1.0f / 6.0f);
  return x;
}

template <Activation A>
__host__ __device__ __forceinline__ float slope(float x) {
  if constexpr (A == Activation::relu) return x > 0.0f ? 1.0f : 0.0f;
  if constexpr (A == Activation::hswish) return x < -3.0f ? 0.0f : (x <= 3.0f ? x * (1.0f / 3.0f) + 0.5f : 1.0f);
  if constexpr (A == Activation::hsigmoid) return x > -3.0f && x < 3.0f ? (1.0f / 6.0f) : 0.0f;
  return 1.0f;
}

}  // namespace activation_device

template <Activation A, int V>
__global__ void activation_forward_kernel(const float* x, long long units, float* y) {
  for (long long u = elementwise::flat_first(); u < units; u += elementwise::flat_stride()) {
    elementwise::Floats<V> v = elementwise::load<V>(x + u * V);
    OFA_UNROLL
    for (int i = 0; i < V; ++i) v.v[i] = activation_device::apply<A>(v.v[i]);
    elementwise::store<V>(y + u * V, v);
  }
}

template <Activation A, int V>
__global__ void activation_backward_kernel(const float* x, const float* dy, long long units, float* dx) {
  for (long long u = elementwise::flat_first(); u < units; u += elementwise::flat_stride()) {
    const elementwise::Floats<V> in = elementwise::load<V>(x + u * V);
    elementwise::Floats<V> g = elementwise::load<V>(dy + u * V);
    OFA_UNROLL
    for (int i = 0; i < V; ++i) g.v[i] = activation_device::slope<A>(in.v[i]) * g.v[i];
    elementwise::store<V>(dx + u * V, g);
  }
}

// y may alias x.
template <Launcher L>
void activation_forward(const L& launcher, Activation activation, const float* x, long long n, float* y) {
  OFA_CHECK(n >= 0, "activation_forward", "negative element count ", n);
  if (n == 0) return;
  const int width = elementwise::vector_width(n, {x, y});
  activation_math::dispatch(activation, [&](auto kind) {
    elementwise::with_vector_width(width, [&](auto v) {
      constexpr int V = decltype(v)::value;
      launcher.launch(activation_forward_kernel<decltype(kind)::value, V>, dim3(elementwise::grid_stride_blocks(n / V)),
                      dim3(elementwise::kThreads), 0, x, n / V, y);
    });
  });
}

// dx = act'(x) * dy, from the activation's input x; dx may alias dy.
template <Launcher L>
void activation_backward(const L& launcher, Activation activation, const float* x, const float* dy, long long n,
                         float* dx) {
  OFA_CHECK(n >= 0, "activation_backward", "negative element count ", n);
  if (n == 0) return;
  const int width = elementwise::vector_width(n, {x, dy, dx});
  activation_math::dispatch(activation, [&](auto kind) {
    elementwise::with_vector_width(width, [&](auto v) {
      constexpr int V = decltype(v)::value;
      launcher.launch(activation_backward_kernel<decltype(kind)::value, V>,
                      dim3(elementwise::grid_stride_blocks(n / V)), dim3(elementwise::kThreads), 0, x, dy, n / V, dx);
    });
  });
}

}  // namespace ofa::cuda
