#pragma once

#include <cstddef>
#include <vector>

#include "kernels/cuda/device.h"
#include "kernels/error.h"

namespace ofa::cuda::testing {

inline void check_cuda(cudaError_t error, const char* what) {
  OFA_CHECK(error == cudaSuccess, "CUDA test", what, ": ", cudaGetErrorString(error));
}

// Device memory for a test, through cudaMalloc: the GPU's under nvcc, the emulator's (0xFF
// poisoned) under the host compiler.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    check_cuda(cudaMalloc(&data_, count * sizeof(T)), "cudaMalloc");
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    check_cuda(cudaMemcpy(data_, host.data(), count_ * sizeof(T), cudaMemcpyHostToDevice), "copy to device");
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { cudaFree(data_); }

  T* get() const { return data_; }

  std::vector<T> to_host() const {
    check_cuda(cudaDeviceSynchronize(), "kernel");
    std::vector<T> host(count_);
    check_cuda(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost), "copy to host");
    return host;
  }

 private:
  T* data_ = nullptr;
  std::size_t count_;
};

}  // namespace ofa::cuda::testing
