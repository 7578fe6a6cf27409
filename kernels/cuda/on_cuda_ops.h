#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "kernels/ops/accuracy.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/batch_norm.h"
#include "kernels/ops/sgd.h"
#include "kernels/ops/squeeze_excite.h"
#include "kernels/tensor.h"

// The op library's CUDA path: each public op in kernels/ops validates its arguments as it does
// for the CPU, then calls its namesake here when its tensors are on cuda. These turn tensors
// into the kernels' pointers and shapes, take workspaces from the caching allocator, and call
// the active backend's kernel table on the current stream. They check only what the kernels
// need beyond the CPU op's checks (views the kernels cannot address are rejected by name).
// Ops that return a host value (losses, accuracy) wait for it; the others do not synchronise.

namespace ofa::on_cuda {

void linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, std::int64_t out_features, Tensor& y);
void linear_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, Tensor* dx, Tensor& dweight,
                     Tensor* dbias);
void dense_conv_forward(const Tensor& x, const Tensor& weight, std::int64_t out_channels, std::int64_t stride,
                        Tensor& y);
void dense_conv_backward(const Tensor& x, const Tensor& weight, std::int64_t stride, const Tensor& dy, Tensor* dx,
                         Tensor& dweight);
void depthwise_conv_forward(const Tensor& x, const Tensor& kernel, std::int64_t stride, Tensor& y);
void depthwise_conv_backward(const Tensor& x, const Tensor& kernel, std::int64_t stride, const Tensor& dy, Tensor* dx,
                             Tensor& dkernel);
void elastic_kernel_forward(const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                            std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels,
                            Tensor& effective);
void elastic_kernel_backward(const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                             std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels,
                             const Tensor& d_effective, Tensor& dweight, std::span<Tensor> dtransforms);
void elastic_depthwise_conv_forward(const Tensor& x, const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                                    std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t stride,
                                    Tensor& y);
void elastic_depthwise_conv_backward(const Tensor& x, const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                                     std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t stride,
                                     const Tensor& dy, Tensor* dx, Tensor& dweight, std::span<Tensor> dtransforms);

void activation_forward(Activation activation, const Tensor& x, Tensor& y);
void activation_backward(Activation activation, const Tensor& x, const Tensor& dy, Tensor& dx);
void residual_add_forward(const Tensor& a, const Tensor& b, Tensor& y);
void batch_norm_train_forward(const Tensor& x, BatchNormParams& params, Activation activation, Tensor& y,
                              BatchNormSaved& saved, const BatchNormConfig& config);
void batch_norm_eval_forward(const Tensor& x, const BatchNormParams& params, Activation activation, Tensor& y,
                             float eps);
void batch_norm_backward(const Tensor& x, const BatchNormParams& params, const BatchNormSaved& saved,
                         Activation activation, const Tensor& dy, Tensor* dx, BatchNormGrads& grads);
void global_avg_pool_forward(const Tensor& x, Tensor& y);
void global_avg_pool_backward(const Tensor& dy, Tensor& dx);
void channel_scale_forward(const Tensor& x, const Tensor& s, Tensor& y);
void channel_scale_backward(const Tensor& x, const Tensor& s, const Tensor& dy, Tensor* dx, Tensor& ds);
void pooled_channel_scale_input_backward(const Tensor& dy, const Tensor& s, const Tensor& dpooled, Tensor& dx);
void squeeze_excite_forward(const Tensor& x, const SqueezeExciteWeights& weights, std::int64_t mid_channels, Tensor& y,
                            SqueezeExciteSaved& saved);
void squeeze_excite_backward(const Tensor& x, const SqueezeExciteWeights& weights, const SqueezeExciteSaved& saved,
                             const Tensor& dy, Tensor* dx, SqueezeExciteGrads& grads);
void dropout_forward(const Tensor& x, float p, std::uint64_t seed, std::uint64_t stream, Tensor& y);
void dropout_backward(const Tensor& dy, float p, std::uint64_t seed, std::uint64_t stream, Tensor& dx);
void bilinear_resize_forward(const Tensor& x, Tensor& y);
void bilinear_resize_backward(const Tensor& dy, Tensor& dx);

float cross_entropy_forward(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing);
void cross_entropy_backward(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing,
                            float grad_scale, Tensor& dlogits);
float distillation_forward(const Tensor& student, const Tensor& teacher, float temperature);
void distillation_backward(const Tensor& student, const Tensor& teacher, float temperature, float grad_scale,
                           Tensor& dstudent);
AccuracyCounts accuracy_counts(const Tensor& logits, std::span<const std::int32_t> labels, std::int64_t k);
void sgd_step(std::span<SgdParameter> parameters, const SgdConfig& config);

// MetricSums' halves of the above: the loss is written to, and the hits added to, device memory,
// and nothing waits for the stream.
void cross_entropy_forward(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing,
                           float* device_loss);
void distillation_forward(const Tensor& student, const Tensor& teacher, float temperature, float* device_loss);
void add_accuracy_counts(const Tensor& logits, std::span<const std::int32_t> labels, std::int64_t k,
                         unsigned long long* device_counts);

// Sgd's half of sgd_step: the descriptors of a fixed parameter list in device memory, uploaded
// once, and the fused step over them (one launch, nothing copied from the host).
struct SgdDeviceParameters {
  std::shared_ptr<Storage> descriptors;
  int count = 0;
  long long total = 0;  // elements in all
};
SgdDeviceParameters upload_sgd_parameters(std::span<SgdParameter> parameters);
void sgd_step(const SgdDeviceParameters& parameters, const SgdConfig& config);

}  // namespace ofa::on_cuda
