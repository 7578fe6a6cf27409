#pragma once

// Only nvcc sees this header: it holds the project's one `<<<>>>`.
#if !defined(__CUDACC__)
#error "nvcc_launcher.cuh is for nvcc; the host compiler uses EmulatedLauncher"
#endif

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

#include "kernels/error.h"

namespace ofa::cuda {

// Launches on `stream`. A launch error (bad configuration, too much shared memory) throws at
// once; errors while the kernel runs surface at the next synchronisation, and in debug builds
// right after the launch, with the kernel's name either way.
class NvccLauncher {
 public:
  explicit NvccLauncher(cudaStream_t stream = nullptr) : stream_(stream) {}

  template <class... Params, class... Args>
  void launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, Args&&... args) const {
    static_assert(sizeof...(Params) == sizeof...(Args), "a kernel launch takes one argument per kernel parameter");
    // Beyond 48 KiB a kernel must opt in to dynamic shared memory.
    if (shared_bytes > 48 * 1024)
      check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared_bytes)),
            reinterpret_cast<const void*>(kernel), grid, block, shared_bytes);
    kernel<<<grid, block, shared_bytes, stream_>>>(std::forward<Args>(args)...);
    check(cudaGetLastError(), reinterpret_cast<const void*>(kernel), grid, block, shared_bytes);
#ifndef NDEBUG
    check(cudaStreamSynchronize(stream_), reinterpret_cast<const void*>(kernel), grid, block, shared_bytes);
#endif
  }

  cudaStream_t stream() const { return stream_; }

 private:
  static void check(cudaError_t error, const void* kernel, dim3 grid, dim3 block, std::size_t shared_bytes) {
    if (error == cudaSuccess) return;
    const char* name = nullptr;
    if (cudaFuncGetName(&name, kernel) != cudaSuccess || name == nullptr) name = "a kernel";
    fail(concat("CUDA launch of ", name, " with grid (", grid.x, ",", grid.y, ",", grid.z, ") and block (", block.x,
                ",", block.y, ",", block.z, ") and ", shared_bytes, " bytes of shared memory"),
         cudaGetErrorString(error));
  }

  cudaStream_t stream_;
};

}  // namespace ofa::cuda
