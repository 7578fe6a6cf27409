#pragma once

#include "kernels/cuda/launch.h"

// Kernels with bugs planted on purpose, to show the emulator catches each kind.

namespace ofa::cuda::planted {

// tiled_gemm_kernel (kernels/cuda/demo/tiled_gemm.cuh) without the barrier between loading the
// tiles and using them: a thread multiplies entries its neighbours have not loaded yet.
template <int Tile>
__global__ void gemm_missing_barrier_kernel(const float* a, const float* b, float* c, int m, int n, int k) {
  __shared__ float a_tile[Tile][Tile];
  __shared__ float b_tile[Tile][Tile];
  const int tx = int(threadIdx.x), ty = int(threadIdx.y);
  const int row = int(blockIdx.y) * Tile + ty, col = int(blockIdx.x) * Tile + tx;
  float sum = 0.0f;
  for (int k0 = 0; k0 < k; k0 += Tile) {
    a_tile[ty][tx] = row < m && k0 + tx < k ? a[row * k + k0 + tx] : 0.0f;
    b_tile[ty][tx] = k0 + ty < k && col < n ? b[(k0 + ty) * n + col] : 0.0f;
    for (int i = 0; i < Tile; ++i) sum = fmaf(a_tile[ty][i], b_tile[i][tx], sum);
    __syncthreads();
  }
  if (row < m && col < n) c[row * n + col] = sum;
}

template <Launcher L>
void gemm_missing_barrier(const L& launcher, const float* a, const float* b, float* c, int m, int n, int k) {
  constexpr int tile = 16;
  launcher.launch(gemm_missing_barrier_kernel<tile>, dim3(ceil_div(n, tile), ceil_div(m, tile)), dim3(tile, tile), 0,
                  a, b, c, m, n, k);
}

// y[i] = x[i] + x[i-1] within each block, through shared memory, with no barrier between the
// writes and the reads. In forward order every thread's predecessor has already run, so the
// race hides; reverse order shows it.
template <class T>
__global__ void neighbour_sum_missing_barrier_kernel(const T* x, T* y) {
  OFA_DYNAMIC_SHARED(T, staged);
  const int t = int(threadIdx.x), i = int(blockIdx.x * blockDim.x) + t;
  staged[t] = x[i];
  y[i] = staged[t] + (t > 0 ? staged[t - 1] : T(0));
}

// Reverses each block's slice through shared memory, but stages one element too few: the
// first output reads a shared slot nobody wrote.
template <class T>
__global__ void reverse_short_staging_kernel(const T* x, T* y) {
  OFA_DYNAMIC_SHARED(T, staged);
  const int t = int(threadIdx.x), n = int(blockDim.x), base = int(blockIdx.x) * n;
  if (t < n - 1) staged[t] = x[base + t];
  __syncthreads();
  y[base + t] = staged[n - 1 - t];
}

// Odd and even threads wait at different barriers.
template <class T>
__global__ void divergent_barrier_kernel(T* y) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  y[threadIdx.x] = T(1);
}

// Threads past n leave before the barrier the others wait at.
template <class T>
__global__ void early_return_kernel(T* y, int n) {
  if (int(threadIdx.x) >= n) return;
  __syncthreads();
  y[threadIdx.x] = T(1);
}

// A full-warp mask in a block whose last warp is partial.
template <class T>
__global__ void full_mask_in_partial_warp_kernel(T* y) {
  y[threadIdx.x] = __shfl_down_sync(0xffffffffu, T(threadIdx.x), 1);
}

// Lane 0 waits at a block barrier while its warp waits for it in a shuffle.
template <class T>
__global__ void barrier_against_shuffle_kernel(T* y) {
  if (threadIdx.x == 0) __syncthreads();
  y[threadIdx.x] = __shfl_xor_sync(0xffffffffu, T(threadIdx.x), 1);
}

// Lane 0 leaves before a full-warp shuffle.
template <class T>
__global__ void exited_lane_shuffle_kernel(T* y) {
  if (threadIdx.x == 0) return;
  y[threadIdx.x] = __shfl_xor_sync(0xffffffffu, T(threadIdx.x), 1);
}

// Odd and even lanes of one mask call different shuffles.
template <class T>
__global__ void mismatched_shuffles_kernel(T* y) {
  const T v = T(threadIdx.x);
  y[threadIdx.x] = threadIdx.x % 2 ? __shfl_xor_sync(0xffffffffu, v, 1) : __shfl_down_sync(0xffffffffu, v, 1);
}

// Every lane passes lane 0's mask.
template <class T>
__global__ void mask_without_caller_kernel(T* y) {
  y[threadIdx.x] = __shfl_sync(0x1u, T(threadIdx.x), 0);
}

// Wrong indices, each one past the end: of global memory, of dynamic and of static shared memory.
template <class T>
__global__ void global_overrun_kernel(const T* x, T* y) {
  y[threadIdx.x] = x[threadIdx.x + 1];
}

template <class T>
__global__ void dynamic_shared_overrun_kernel(T* y) {
  OFA_DYNAMIC_SHARED(T, staged);
  staged[threadIdx.x] = T(threadIdx.x);
  __syncthreads();
  y[threadIdx.x] = staged[threadIdx.x + 1];
}

template <class T>
__global__ void static_shared_overrun_kernel(T* y) {
  __shared__ T staged[32];
  staged[threadIdx.x] = T(threadIdx.x);
  __syncthreads();
  y[threadIdx.x] = staged[threadIdx.x + 1];
}

}  // namespace ofa::cuda::planted
