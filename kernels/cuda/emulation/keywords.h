#pragma once

#include "kernels/cuda/emulation/config.h"

// CUDA's keywords for the host compiler. The emulation never includes CUDA's own headers (CI
// has no toolkit), so nothing redefines these. __noinline__ is deliberately absent: libstdc++
// spells __attribute__((__noinline__)), so kernels must not use it.

#define OFA_CUDA_EMULATION 1

// Every function is a host function on the CPU.
#define __global__
#define __device__
#define __host__
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __align__(n) __attribute__((aligned(n)))
// The GPU rejects a launch beyond the bounds; the emulator has no per-kernel attributes to check.
#define __launch_bounds__(...)

// Static shared memory: one array per block. The blocks an OS thread runs follow one another,
// so per-OS-thread storage serves. Under ASan it is a plain static (and the grid runs on one
// OS thread), because ASan puts redzones around statics but not around thread_locals.
#if OFA_EMU_ASAN
#define __shared__ static
#else
#define __shared__ static thread_local
#endif
