// The convolution-family kernels built by nvcc for the GPUs (sm_80, sm_90 and PTX), each host
// wrapper instantiated with the launcher that launches on a stream. A CUDA compile error or
// warning fails the build here.

#include "kernels/cuda/ops/conv_instances.cuh"

namespace ofa::cuda {

template void linear_forward(const NvccLauncher&, const float*, const float*, const float*, float*, const LinearShape&);
template void linear_backward(const NvccLauncher&, const float*, const float*, const float*, float*, float*, float*,
                              float*, const LinearShape&);
template void pointwise_conv_forward(const NvccLauncher&, const float*, const float*, float*,
                                     const PointwiseConvShape&);
template void pointwise_conv_backward(const NvccLauncher&, const float*, const float*, const float*, float*, float*,
                                      float*, const PointwiseConvShape&);
template void dense_conv_forward(const NvccLauncher&, const float*, const float*, float*, const DenseConvShape&);
template void dense_conv_backward(const NvccLauncher&, const float*, const float*, const float*, float*, float*, float*,
                                  const DenseConvShape&);
template void depthwise_conv_forward(const NvccLauncher&, const float*, const float*, int, float*,
                                     const DepthwiseConvShape&);
template void depthwise_conv_backward(const NvccLauncher&, const float*, const float*, int, const float*, float*,
                                      float*, float*, const DepthwiseConvShape&);
template void elastic_kernel_forward(const NvccLauncher&, const float*, const ElasticTransforms<const float*>&,
                                     const ElasticKernelShape&, float*);
template void elastic_kernel_backward(const NvccLauncher&, const float*, const ElasticTransforms<const float*>&,
                                      const ElasticKernelShape&, const float*, float*, const ElasticTransforms<float*>&,
                                      float*);
template void elastic_depthwise_conv_forward(const NvccLauncher&, const float*, const float*,
                                             const ElasticTransforms<const float*>&, const ElasticKernelShape&,
                                             const DepthwiseConvShape&, float*, float*);
template void elastic_depthwise_conv_backward(const NvccLauncher&, const float*, const float*,
                                              const ElasticTransforms<const float*>&, const ElasticKernelShape&,
                                              const DepthwiseConvShape&, const float*, float*, float*,
                                              const ElasticTransforms<float*>&, float*);

}  // namespace ofa::cuda
