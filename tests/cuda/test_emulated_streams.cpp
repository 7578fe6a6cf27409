#include <gtest/gtest.h>

#include <cstddef>
#include <limits>
#include <vector>

#include "kernels/cuda/device.h"
#include "kernels/cuda/launch.h"

// The emulation's streams and device memory size, which the caching allocator's tests need.

namespace ofa::cuda::testing {
namespace {

TEST(EmulatedStreams, WorkOnALiveStreamRunsAndADestroyedStreamIsRejected) {
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  ASSERT_NE(stream, nullptr);
  float* device = nullptr;
  ASSERT_EQ(cudaMalloc(&device, 4 * sizeof(float)), cudaSuccess);
  const std::vector<float> host = {1, 2, 3, 4};
  EXPECT_EQ(cudaMemcpyAsync(device, host.data(), 16, cudaMemcpyHostToDevice, stream), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(EmulatedLauncher(stream).stream(), stream);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  EXPECT_EQ(cudaMemsetAsync(device, 0, 16, stream), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaStreamSynchronize(nullptr), cudaSuccess);
  EXPECT_EQ(cudaFree(device), cudaSuccess);
}

TEST(EmulatedStreams, AllocationsPastTheDeviceMemoryLimitFail) {
  const std::size_t base = emu::device_memory_in_use();
  emu::set_device_memory_limit(base + 1000);
  void* first = nullptr;
  void* second = nullptr;
  EXPECT_EQ(cudaMalloc(&first, 600), cudaSuccess);
  EXPECT_EQ(emu::device_memory_in_use(), base + 600);
  EXPECT_EQ(cudaMalloc(&second, 600), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaFree(first), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&second, 600), cudaSuccess);
  EXPECT_EQ(cudaFree(second), cudaSuccess);
  EXPECT_EQ(emu::device_memory_in_use(), base);
  emu::set_device_memory_limit(std::numeric_limits<std::size_t>::max());
}

}  // namespace
}  // namespace ofa::cuda::testing
