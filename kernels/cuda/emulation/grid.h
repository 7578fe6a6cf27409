#pragma once

#include <cstddef>

#include "kernels/cuda/emulation/vector_types.h"

// Running one kernel launch: the grid's blocks over OS threads, each block's threads as fibers
// on one OS thread (block.h). The launcher (launcher.h) builds the plan.

namespace ofa::emu {

// The order in which a block's threads run between synchronisation points. A race that one
// order hides (a read of the neighbour thread's shared value before a barrier) shows in the
// other, so tests run both.
enum class ThreadOrder { forward, reverse };

void set_thread_order(ThreadOrder order);

// OS threads that run blocks at once; 0 (the default) means OpenMP's thread count.
void set_worker_threads(int threads);

namespace detail {

struct LaunchPlan {
  api::dim3 grid;
  api::dim3 block;
  std::size_t shared_bytes;
  // Calls the kernel with a copy of the arguments; every emulated thread calls it once.
  void (*invoke)(const void* call);
  const void* call;
  // The kernel's pointer arguments, nullptr for its other arguments: each must point into
  // emulated device memory (runtime_api.h).
  const void* const* pointer_arguments;
  std::size_t argument_count;
  // Static __shared__ arrays are plain statics in this launch's code (keywords.h): blocks
  // must then run one at a time.
  bool shared_statics_are_global;
};

// Validates the launch as a GPU would (throws ofa::Error naming the kernel at `kernel`) and
// runs the grid to completion.
void run_grid(const LaunchPlan& plan, const void* kernel);

}  // namespace detail
}  // namespace ofa::emu
