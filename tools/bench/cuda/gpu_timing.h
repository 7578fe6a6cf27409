#pragma once

// nvcc only: timing GPU work for Google Benchmark with CUDA events (manual time), so that the
// figure is the device's time for the work and not the host's time to enqueue it.

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <utility>

#include "tools/bench/cuda/library_status.h"

namespace ofa::cuda::yardstick {

class CudaEvent {
 public:
  CudaEvent() { check_cuda(cudaEventCreate(&event_), "cudaEventCreate"); }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  ~CudaEvent() { cudaEventDestroy(event_); }
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

// Runs of the work per timed iteration: back-to-back launches keep the GPU busy while the host
// enqueues, so a short kernel's time is not the launch latency of a lone launch.
inline constexpr int kRunsPerIteration = 8;

// Times `work` (which enqueues on `stream`) after one untimed warm-up run; each benchmark
// iteration reports the mean device time of kRunsPerIteration runs.
template <class Work>
void time_on_device(benchmark::State& state, cudaStream_t stream, Work&& work) {
  const CudaEvent start, stop;
  work();
  check_cuda(cudaStreamSynchronize(stream), "warm-up run");
  for (auto _ : state) {
    check_cuda(cudaEventRecord(start.get(), stream), "cudaEventRecord");
    for (int run = 0; run < kRunsPerIteration; ++run) work();
    check_cuda(cudaEventRecord(stop.get(), stream), "cudaEventRecord");
    check_cuda(cudaEventSynchronize(stop.get()), "timed runs");
    float milliseconds = 0.0f;
    check_cuda(cudaEventElapsedTime(&milliseconds, start.get(), stop.get()), "cudaEventElapsedTime");
    state.SetIterationTime(double(milliseconds) * 1e-3 / kRunsPerIteration);
  }
}

}  // namespace ofa::cuda::yardstick
