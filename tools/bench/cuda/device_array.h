#pragma once

// nvcc only: device memory for the kernel benchmarks, owned, with random contents.

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/cuda/nvcc_launcher.cuh"
#include "tools/bench/cuda/fill_uniform.cuh"
#include "tools/bench/cuda/library_status.h"

namespace ofa::cuda::yardstick {

template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t count) : count_(count) {
    check_cuda(cudaMalloc(&data_, std::max<std::size_t>(count, 1) * sizeof(T)), "cudaMalloc");
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) {
    check_cuda(cudaMemcpy(data_, host.data(), count_ * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to device");
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  DeviceArray& operator=(DeviceArray&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
    return *this;
  }
  ~DeviceArray() {
    if (data_ != nullptr) cudaFree(data_);
  }

  T* get() const { return data_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

  std::vector<T> to_host() const {
    check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    std::vector<T> host(count_);
    check_cuda(cudaMemcpy(host.data(), data_, bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy to host");
    return host;
  }

 private:
  T* data_ = nullptr;
  std::size_t count_;
};

// `count` floats uniform in [lo, hi), a different sequence per seed.
inline DeviceArray<float> random_floats(const NvccLauncher& launcher, std::size_t count, std::uint64_t seed,
                                        float lo = -1.0f, float hi = 1.0f) {
  DeviceArray<float> a(count);
  fill_uniform(launcher, a.get(), static_cast<long long>(count), seed, lo, hi);
  return a;
}

inline DeviceArray<float> zero_floats(std::size_t count) {
  DeviceArray<float> a(count);
  check_cuda(cudaMemset(a.get(), 0, a.bytes()), "cudaMemset");
  return a;
}

}  // namespace ofa::cuda::yardstick
