// Builds without nvcc have no GPU backend: Device::cuda runs on the emulated one.

#include "kernels/cuda/backend.h"

namespace ofa::cuda {

Backend* gpu_backend() { return nullptr; }

}  // namespace ofa::cuda
