// The GPU backend: nvcc's instantiations of the kernel wrappers (ofa_cuda_kernels) behind the
// same tables as the emulated backend, launched on the CUDA runtime's streams.

#include "kernels/cuda/backend.h"
#include "kernels/cuda/nvcc_launcher.cuh"
#include "kernels/cuda/ops/conv_instances.cuh"
#include "kernels/cuda/ops/elementwise_instances.cuh"
#include "kernels/cuda/backend_tables.inl"

namespace ofa::cuda {

Backend* gpu_backend() {
  static Backend* backend = []() -> Backend* {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
      cudaGetLastError();  // no driver or no device: clear the error it left
      return nullptr;
    }
    // Never destroyed: the CUDA runtime may be gone before our statics are.
    return new Backend("gpu", make_runtime(), make_kernel_table<NvccLauncher>(), false);
  }();
  return backend;
}

}  // namespace ofa::cuda
