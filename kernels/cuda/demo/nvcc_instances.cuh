#pragma once

// The host wrappers ofa_cuda_kernels instantiates for the GPU (nvcc_instances.cu); nvcc
// translation units that call them include this instead of instantiating them again.

#include "kernels/cuda/demo/block_sum.cuh"
#include "kernels/cuda/demo/depthwise_conv.cuh"
#include "kernels/cuda/demo/tiled_gemm.cuh"
#include "kernels/cuda/nvcc_launcher.cuh"

namespace ofa::cuda::demo {

extern template void tiled_gemm(const NvccLauncher&, const float*, const float*, float*, int, int, int);
extern template void block_sum(const NvccLauncher&, const float*, long long, float*, int);
extern template void depthwise_conv(const NvccLauncher&, const float*, const float*, float*, const DepthwiseShape&);

}  // namespace ofa::cuda::demo
