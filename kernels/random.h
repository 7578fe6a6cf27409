#pragma once

#include <cstdint>

// CUDA kernels draw the same values (kernels/cuda/ops/dropout.cuh); plain C++ sees no keywords.
#if defined(__CUDACC__)
#define OFA_HOST_DEVICE __host__ __device__
#else
#define OFA_HOST_DEVICE
#endif

namespace ofa {

// Counter-based randomness: the value for element i depends only on (seed, stream, i),
// never on thread count or visiting order, so a CPU loop, an OpenMP loop and a CUDA
// kernel draw the same dropout mask.
OFA_HOST_DEVICE constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) with 24 random bits, exactly representable in float.
OFA_HOST_DEVICE constexpr float uniform01(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  const std::uint64_t bits = mix64(mix64(seed ^ mix64(stream)) + index);
  return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);
}

}  // namespace ofa
