#include "tools/bench/cuda/bench_context.h"

#include <utility>

#include "kernels/error.h"
#include "tools/bench/cuda/library_status.h"

namespace ofa::cuda::yardstick {

namespace {

const BenchContext* current_context = nullptr;

int device_attribute(cudaDeviceAttr attribute, int device) {
  int value = 0;
  check_cuda(cudaDeviceGetAttribute(&value, attribute, device), "cudaDeviceGetAttribute");
  return value;
}

// FP32 lanes per SM: 64 on sm_70 and sm_80 (V100, A100), 128 on the later ones (sm_86..sm_120).
int fp32_lanes_per_sm(int major, int minor) { return major < 8 || (major == 8 && minor == 0) ? 64 : 128; }

}  // namespace

DevicePeak query_device_peak(int device) {
  cudaDeviceProp properties{};
  check_cuda(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
  const double memory_hz = 1e3 * device_attribute(cudaDevAttrMemoryClockRate, device);
  const double bus_bytes = device_attribute(cudaDevAttrGlobalMemoryBusWidth, device) / 8.0;
  const double core_hz = 1e3 * device_attribute(cudaDevAttrClockRate, device);
  const int sms = device_attribute(cudaDevAttrMultiProcessorCount, device);
  // Double data rate: two transfers per memory clock.
  return {properties.name, 2.0 * memory_hz * bus_bytes,
          2.0 * sms * fp32_lanes_per_sm(properties.major, properties.minor) * core_hz};
}

BenchContext::BenchContext() {
  int device = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  peak_ = query_device_peak(device);
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  check_cudnn(cudnnSetStream(cudnn_.get(), stream_), "cudnnSetStream");
  check_cublas(cublasCreate(&cublas_), "cublasCreate");
  check_cublas(cublasSetStream(cublas_, stream_), "cublasSetStream");
  // FP32 GEMMs in FP32 (TF32 tensor cores only on request): the precision of the hand-written kernels.
  check_cublas(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  current_context = this;
}

BenchContext::~BenchContext() {
  current_context = nullptr;
  cudaStreamSynchronize(stream_);
  cublasDestroy(cublas_);
  cudaStreamDestroy(stream_);
}

const BenchContext& BenchContext::current() {
  OFA_CHECK(current_context != nullptr, "ofa bench kernels", "no benchmark context (created by main)");
  return *current_context;
}

void register_case(const std::string& op, const std::string& shape, const char* implementation,
                   std::function<void(benchmark::State&)> run) {
  benchmark::RegisterBenchmark(concat(op, "/", shape, "/", implementation).c_str(),
                               [run = std::move(run)](benchmark::State& state) {
                                 // A failed CUDA, cuDNN or cuBLAS call fails this case, not the run.
                                 try {
                                   run(state);
                                 } catch (const Error& e) {
                                   state.SkipWithError(e.what());
                                 }
                               })
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

void count_bytes(benchmark::State& state, double bytes_per_run) {
  if (state.error_occurred()) return;
  const double total = bytes_per_run * double(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(total / 1e9, benchmark::Counter::kIsRate);
  state.counters["%peak_bw"] =
      benchmark::Counter(100.0 * total / BenchContext::current().peak().bytes_per_second, benchmark::Counter::kIsRate);
}

void count_flops(benchmark::State& state, double flops_per_run) {
  if (state.error_occurred()) return;
  const double total = flops_per_run * double(state.iterations());
  state.counters["TFLOP/s"] = benchmark::Counter(total / 1e12, benchmark::Counter::kIsRate);
  state.counters["%peak_fp32"] = benchmark::Counter(
      100.0 * total / BenchContext::current().peak().fp32_flops_per_second, benchmark::Counter::kIsRate);
}

}  // namespace ofa::cuda::yardstick
