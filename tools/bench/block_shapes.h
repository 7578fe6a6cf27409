#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

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

// The elastic kernel sizes from the shape's K_max down to 3, as OFA-MobileNetV3 lists them.
inline std::vector<std::int64_t> elastic_kernel_sizes(const BlockShape& s) {
  std::vector<std::int64_t> sizes;
  for (std::int64_t k = s.max_kernel; k >= 3; k -= 2) sizes.push_back(k);
  return sizes;
}

// One random [t*t, t*t] transformation matrix per step of `sizes`.
inline std::vector<Tensor> random_transforms(const std::vector<std::int64_t>& sizes) {
  std::vector<Tensor> transforms;
  for (std::size_t step = 0; step + 1 < sizes.size(); ++step) {
    const std::int64_t taps = sizes[step + 1] * sizes[step + 1];
    transforms.push_back(random_activation({taps, taps}));
  }
  return transforms;
}

inline std::vector<Tensor> zeros_like(const std::vector<Tensor>& tensors) {
  std::vector<Tensor> zeros;
  for (const Tensor& t : tensors) zeros.push_back(Tensor::zeros(t.shape()));
  return zeros;
}

// OFA's SE hidden width for `channels` inputs: make_divisible(channels / 4, 8).
inline std::int64_t se_mid_channels(std::int64_t channels) {
  const std::int64_t v = channels / 4;
  const std::int64_t rounded = std::max<std::int64_t>(8, (v + 4) / 8 * 8);
  return 10 * rounded < 9 * v ? rounded + 8 : rounded;
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
