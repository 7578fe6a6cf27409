#pragma once

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/elementwise.cuh"
#include "kernels/error.h"

// y = a + b over n contiguous floats: an MBConv block's skip connection, and in the backward
// the join of the skip path's gradient with the main path's (the add's own backward is the
// identity, as in kernels/ops/residual_add.h).

namespace ofa::cuda {

template <int V>
__global__ void residual_add_kernel(const float* a, const float* b, long long units, float* y) {
  for (long long u = elementwise::flat_first(); u < units; u += elementwise::flat_stride()) {
    const elementwise::Floats<V> lhs = elementwise::load<V>(a + u * V);
    elementwise::Floats<V> sum = elementwise::load<V>(b + u * V);
    OFA_UNROLL
    for (int i = 0; i < V; ++i) sum.v[i] = lhs.v[i] + sum.v[i];
    elementwise::store<V>(y + u * V, sum);
  }
}

// y may alias a or b.
template <Launcher L>
void residual_add_forward(const L& launcher, const float* a, const float* b, long long n, float* y) {
  OFA_CHECK(n >= 0, "residual_add_forward", "negative element count ", n);
  if (n == 0) return;
  elementwise::with_vector_width(elementwise::vector_width(n, {a, b, y}), [&](auto v) {
    constexpr int V = decltype(v)::value;
    launcher.launch(residual_add_kernel<V>, dim3(elementwise::grid_stride_blocks(n / V)), dim3(elementwise::kThreads),
                    0, a, b, n / V, y);
  });
}

}  // namespace ofa::cuda
