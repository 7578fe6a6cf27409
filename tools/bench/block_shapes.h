#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>

#include "kernels/tensor.h"

// The MBConv block shapes every op benchmark runs at: the small-image block
// (batch 64, 32x32, 40 channels, expand 6, kernel 7) and the first elastic stage of
// OFA-MobileNetV3 at 224x224 input (56x56 after two stride-2 layers, 24 channels).
// The weights are max-size (expand 6, kernel 7) and every op runs on the active subnet.
namespace ofa::bench {

struct BlockShape {
  const char* name;
  std::int64_t batch, size, channels, expand, kernel, stride;
  std::int64_t max_channels, max_expand, max_kernel;

  std::int64_t mid() const { return channels * expand; }
  std::int64_t max_mid() const { return max_channels * max_expand; }
  std::int64_t pixels() const { return batch * size * size; }
  std::int64_t out_size() const { return (size + stride - 1) / stride; }
};

inline constexpr std::array<BlockShape, 3> kBlockShapes = {{
    {"b64_32x32_c40_e6_k7", 64, 32, 40, 6, 7, 1, 40, 6, 7},
    {"b8_56x56_c24_e6_k7", 8, 56, 24, 6, 7, 1, 24, 6, 7},
    {"b8_56x56_c24_e4_k5_active", 8, 56, 24, 4, 5, 1, 24, 6, 7},
}};
inline constexpr int kNumBlockShapes = static_cast<int>(kBlockShapes.size());

inline Tensor random_activation(const Shape& shape) {
  static std::mt19937 generator(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t = Tensor::empty(shape);
  float* p = t.f32();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = dist(generator);
  return t;
}

// GFLOP/s of an [m,k] x [k,n] product, so the op and the raw sgemm are read side by side.
inline void set_gemm_counters(benchmark::State& state, std::int64_t m, std::int64_t n, std::int64_t k) {
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * double(m) * double(n) * double(k) * double(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
}

using ShapeBenchmark = void (*)(benchmark::State&, const BlockShape&);

// Registers one case per block shape, named "<op>/<shape name>" so --filter can pick either.
inline int register_per_shape(const char* op, ShapeBenchmark run) {
  for (const BlockShape& shape : kBlockShapes)
    benchmark::RegisterBenchmark((std::string(op) + "/" + shape.name).c_str(), run, shape)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  return 0;
}

}  // namespace ofa::bench

#define OFA_SHAPE_BENCHMARK(run) \
  [[maybe_unused]] static const int run##_registered = ::ofa::bench::register_per_shape(#run, run)
