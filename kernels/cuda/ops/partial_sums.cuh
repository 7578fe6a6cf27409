#pragma once

#include <algorithm>
#include <cstddef>

#include "kernels/cuda/launch.h"

// The second stage of the parameter-gradient reductions. A weight gradient sums over every
// pixel of a batch, far more terms than one block should walk, and atomicAdd would make the
// sum's order (so its last bits) change from run to run. So the first stage writes one partial
// result per chunk of the work to a workspace and this stage adds the chunks in a fixed order:
// the same inputs give the same bits on every run.

namespace ofa::cuda {

// Blocks a first stage aims for: several waves on the largest GPUs, so the chunks keep every
// SM busy, while the workspace (chunks x gradient size) stays small.
inline constexpr int kReductionBlocks = 512;

// `slices` partial results, each a [rows, cols] matrix with row stride cols, slice_stride
// floats apart.
struct PartialSums {
  const float* partials;
  long long slice_stride;
  int slices, rows, cols;
};

// out[r * ld_out + c] = (accumulate ? out[r * ld_out + c] : 0) + sum over slices in order.
template <int Threads>
__global__ void __launch_bounds__(Threads) sum_partials_kernel(PartialSums p, float* out, int ld_out, bool accumulate) {
  const long long i = static_cast<long long>(blockIdx.x) * Threads + threadIdx.x;
  if (i >= static_cast<long long>(p.rows) * p.cols) return;
  float sum = 0.0f;
  for (int s = 0; s < p.slices; ++s) sum += p.partials[s * p.slice_stride + i];
  float* const target = out + (i / p.cols) * ld_out + i % p.cols;
  *target = accumulate ? *target + sum : sum;
}

template <Launcher L>
void sum_partials(const L& launcher, const PartialSums& p, float* out, int ld_out, bool accumulate) {
  constexpr int threads = 256;
  const long long count = static_cast<long long>(p.rows) * p.cols;
  if (count == 0) return;
  launcher.launch(sum_partials_kernel<threads>, dim3(unsigned((count + threads - 1) / threads)), dim3(threads), 0, p,
                  out, ld_out, accumulate);
}

// `items` units of work cut into at most `max_chunks` chunks of `size` items (the last may be
// shorter). Depends only on the sizes, so the reduction order does too.
struct Chunking {
  long long size;
  int count;
};

inline Chunking chunk_evenly(long long items, long long max_chunks) {
  const long long chunks = std::clamp<long long>(max_chunks, 1, std::max<long long>(items, 1));
  const long long size = std::max<long long>((items + chunks - 1) / chunks, 1);
  return {size, int((items + size - 1) / size)};
}

}  // namespace ofa::cuda
