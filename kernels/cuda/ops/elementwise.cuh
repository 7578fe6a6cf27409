#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "kernels/cuda/launch.h"

// What the memory-bound kernels (activations, batch norm's normalise, channel scales, dropout)
// share: 16-byte accesses where the data allows, and grid-stride loops sized once.

namespace ofa::cuda::elementwise {

inline constexpr int kThreads = 256;
// Grid-stride loops stop adding blocks here: several waves on any current GPU, and fewer
// blocks mean per-thread constants are loaded fewer times.
inline constexpr long long kMaxBlocks = 4096;

// V consecutive floats, moved with one 16-byte access when V is 4.
template <int V>
struct Floats {
  float v[V];
};

template <int V>
__device__ __forceinline__ Floats<V> load(const float* p) {
  Floats<V> f;
  if constexpr (V == 4) {
    const float4 q = *reinterpret_cast<const float4*>(p);
    f.v[0] = q.x, f.v[1] = q.y, f.v[2] = q.z, f.v[3] = q.w;
  } else {
    OFA_UNROLL
    for (int i = 0; i < V; ++i) f.v[i] = p[i];
  }
  return f;
}

template <int V>
__device__ __forceinline__ void store(float* p, const Floats<V>& f) {
  if constexpr (V == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(f.v[0], f.v[1], f.v[2], f.v[3]);
  } else {
    OFA_UNROLL
    for (int i = 0; i < V; ++i) p[i] = f.v[i];
  }
}

// 4 when rows of `row_length` floats split into whole 16-byte groups at every pointer (null
// pointers are absent operands), else 1.
inline int vector_width(long long row_length, std::initializer_list<const void*> pointers) {
  if (row_length % 4 != 0) return 1;
  for (const void* p : pointers)
    if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0) return 1;
  return 4;
}

// Calls body(std::integral_constant<int, V>{}) for the width chosen at run time.
template <class Body>
void with_vector_width(int width, Body&& body) {
  if (width == 4) {
    body(std::integral_constant<int, 4>{});
  } else {
    body(std::integral_constant<int, 1>{});
  }
}

// Blocks for a grid-stride loop over `units` work items that needs at least `min_threads`
// threads (a row loop needs one per unit of a row).
inline unsigned grid_stride_blocks(long long units, long long min_threads = 1) {
  const long long wanted = std::clamp<long long>((units + kThreads - 1) / kThreads, 1, kMaxBlocks);
  return unsigned(std::max(wanted, (min_threads + kThreads - 1) / kThreads));
}

// A grid of `images` rows of blocks (blockIdx.y is the image), each row a grid-stride loop over
// one image's `units_per_image` units with at least `units_per_row` threads.
inline dim3 per_image_grid(int images, long long units_per_image, long long units_per_row) {
  const long long share = std::max<long long>(1, kMaxBlocks / images);
  const long long wanted = std::clamp<long long>((units_per_image + kThreads - 1) / kThreads, 1, share);
  return dim3(unsigned(std::max(wanted, (units_per_row + kThreads - 1) / kThreads)), unsigned(images));
}

// A grid-stride loop over rows of `units_per_row` units in which every thread keeps one place
// in the row: the stride is the largest multiple of the row the grid's x extent holds, so a
// thread loads its channel's constants once. Threads at or past the stride have no work.
struct RowLoop {
  long long first, stride;
  int unit;  // the thread's place in the row
};

__device__ __forceinline__ RowLoop row_loop(int units_per_row) {
  const long long threads = static_cast<long long>(gridDim.x) * blockDim.x;
  const long long thread = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  return {thread, threads - threads % units_per_row, int(thread % units_per_row)};
}

// The flat grid-stride loop: this thread's first unit and the stride.
__device__ __forceinline__ long long flat_first() {
  return static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ long long flat_stride() { return static_cast<long long>(gridDim.x) * blockDim.x; }

}  // namespace ofa::cuda::elementwise
