#pragma once

#include <cstddef>

#include "kernels/cuda/emulation/call_site.h"
#include "kernels/cuda/emulation/vector_types.h"

// The built-in variables and block-wide synchronisation as kernels see them.

namespace ofa::emu::detail {

struct BlockInfo {
  api::uint3 block_idx;
  api::dim3 block_dim;
  api::dim3 grid_dim;
  std::byte* dynamic_shared;
};

// Set by the scheduler before it resumes a fiber, so the built-ins are one load each.
extern constinit thread_local const api::uint3* current_thread_idx;
extern constinit thread_local const BlockInfo* current_block_info;

// Waits until every thread of the block has arrived; returns how many passed a non-zero
// predicate. Aborts on divergence (see block.cpp).
int block_barrier(int predicate, CallSite where);

// Not constexpr, as in CUDA, so emulated code cannot size arrays with it either.
inline int warp_size() { return 32; }

template <class T>
T* dynamic_shared() {
  return reinterpret_cast<T*>(current_block_info->dynamic_shared);
}

}  // namespace ofa::emu::detail

#define threadIdx (*::ofa::emu::detail::current_thread_idx)
#define blockIdx (::ofa::emu::detail::current_block_info->block_idx)
#define blockDim (::ofa::emu::detail::current_block_info->block_dim)
#define gridDim (::ofa::emu::detail::current_block_info->grid_dim)
#define warpSize (::ofa::emu::detail::warp_size())

namespace ofa::emu::api {

inline void __syncthreads(detail::CallSite where = detail::CallSite::here()) { detail::block_barrier(0, where); }

inline int __syncthreads_count(int predicate, detail::CallSite where = detail::CallSite::here()) {
  return detail::block_barrier(predicate, where);
}

inline int __syncthreads_and(int predicate, detail::CallSite where = detail::CallSite::here()) {
  const int passed = detail::block_barrier(predicate, where);
  const dim3 size = detail::current_block_info->block_dim;
  return passed == int(size.x * size.y * size.z);
}

inline int __syncthreads_or(int predicate, detail::CallSite where = detail::CallSite::here()) {
  return detail::block_barrier(predicate, where) != 0;
}

}  // namespace ofa::emu::api
