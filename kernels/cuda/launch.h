#pragma once

#include <concepts>
#include <cstddef>

#include "kernels/cuda/device.h"

// Host wrappers choose grid, block and shared memory once, as templates over a Launcher:
//
//   template <ofa::cuda::Launcher L>
//   void scale(const L& launcher, float* x, int n) {
//     launcher.launch(scale_kernel<float>, dim3(ofa::cuda::ceil_div(n, 256)), dim3(256), 0, x, n);
//   }
//
// nvcc instantiates them with NvccLauncher (nvcc_launcher.cuh, the project's only
// triple-chevron launch), the host compiler with EmulatedLauncher (emulation/launcher.h),
// which runs the kernel on the CPU. launch(kernel, grid, block, shared_bytes, args...)
// converts each argument to the kernel's parameter type and throws ofa::Error, naming the
// kernel, if the launch fails.

#if !defined(__CUDACC__)
#include "kernels/cuda/emulation/launcher.h"
#endif

namespace ofa::cuda {

namespace launch_detail {
template <class T>
void probe_kernel(T) {}
}  // namespace launch_detail

template <class L>
concept Launcher = requires(const L& launcher, int* pointer) {
  launcher.launch(&launch_detail::probe_kernel<int*>, dim3(1), dim3(1), std::size_t{0}, pointer);
};

__host__ __device__ constexpr int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace ofa::cuda
