// The demonstration kernels built by nvcc for the GPUs (sm_80, sm_90 and PTX), instantiated
// with the launcher that launches them there. A CUDA compile error fails the build here.

#include "kernels/cuda/demo/nvcc_instances.cuh"

namespace ofa::cuda::demo {

template void tiled_gemm(const NvccLauncher&, const float*, const float*, float*, int, int, int);
template void block_sum(const NvccLauncher&, const float*, long long, float*, int);
template void depthwise_conv(const NvccLauncher&, const float*, const float*, float*, const DepthwiseShape&);

}  // namespace ofa::cuda::demo
