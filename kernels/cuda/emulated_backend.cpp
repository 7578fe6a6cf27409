// The emulated backend: the host compiler's instantiation of every kernel wrapper with the
// emulation's launcher and runtime.

#include "kernels/cuda/backend.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/backend_tables.inl"

namespace ofa::cuda {

Backend& emulated_backend() {
  // Never destroyed: tensors in static storage may outlive any static of ours.
  static Backend* backend = new Backend("emulated", make_runtime(), make_kernel_table<EmulatedLauncher>(), true);
  return *backend;
}

}  // namespace ofa::cuda
