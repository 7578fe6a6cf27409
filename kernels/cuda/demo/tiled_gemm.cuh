#pragma once

#include "kernels/cuda/launch.h"

namespace ofa::cuda::demo {

// C[m,n] = A[m,k] B[k,n], row-major, one output per thread. Tile x Tile blocks stage a tile of
// A and of B in static shared memory per step along k; edges are padded with zeros, so any
// m, n, k works.
template <int Tile>
__global__ void __launch_bounds__(Tile* Tile)
    tiled_gemm_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c, int m, int n,
                      int k) {
  __shared__ float a_tile[Tile][Tile];
  __shared__ float b_tile[Tile][Tile];
  const int tx = int(threadIdx.x), ty = int(threadIdx.y);
  const int row = int(blockIdx.y) * Tile + ty, col = int(blockIdx.x) * Tile + tx;
  float sum = 0.0f;
  for (int k0 = 0; k0 < k; k0 += Tile) {
    a_tile[ty][tx] = row < m && k0 + tx < k ? a[row * k + k0 + tx] : 0.0f;
    b_tile[ty][tx] = k0 + ty < k && col < n ? b[(k0 + ty) * n + col] : 0.0f;
    __syncthreads();
    OFA_UNROLL
    for (int i = 0; i < Tile; ++i) sum = fmaf(a_tile[ty][i], b_tile[i][tx], sum);
    __syncthreads();  // before the next step overwrites the tiles
  }
  if (row < m && col < n) c[row * n + col] = sum;
}

template <Launcher L>
void tiled_gemm(const L& launcher, const float* a, const float* b, float* c, int m, int n, int k) {
  constexpr int tile = 16;
  launcher.launch(tiled_gemm_kernel<tile>, dim3(ceil_div(n, tile), ceil_div(m, tile)), dim3(tile, tile), 0, a, b, c,
                  m, n, k);
}

}  // namespace ofa::cuda::demo
