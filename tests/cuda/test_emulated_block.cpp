#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "kernels/cuda/device.h"
#include "kernels/cuda/launch.h"
#include "tests/cuda/device_buffer.h"
#include "tests/cuda/thread_order.h"

// Built-in variables, block-wide barriers with predicates, and atomics across blocks that run
// on several OS threads at once.

namespace ofa::cuda::testing {
namespace {

class EmulatedBlock : public BothThreadOrders {};
OFA_IN_BOTH_THREAD_ORDERS(EmulatedBlock);

__global__ void global_index_kernel(int* owner) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned global = block * (blockDim.x * blockDim.y * blockDim.z) + thread;
  atomicAdd(&owner[global], int(global) + 1);
}

TEST_P(EmulatedBlock, ThreeDimensionalGridsCoverEveryThreadOnce) {
  const dim3 grid(3, 2, 2), block(5, 3, 2);
  const int total = 12 * 30;
  const DeviceBuffer<int> owner(total);
  check_cuda(cudaMemset(owner.get(), 0, total * sizeof(int)), "cudaMemset");
  EmulatedLauncher().launch(global_index_kernel, grid, block, 0, owner.get());
  const std::vector<int> got = owner.to_host();
  for (int i = 0; i < total; ++i) ASSERT_EQ(got[std::size_t(i)], i + 1) << i;
}

__global__ void barrier_predicate_kernel(int* out) {
  const int t = int(threadIdx.x);
  out[4 * t + 0] = __syncthreads_count(t % 3 == 0);
  out[4 * t + 1] = __syncthreads_and(t < 1000);
  out[4 * t + 2] = __syncthreads_and(t != 17);
  out[4 * t + 3] = __syncthreads_or(t == 99);
}

TEST_P(EmulatedBlock, BarrierPredicatesReduceOverTheBlock) {
  const DeviceBuffer<int> out(4 * 100);
  EmulatedLauncher().launch(barrier_predicate_kernel, dim3(1), dim3(100), 0, out.get());
  const std::vector<int> got = out.to_host();
  for (int t = 0; t < 100; ++t) {
    EXPECT_EQ(got[std::size_t(4 * t)], 34);
    EXPECT_EQ(got[std::size_t(4 * t + 1)], 1);
    EXPECT_EQ(got[std::size_t(4 * t + 2)], 0);
    EXPECT_EQ(got[std::size_t(4 * t + 3)], 1);
  }
}

// Float max by compare-and-swap on the bits, as CUDA code does it (CUDA has no float atomicMax).
__device__ __forceinline__ void atomic_max_float(float* address, float value) {
  int old = __float_as_int(*address);
  while (__int_as_float(old) < value) {
    const int seen = atomicCAS(reinterpret_cast<int*>(address), old, __float_as_int(value));
    if (seen == old) break;
    old = seen;
  }
}

struct Counters {
  int count;
  int max;
  int min;
  unsigned wraps;
  float sum;
  float largest;
};

__global__ void atomics_kernel(Counters* c) {
  const int global = int(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(&c->count, 1);
  atomicMax(&c->max, global);
  atomicMin(&c->min, global);
  atomicInc(&c->wraps, 9u);  // counts 0..9 and wraps
  atomicAdd(&c->sum, 0.5f);
  atomic_max_float(&c->largest, float(global) * 0.25f);
}

TEST_P(EmulatedBlock, AtomicsAreExactAcrossConcurrentBlocks) {
  const int blocks = 64, threads = 128, total = blocks * threads;
  const DeviceBuffer<Counters> c(1);
  const Counters start{0, -1, total, 0u, 0.0f, -1.0f};
  check_cuda(cudaMemcpy(c.get(), &start, sizeof start, cudaMemcpyHostToDevice), "copy");
  emu::set_worker_threads(4);  // blocks at once even where OpenMP would use one thread
  EmulatedLauncher().launch(atomics_kernel, dim3(blocks), dim3(threads), 0, c.get());
  emu::set_worker_threads(0);
  const Counters got = c.to_host()[0];
  EXPECT_EQ(got.count, total);
  EXPECT_EQ(got.max, total - 1);
  EXPECT_EQ(got.min, 0);
  EXPECT_EQ(got.wraps, unsigned(total % 10));
  EXPECT_EQ(got.sum, 0.5f * total);  // exact: every partial sum is a multiple of 0.5 below 2^23
  EXPECT_EQ(got.largest, float(total - 1) * 0.25f);
}

__global__ void private_parameter_kernel(int* out, int value) {
  value += int(threadIdx.x);  // each thread owns its copy of the parameters
  __syncthreads();
  out[threadIdx.x] = value;
}

TEST_P(EmulatedBlock, EachThreadHasItsOwnParameters) {
  const DeviceBuffer<int> out(64);
  EmulatedLauncher().launch(private_parameter_kernel, dim3(1), dim3(64), 0, out.get(), 7);
  const std::vector<int> got = out.to_host();
  for (int t = 0; t < 64; ++t) EXPECT_EQ(got[std::size_t(t)], 7 + t);
}

}  // namespace
}  // namespace ofa::cuda::testing
