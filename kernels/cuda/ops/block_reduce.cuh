#pragma once

#include "kernels/cuda/launch.h"

// Sums and maxima over all threads of a 1-D block of whole warps, in a fixed order (a shuffle
// butterfly within each warp, then the same butterfly over the warps' results), so results
// never depend on timing and no atomics are needed. Every thread of the block must call them,
// and every thread gets the result.

namespace ofa::cuda::reduction {

struct Sum {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a + b;
  }
};

struct Max {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a < b ? b : a;
  }
};

// A butterfly: lanes i and i ^ offset add the same two values (addition commutes), so every
// lane ends with the identical total.
template <class T, class Op>
__device__ __forceinline__ T warp_reduce(T value, Op op) {
  OFA_UNROLL
  for (int offset = 16; offset > 0; offset /= 2) value = op(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

template <class T, class Op>
__device__ __forceinline__ T block_reduce(T value, T identity, Op op) {
  __shared__ T warp_results[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  value = warp_reduce(value, op);
  if (lane == 0) warp_results[warp] = value;
  __syncthreads();
  // Every warp reduces the warps' results itself, which saves a broadcast through shared memory.
  const T total = warp_reduce(lane < warps ? warp_results[lane] : identity, op);
  __syncthreads();  // before a later call overwrites warp_results
  return total;
}

template <class T>
__device__ __forceinline__ T block_sum(T value) {
  return block_reduce(value, T(0), Sum{});
}

__device__ __forceinline__ float block_max(float value) { return block_reduce(value, -INFINITY, Max{}); }

// Threads for a block that reduces one row of `length` values: whole warps, at most kMaxRowThreads.
inline constexpr int kMaxRowThreads = 256;
inline int row_threads(long long length) {
  return length >= kMaxRowThreads ? kMaxRowThreads : int((length + 31) / 32 * 32);
}

}  // namespace ofa::cuda::reduction
