#pragma once

// Fills device memory with reproducible uniform floats, so that benchmark inputs of hundreds of
// megabytes cost no host-side generation and copy.

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/launch.h"

namespace ofa::cuda::yardstick {

// SplitMix64's finaliser: consecutive indices give independent-looking 64-bit values.
__host__ __device__ __forceinline__ std::uint64_t mix_bits(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

template <int Threads>
__global__ void __launch_bounds__(Threads)
    fill_uniform_kernel(float* out, long long count, std::uint64_t seed, float lo, float hi) {
  const long long stride = static_cast<long long>(gridDim.x) * Threads;
  for (long long i = static_cast<long long>(blockIdx.x) * Threads + threadIdx.x; i < count; i += stride) {
    const float unit = float(mix_bits(seed * 0x9e3779b97f4a7c15ull + std::uint64_t(i)) >> 40) * 0x1p-24f;
    out[i] = lo + (hi - lo) * unit;
  }
}

template <Launcher L>
void fill_uniform(const L& launcher, float* out, long long count, std::uint64_t seed, float lo, float hi) {
  constexpr int threads = 256;
  constexpr long long max_blocks = 4096;
  const long long blocks = count == 0 ? 1 : std::min(max_blocks, (count + threads - 1) / threads);
  launcher.launch(fill_uniform_kernel<threads>, dim3(unsigned(blocks)), dim3(threads), 0, out, count, seed, lo, hi);
}

}  // namespace ofa::cuda::yardstick
