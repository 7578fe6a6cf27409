#pragma once

#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/device_runtime.h"
#include "kernels/cuda/kernel_table.h"

// Where Device::cuda tensors live and their ops run. Two backends can be in one program: the
// emulated one (the host compiler's build of the kernels, run on the CPU by kernels/cuda/
// emulation) is in every build; the GPU one (nvcc's build) is in builds with OFA_CUDA and is
// usable where a GPU is present. Both are the same kernel source behind the same tables, so
// CI without a GPU runs the real device path of every op, emulated.

namespace ofa::cuda {

struct Backend {
  Backend(const char* backend_name, const DeviceRuntime& calls, const KernelTable& table, bool poison_reused_memory)
      : name(backend_name), runtime(calls), kernels(table), allocator(runtime, poison_reused_memory) {}
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  const char* name;  // "emulated" or "gpu"
  const DeviceRuntime runtime;
  const KernelTable kernels;
  CachingAllocator allocator;
};

Backend& emulated_backend();
// Null unless this build has the GPU backend and the machine has a GPU.
Backend* gpu_backend();

// The backend of new Device::cuda tensors and of ops on them. At first use: the environment's
// OFA_CUDA_BACKEND ("emulated" or "gpu") if set, else the GPU where there is one, else the
// emulation.
Backend& active_backend();
// Switches backends; throws ofa::Error while the active one has memory in use (tensors of one
// backend cannot meet kernels of the other).
void use_backend(Backend& backend);

}  // namespace ofa::cuda
