#pragma once

#include <algorithm>

#include "kernels/cuda/launch.h"
#include "kernels/error.h"

namespace ofa::cuda::demo {

template <class T>
__device__ __forceinline__ T warp_sum(T value) {
  OFA_UNROLL
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  return value;
}

// Adds the sum of x[0, n) to *sum. Each warp reduces by shuffles, the warps' sums meet in
// shared memory, warp 0 reduces those, and each block adds its total with one atomicAdd.
// Blocks are whole warps.
template <class T>
__global__ void block_sum_kernel(const T* __restrict__ x, long long n, T* sum) {
  __shared__ T warp_sums[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  T value = 0;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) value += x[i];
  value = warp_sum(value);
  if (lane == 0) warp_sums[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = warp_sum(lane < warps ? warp_sums[lane] : T(0));
    if (lane == 0) atomicAdd(sum, value);
  }
}

template <Launcher L>
void block_sum(const L& launcher, const float* x, long long n, float* sum, int threads_per_block) {
  OFA_CHECK(threads_per_block % 32 == 0 && threads_per_block > 0 && threads_per_block <= 1024, "block_sum",
            "threads per block must be a multiple of 32 up to 1024, got ", threads_per_block);
  // Enough blocks to spread the work, few enough that the atomics do not contend.
  const auto blocks = std::clamp<long long>((n + threads_per_block - 1) / threads_per_block, 1, 64);
  launcher.launch(block_sum_kernel<float>, dim3(unsigned(blocks)), dim3(unsigned(threads_per_block)), 0, x, n, sum);
}

}  // namespace ofa::cuda::demo
