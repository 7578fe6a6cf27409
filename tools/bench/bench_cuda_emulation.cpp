#include <benchmark/benchmark.h>

#include <cstddef>
#include <vector>

#include "kernels/cuda/demo/block_sum.cuh"
#include "kernels/cuda/demo/depthwise_conv.cuh"
#include "kernels/cuda/demo/tiled_gemm.cuh"

// What emulated CUDA costs on the CPU (kernels/cuda/emulation): the price of the emulated
// tests, not of the kernels on a GPU. "switch_ns" is the time per thread per barrier.

namespace ofa::bench {
namespace {

// Emulated device memory (NaN-poisoned until written).
class EmulatedBuffer {
 public:
  explicit EmulatedBuffer(std::size_t floats) { cudaMalloc(&data_, floats * sizeof(float)); }
  EmulatedBuffer(const EmulatedBuffer&) = delete;
  EmulatedBuffer& operator=(const EmulatedBuffer&) = delete;
  ~EmulatedBuffer() { cudaFree(data_); }
  float* get() const { return data_; }

 private:
  float* data_ = nullptr;
};

template <class T>
__global__ void barrier_loop_kernel(T* out, int rounds) {
  T value = T(threadIdx.x);
  for (int i = 0; i < rounds; ++i) __syncthreads();
  out[threadIdx.x] = value;
}

void BM_CudaEmulationBarrier(benchmark::State& state) {
  const int threads = int(state.range(0)), rounds = 100;
  const EmulatedBuffer out{std::size_t(threads)};
  for (auto _ : state)
    cuda::EmulatedLauncher().launch(barrier_loop_kernel<float>, dim3(1), dim3(unsigned(threads)), 0, out.get(), rounds);
  state.counters["switch_ns"] = benchmark::Counter(double(state.iterations()) * threads * rounds,
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CudaEmulationBarrier)->Arg(32)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);

void BM_CudaEmulationTiledGemm(benchmark::State& state) {
  const int size = int(state.range(0));
  const auto elements = std::size_t(size) * std::size_t(size);
  const EmulatedBuffer a{elements}, b{elements}, c{elements};
  cudaMemset(a.get(), 0, elements * sizeof(float));
  cudaMemset(b.get(), 0, elements * sizeof(float));
  for (auto _ : state) cuda::demo::tiled_gemm(cuda::EmulatedLauncher(), a.get(), b.get(), c.get(), size, size, size);
}
BENCHMARK(BM_CudaEmulationTiledGemm)->Arg(100)->Arg(256)->Unit(benchmark::kMillisecond);

void BM_CudaEmulationBlockSum(benchmark::State& state) {
  const long long n = 1 << 20;
  const EmulatedBuffer x{std::size_t(n)}, sum{1};
  cudaMemset(x.get(), 0, std::size_t(n) * sizeof(float));
  for (auto _ : state) cuda::demo::block_sum(cuda::EmulatedLauncher(), x.get(), n, sum.get(), int(state.range(0)));
}
BENCHMARK(BM_CudaEmulationBlockSum)->Arg(96)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);

void BM_CudaEmulationDepthwiseConv(benchmark::State& state) {
  const cuda::demo::DepthwiseShape s{8, 32, 32, 64, int(state.range(0)), int(state.range(1))};
  const auto inputs = std::size_t(s.batch * s.height * s.width * s.channels);
  const auto weights = std::size_t(s.kernel * s.kernel * s.channels);
  const EmulatedBuffer x{inputs}, w{weights}, y{std::size_t(s.batch * s.out_height() * s.out_width() * s.channels)};
  cudaMemset(x.get(), 0, inputs * sizeof(float));
  cudaMemset(w.get(), 0, weights * sizeof(float));
  for (auto _ : state) cuda::demo::depthwise_conv(cuda::EmulatedLauncher(), x.get(), w.get(), y.get(), s);
}
BENCHMARK(BM_CudaEmulationDepthwiseConv)
    ->ArgsProduct({{3, 7}, {1, 2}})
    ->ArgNames({"k", "stride"})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ofa::bench
