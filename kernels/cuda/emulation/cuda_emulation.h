#pragma once

// CUDA for the host compiler: kernel source compiled with g++ or clang++ runs on the CPU, one
// fiber per CUDA thread (block.h). Kernel sources include kernels/cuda/device.h, which picks
// this header or CUDA's own. The CUDA names live in ofa::emu::api, so their symbols never
// collide with the CUDA runtime's in a program that links both.

#include "kernels/cuda/emulation/keywords.h"  // first: the keyword macros
#include "kernels/cuda/emulation/atomics.h"
#include "kernels/cuda/emulation/intrinsics.h"
#include "kernels/cuda/emulation/runtime_api.h"
#include "kernels/cuda/emulation/thread_block.h"
#include "kernels/cuda/emulation/vector_types.h"
#include "kernels/cuda/emulation/warp_functions.h"

using namespace ofa::emu::api;  // CUDA's names are global names
