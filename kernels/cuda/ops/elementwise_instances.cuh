#pragma once

// The normalisation, elementwise, loss and optimiser host wrappers ofa_cuda_kernels
// instantiates for the GPU (elementwise_instances.cu); nvcc translation units that call them
// include this instead of instantiating them again.

#include "kernels/cuda/nvcc_launcher.cuh"
#include "kernels/cuda/ops/accuracy.cuh"
#include "kernels/cuda/ops/activation.cuh"
#include "kernels/cuda/ops/batch_norm.cuh"
#include "kernels/cuda/ops/bilinear_resize.cuh"
#include "kernels/cuda/ops/cross_entropy.cuh"
#include "kernels/cuda/ops/distillation.cuh"
#include "kernels/cuda/ops/dropout.cuh"
#include "kernels/cuda/ops/pooling.cuh"
#include "kernels/cuda/ops/residual_add.cuh"
#include "kernels/cuda/ops/sgd.cuh"
#include "kernels/cuda/ops/squeeze_excite.cuh"

namespace ofa::cuda {


extern template void activation_forward(const NvccLauncher&, Activation, const float*, long long, float*);
extern template void activation_backward(const NvccLauncher&, Activation, const float*, const float*, long long, float*);
extern template void residual_add_forward(const NvccLauncher&, const float*, const float*, long long, float*);

extern template void batch_norm_train_forward(const NvccLauncher&, const float*, long long, int, const BatchNormDeviceParams&,
                                              Activation, float*, const BatchNormDeviceSaved&, const BatchNormConfig&, void*);
extern template void batch_norm_eval_forward(const NvccLauncher&, const float*, long long, int, const BatchNormDeviceParams&, Activation,
                                             float*, float);
extern template void batch_norm_backward(const NvccLauncher&, const float*, long long, int, const BatchNormDeviceParams&,
                                         const BatchNormDeviceSaved&, Activation, const float*, float*,
                                         const BatchNormDeviceGrads&, void*);

extern template void global_avg_pool_forward(const NvccLauncher&, const float*, const PoolShape&, float*, void*);
extern template void global_avg_pool_backward(const NvccLauncher&, const float*, const PoolShape&, float*);
extern template void channel_scale_forward(const NvccLauncher&, const float*, const float*, const PoolShape&, float*);
extern template void channel_scale_backward(const NvccLauncher&, const float*, const float*, const float*, const PoolShape&, float*,
                                            float*, void*);
extern template void pooled_channel_scale_input_backward(const NvccLauncher&, const float*, const float*, const float*, const PoolShape&,
                                                         float*);
extern template void squeeze_excite_forward(const NvccLauncher&, const float*, const PoolShape&, const SqueezeExciteDeviceWeights&, int,
                                            float*, const SqueezeExciteDeviceSaved&, void*);
extern template void squeeze_excite_backward(const NvccLauncher&, const float*, const PoolShape&, const SqueezeExciteDeviceWeights&, int,
                                             const SqueezeExciteDeviceSaved&, const float*, float*,
                                             const SqueezeExciteDeviceGrads&, void*);

extern template void dropout_forward(const NvccLauncher&, const float*, long long, float, std::uint64_t, std::uint64_t, float*);
extern template void dropout_backward(const NvccLauncher&, const float*, long long, float, std::uint64_t, std::uint64_t, float*);

extern template void bilinear_resize_forward(const NvccLauncher&, const float*, const ResizeShape&, float*);
extern template void bilinear_resize_backward(const NvccLauncher&, const float*, const ResizeShape&, float*);

extern template void cross_entropy_forward(const NvccLauncher&, const float*, const LogitsShape&, const std::int32_t*, float, float*,
                                           void*);
extern template void cross_entropy_backward(const NvccLauncher&, const float*, const LogitsShape&, const std::int32_t*, float, float,
                                            float*, long long);
extern template void distillation_forward(const NvccLauncher&, const float*, const LogitsShape&, const float*, long long, float, float*,
                                          void*);
extern template void distillation_backward(const NvccLauncher&, const float*, const LogitsShape&, const float*, long long, float, float,
                                           float*, long long);
extern template void accuracy_counts(const NvccLauncher&, const float*, const LogitsShape&, const std::int32_t*, int,
                                     unsigned long long*);

extern template void sgd_step(const NvccLauncher&, const SgdDeviceTensor*, int, long long, const SgdConfig&);

}  // namespace ofa::cuda
