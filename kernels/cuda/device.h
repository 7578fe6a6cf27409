#pragma once

// The one header a kernel source (.cuh) includes. Under nvcc it is CUDA itself; under the host
// compiler it is the CPU emulation, and the same source runs in CI without a GPU.
//
// Rules a kernel source follows so that both compilers take it (see README.md):
// - kernels are templates (nvcc rejects `inline __global__`; a plain one in a header would be
//   defined in every translation unit), launched only through a launcher (launch.h);
// - dynamic shared memory only through OFA_DYNAMIC_SHARED, loops unrolled with OFA_UNROLL;
// - parameters by value, per-thread state in locals (never static or thread_local);
// - no __noinline__, no tensor-core, cp.async or inline PTX paths without an emulated twin
//   behind `#ifdef __CUDA_ARCH__`.

#if defined(__CUDACC__)

#include <cuda_runtime.h>

// The kernel's dynamic shared memory as a T*. One byte array for every kernel, so kernels of
// different element types can share a translation unit.
#define OFA_DYNAMIC_SHARED(T, name)                                          \
  extern __shared__ __align__(16) unsigned char ofa_dynamic_shared_bytes_[]; \
  T* const name = reinterpret_cast<T*>(ofa_dynamic_shared_bytes_)

#define OFA_UNROLL _Pragma("unroll")

#else

#include "kernels/cuda/emulation/cuda_emulation.h"

#define OFA_DYNAMIC_SHARED(T, name) T* const name = ::ofa::emu::detail::dynamic_shared<T>()

// g++ does not know `#pragma unroll`, and unrolling is no concern of the emulation.
#define OFA_UNROLL

#endif
