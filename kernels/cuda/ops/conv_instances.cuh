#pragma once

// The convolution-family host wrappers ofa_cuda_kernels instantiates for the GPU
// (conv_instances.cu); nvcc translation units that call them include this instead of
// instantiating them again.

#include "kernels/cuda/nvcc_launcher.cuh"
#include "kernels/cuda/ops/dense_conv.cuh"
#include "kernels/cuda/ops/depthwise_conv.cuh"
#include "kernels/cuda/ops/elastic_kernel.cuh"
#include "kernels/cuda/ops/linear.cuh"
#include "kernels/cuda/ops/pointwise_conv.cuh"

namespace ofa::cuda {

extern template void linear_forward(const NvccLauncher&, const float*, const float*, const float*, float*,
                                    const LinearShape&);
extern template void linear_backward(const NvccLauncher&, const float*, const float*, const float*, float*, float*,
                                     float*, float*, const LinearShape&);
extern template void pointwise_conv_forward(const NvccLauncher&, const float*, const float*, float*,
                                            const PointwiseConvShape&);
extern template void pointwise_conv_backward(const NvccLauncher&, const float*, const float*, const float*, float*,
                                             float*, float*, const PointwiseConvShape&);
extern template void dense_conv_forward(const NvccLauncher&, const float*, const float*, float*, const DenseConvShape&);
extern template void dense_conv_backward(const NvccLauncher&, const float*, const float*, const float*, float*, float*,
                                         float*, const DenseConvShape&);
extern template void depthwise_conv_forward(const NvccLauncher&, const float*, const float*, int, float*,
                                            const DepthwiseConvShape&);
extern template void depthwise_conv_backward(const NvccLauncher&, const float*, const float*, int, const float*, float*,
                                             float*, float*, const DepthwiseConvShape&);
extern template void elastic_kernel_forward(const NvccLauncher&, const float*, const ElasticTransforms<const float*>&,
                                            const ElasticKernelShape&, float*);
extern template void elastic_kernel_backward(const NvccLauncher&, const float*, const ElasticTransforms<const float*>&,
                                             const ElasticKernelShape&, const float*, float*,
                                             const ElasticTransforms<float*>&, float*);
extern template void elastic_depthwise_conv_forward(const NvccLauncher&, const float*, const float*,
                                                    const ElasticTransforms<const float*>&, const ElasticKernelShape&,
                                                    const DepthwiseConvShape&, float*, float*);
extern template void elastic_depthwise_conv_backward(const NvccLauncher&, const float*, const float*,
                                                     const ElasticTransforms<const float*>&, const ElasticKernelShape&,
                                                     const DepthwiseConvShape&, const float*, float*, float*,
                                                     const ElasticTransforms<float*>&, float*);

}  // namespace ofa::cuda
