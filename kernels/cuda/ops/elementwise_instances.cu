// The normalisation, elementwise, loss and optimiser kernels built by nvcc for the GPUs, every
// host wrapper instantiated with the launcher that launches there. A CUDA compile error (or
// warning) in any of them fails the build here.

#include "kernels/cuda/ops/elementwise_instances.cuh"

namespace ofa::cuda {

using N = NvccLauncher;

template void activation_forward(const N&, Activation, const float*, long long, float*);
template void activation_backward(const N&, Activation, const float*, const float*, long long, float*);
template void residual_add_forward(const N&, const float*, const float*, long long, float*);

template void batch_norm_train_forward(const N&, const float*, long long, int, const BatchNormDeviceParams&,
                                       Activation, float*, const BatchNormDeviceSaved&, const BatchNormConfig&, void*);
template void batch_norm_eval_forward(const N&, const float*, long long, int, const BatchNormDeviceParams&, Activation,
                                      float*, float);
template void batch_norm_backward(const N&, const float*, long long, int, const BatchNormDeviceParams&,
                                  const BatchNormDeviceSaved&, Activation, const float*, float*,
                                  const BatchNormDeviceGrads&, void*);

template void global_avg_pool_forward(const N&, const float*, const PoolShape&, float*, void*);
template void global_avg_pool_backward(const N&, const float*, const PoolShape&, float*);
template void channel_scale_forward(const N&, const float*, const float*, const PoolShape&, float*);
template void channel_scale_backward(const N&, const float*, const float*, const float*, const PoolShape&, float*,
                                     float*, void*);
template void pooled_channel_scale_input_backward(const N&, const float*, const float*, const float*, const PoolShape&,
                                                  float*);
template void squeeze_excite_forward(const N&, const float*, const PoolShape&, const SqueezeExciteDeviceWeights&, int,
                                     float*, const SqueezeExciteDeviceSaved&, void*);
template void squeeze_excite_backward(const N&, const float*, const PoolShape&, const SqueezeExciteDeviceWeights&, int,
                                      const SqueezeExciteDeviceSaved&, const float*, float*,
                                      const SqueezeExciteDeviceGrads&, void*);

template void dropout_forward(const N&, const float*, long long, float, std::uint64_t, std::uint64_t, float*);
template void dropout_backward(const N&, const float*, long long, float, std::uint64_t, std::uint64_t, float*);

template void bilinear_resize_forward(const N&, const float*, const ResizeShape&, float*);
template void bilinear_resize_backward(const N&, const float*, const ResizeShape&, float*);

template void cross_entropy_forward(const N&, const float*, const LogitsShape&, const std::int32_t*, float, float*,
                                    void*);
template void cross_entropy_backward(const N&, const float*, const LogitsShape&, const std::int32_t*, float, float,
                                     float*, long long);
template void distillation_forward(const N&, const float*, const LogitsShape&, const float*, long long, float, float*,
                                   void*);
template void distillation_backward(const N&, const float*, const LogitsShape&, const float*, long long, float, float,
                                    float*, long long);
template void accuracy_counts(const N&, const float*, const LogitsShape&, const std::int32_t*, int,
                              unsigned long long*);

template void sgd_step(const N&, const SgdDeviceTensor*, int, long long, const SgdConfig&);

}  // namespace ofa::cuda
