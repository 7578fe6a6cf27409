#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/cuda/device.h"
#include "kernels/cuda/launch.h"
#include "kernels/error.h"
#include "tests/cuda/device_buffer.h"

// Emulated device memory and launch checks: what a GPU would reject, the emulator rejects.

namespace ofa::cuda::testing {

// Outside the anonymous namespace: an exported symbol, so launch errors can name it.
template <class T>
__global__ void fill_kernel(T* out, T value) {
  out[threadIdx.x] = value;
}

namespace {

TEST(EmulatedRuntime, NeverWrittenDeviceMemoryReadsAsNaN) {
  const DeviceBuffer<float> buffer(100);
  for (const float v : buffer.to_host()) EXPECT_TRUE(std::isnan(v));
}

TEST(EmulatedRuntime, CopiesInTheWrongDirectionFailAndTheErrorSticksUntilRead) {
  const DeviceBuffer<float> device(4);
  std::vector<float> host(4, 1.0f);
  EXPECT_EQ(cudaMemcpy(host.data(), host.data() + 2, 2 * sizeof(float), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(device.get(), host.data(), 4 * sizeof(float), cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(device.get(), host.data(), 4 * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
}

TEST(EmulatedRuntime, CopiesPastTheEndOfAnAllocationFail) {
  const DeviceBuffer<float> device(4);
  std::vector<float> host(8);
  EXPECT_EQ(cudaMemcpy(device.get(), host.data(), 8 * sizeof(float), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemset(device.get() + 1, 0, 4 * sizeof(float)), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

TEST(EmulatedRuntime, FreeingHostMemoryFails) {
  int on_host = 0;
  EXPECT_EQ(cudaFree(&on_host), cudaErrorInvalidDevicePointer);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevicePointer);
}

std::string launch_error(dim3 grid, dim3 block, std::size_t shared_bytes, float* out) {
  try {
    EmulatedLauncher().launch(fill_kernel<float>, grid, block, shared_bytes, out, 1.0f);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(EmulatedRuntime, LaunchesAGpuWouldRejectThrowNamingTheKernel) {
  const DeviceBuffer<float> out(2048);
  EXPECT_EQ(launch_error(dim3(1), dim3(1024), 0, out.get()), "");
  EXPECT_NE(launch_error(dim3(1), dim3(2048), 0, out.get()).find("fill_kernel<float>"), std::string::npos);
  EXPECT_NE(launch_error(dim3(1), dim3(64, 32), 0, out.get()).find("2048 threads; at most 1024"), std::string::npos);
  EXPECT_NE(launch_error(dim3(1), dim3(1, 1, 65), 0, out.get()).find("exceeds"), std::string::npos);
  EXPECT_NE(launch_error(dim3(0), dim3(32), 0, out.get()).find("dimension is 0"), std::string::npos);
  EXPECT_NE(launch_error(dim3(1), dim3(32), 300 * 1024, out.get()).find("dynamic shared memory"), std::string::npos);
}

TEST(EmulatedRuntime, HostPointersAsKernelArgumentsAreRejected) {
  std::vector<float> host(32);
  EXPECT_NE(launch_error(dim3(1), dim3(32), 0, host.data()).find("argument 1"), std::string::npos);
  EXPECT_NE(launch_error(dim3(1), dim3(32), 0, host.data()).find("not device memory"), std::string::npos);
}

}  // namespace
}  // namespace ofa::cuda::testing
