#pragma once

// nvcc only: what every kernel benchmark case shares (one stream, the cuDNN and cuBLAS handles
// bound to it, the device's peaks), and how cases are named, registered and counted.

#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <functional>
#include <string>

#include "kernels/cuda/nvcc_launcher.cuh"
#include "tools/bench/cuda/cudnn_descriptors.h"

namespace ofa::cuda::yardstick {

// Theoretical peaks: DRAM bandwidth from the memory clock and bus width, FP32 from the SM count,
// FP32 lanes per SM of the architecture and the boost clock.
struct DevicePeak {
  std::string name;
  double bytes_per_second = 0.0;
  double fp32_flops_per_second = 0.0;
};

DevicePeak query_device_peak(int device);

// Created by ofa-bench-kernels' main before any case runs, destroyed before the CUDA runtime
// shuts down.
class BenchContext {
 public:
  BenchContext();
  BenchContext(const BenchContext&) = delete;
  BenchContext& operator=(const BenchContext&) = delete;
  ~BenchContext();

  cudaStream_t stream() const { return stream_; }
  NvccLauncher launcher() const { return NvccLauncher{stream_}; }
  cudnnHandle_t cudnn() const { return cudnn_.get(); }
  cublasHandle_t cublas() const { return cublas_; }
  const DevicePeak& peak() const { return peak_; }

  // The context of the running benchmarks; throws if main made none.
  static const BenchContext& current();

 private:
  cudaStream_t stream_ = nullptr;
  CudnnHandle cudnn_;
  cublasHandle_t cublas_ = nullptr;
  DevicePeak peak_;
};

// Cases are named "<op>_<direction>/<shape>/<implementation>"; the ratio table pairs "ours" with
// the other implementations of the same "<op>_<direction>/<shape>". A case whose run throws
// ofa::Error (a failed CUDA, cuDNN or cuBLAS call) is reported failed with the message.
inline constexpr const char* kOurs = "ours";

void register_case(const std::string& op, const std::string& shape, const char* implementation,
                   std::function<void(benchmark::State&)> run);

// Bytes the work must move at least (every input read once, every output written once), as GB/s
// and as a percentage of the device's DRAM bandwidth.
void count_bytes(benchmark::State& state, double bytes_per_run);
// Floating-point operations (a multiply-add is two), as TFLOP/s and a percentage of FP32 peak.
void count_flops(benchmark::State& state, double flops_per_run);

}  // namespace ofa::cuda::yardstick
