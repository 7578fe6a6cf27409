// ofa-bench-kernels, run by `ofa bench kernels`: every hand-written CUDA kernel at OFA
// MobileNetV3 shapes beside cuDNN (or cuBLAS) doing the same work, timed with CUDA events.
// Without a usable device it says so in one line and exits 2.

#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdio>
#include <string>

#include "kernels/error.h"
#include "tools/bench/cuda/bench_context.h"
#include "tools/bench/cuda/gpu_timing.h"
#include "tools/bench/cuda/ratio_reporter.h"

namespace {

using ofa::cuda::yardstick::BenchContext;

void describe(const BenchContext& context) {
  const auto& peak = context.peak();
  benchmark::AddCustomContext("device", peak.name);
  benchmark::AddCustomContext("peak_dram_GBps", std::to_string(peak.bytes_per_second / 1e9));
  benchmark::AddCustomContext("peak_fp32_TFLOPS", std::to_string(peak.fp32_flops_per_second / 1e12));
  benchmark::AddCustomContext("cudnn_version", std::to_string(cudnnGetVersion()));
  int cublas_version = 0;
  ofa::cuda::yardstick::check_cublas(cublasGetVersion(context.cublas(), &cublas_version), "cublasGetVersion");
  benchmark::AddCustomContext("cublas_version", std::to_string(cublas_version));
  benchmark::AddCustomContext("runs_per_timed_iteration", std::to_string(ofa::cuda::yardstick::kRunsPerIteration));
}

// Listing the cases needs no device.
bool lists_cases(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--benchmark_list_tests" || arg == "--benchmark_list_tests=true") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const bool listing = lists_cases(argc, argv);
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (!listing && (status != cudaSuccess || devices == 0)) {
    std::fprintf(stderr, "ofa bench kernels: no usable CUDA device (%s); the kernel benchmarks need a GPU\n",
                 status != cudaSuccess ? cudaGetErrorString(status) : "none found");
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  try {
    if (listing) {
      benchmark::RunSpecifiedBenchmarks();
    } else {
      const BenchContext context;
      describe(context);
      ofa::cuda::yardstick::RatioReporter reporter;
      benchmark::RunSpecifiedBenchmarks(&reporter);
    }
  } catch (const ofa::Error& e) {
    std::fprintf(stderr, "ofa bench kernels: %s\n", e.what());
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
