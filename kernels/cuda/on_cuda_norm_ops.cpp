#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/cuda/on_cuda_support.h"

// Activations, residual add, batch norm, pooling, squeeze-and-excitation, dropout and resize on
// cuda: contiguous activations, so shapes reduce to element, row and pixel counts.

namespace ofa::on_cuda {

using namespace support;

namespace {

cuda::PoolShape pool_shape(const char* op, const Tensor& x) {
  return {as_int(op, "batch", x.dim(0)), x.dim(1) * x.dim(2), as_int(op, "channels", x.dim(3))};
}

// Batch norm sees x as [rows, channels], channels last.
std::int64_t rows_of(const Tensor& x) { return x.numel() / x.dim(x.rank() - 1); }

cuda::BatchNormDeviceParams device_params(const BatchNormParams& params) {
  return {params.gamma.f32(), params.beta.f32(), const_cast<float*>(params.running_mean.f32()),
          const_cast<float*>(params.running_var.f32())};
}

cuda::SqueezeExciteDeviceWeights device_weights(const char* op, const SqueezeExciteWeights& w) {
  return {w.reduce_weight.f32(),
          w.reduce_bias.f32(),
          w.expand_weight.f32(),
          w.expand_bias.f32(),
          as_int(op, "channels", w.reduce_weight.dim(1)),
          as_int(op, "mid channels", w.reduce_weight.dim(0))};
}

cuda::SqueezeExciteDeviceSaved device_saved(const SqueezeExciteSaved& saved) {
  return {const_cast<float*>(saved.pooled.f32()), const_cast<float*>(saved.hidden.f32()),
          const_cast<float*>(saved.gate_logits.f32()), const_cast<float*>(saved.gate.f32())};
}

cuda::ResizeShape resize_shape(const char* op, const Tensor& source, const Tensor& resized) {
  return {as_int(op, "batch", source.dim(0)),  as_int(op, "height", source.dim(1)), as_int(op, "width", source.dim(2)),
          as_int(op, "height", resized.dim(1)), as_int(op, "width", resized.dim(2)), as_int(op, "channels", source.dim(3))};
}

}  // namespace

void activation_forward(Activation activation, const Tensor& x, Tensor& y) {
  kernels().activation_forward(stream(), activation, x.f32(), x.numel(), y.f32());
}

void activation_backward(Activation activation, const Tensor& x, const Tensor& dy, Tensor& dx) {
  kernels().activation_backward(stream(), activation, x.f32(), dy.f32(), x.numel(), dx.f32());
}

void residual_add_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  kernels().residual_add_forward(stream(), a.f32(), b.f32(), a.numel(), y.f32());
}

void batch_norm_train_forward(const Tensor& x, BatchNormParams& params, Activation activation, Tensor& y,
                              BatchNormSaved& saved, const BatchNormConfig& config) {
  const char* op = "batch_norm_train_forward";
  const std::int64_t rows = rows_of(x);
  const int channels = as_int(op, "channels", x.dim(x.rank() - 1));
  const cuda::DeviceScratch workspace(cuda::batch_norm_workspace_bytes(rows, channels));
  kernels().batch_norm_train_forward(stream(), x.f32(), rows, channels, device_params(params), activation, y.f32(),
                                     cuda::BatchNormDeviceSaved{saved.mean.f32(), saved.invstd.f32()}, config,
                                     workspace.get());
}

void batch_norm_eval_forward(const Tensor& x, const BatchNormParams& params, Activation activation, Tensor& y,
                             float eps) {
  const char* op = "batch_norm_eval_forward";
  kernels().batch_norm_eval_forward(stream(), x.f32(), rows_of(x), as_int(op, "channels", x.dim(x.rank() - 1)),
                                    device_params(params), activation, y.f32(), eps);
}

void batch_norm_backward(const Tensor& x, const BatchNormParams& params, const BatchNormSaved& saved,
                         Activation activation, const Tensor& dy, Tensor* dx, BatchNormGrads& grads) {
  const char* op = "batch_norm_backward";
  const std::int64_t rows = rows_of(x);
  const int channels = as_int(op, "channels", x.dim(x.rank() - 1));
  const cuda::DeviceScratch workspace(cuda::batch_norm_workspace_bytes(rows, channels));
  const cuda::BatchNormDeviceSaved device_saved{const_cast<float*>(saved.mean.f32()),
                                                const_cast<float*>(saved.invstd.f32())};
  kernels().batch_norm_backward(stream(), x.f32(), rows, channels, device_params(params), device_saved, activation,
                                dy.f32(), dx != nullptr ? dx->f32() : nullptr,
                                cuda::BatchNormDeviceGrads{grads.gamma.f32(), grads.beta.f32()}, workspace.get());
}

void global_avg_pool_forward(const Tensor& x, Tensor& y) {
  const cuda::PoolShape shape = pool_shape("global_avg_pool_forward", x);
  const cuda::DeviceScratch workspace(cuda::pool_workspace_bytes(shape));
  kernels().global_avg_pool_forward(stream(), x.f32(), shape, y.f32(), workspace.get());
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  kernels().global_avg_pool_backward(stream(), dy.f32(), pool_shape("global_avg_pool_backward", dx), dx.f32());
}

void channel_scale_forward(const Tensor& x, const Tensor& s, Tensor& y) {
  kernels().channel_scale_forward(stream(), x.f32(), s.f32(), pool_shape("channel_scale_forward", x), y.f32());
}

void channel_scale_backward(const Tensor& x, const Tensor& s, const Tensor& dy, Tensor* dx, Tensor& ds) {
  const cuda::PoolShape shape = pool_shape("channel_scale_backward", x);
  const cuda::DeviceScratch workspace(cuda::pool_workspace_bytes(shape));
  kernels().channel_scale_backward(stream(), x.f32(), s.f32(), dy.f32(), shape, dx != nullptr ? dx->f32() : nullptr,
                                   ds.f32(), workspace.get());
}

void pooled_channel_scale_input_backward(const Tensor& dy, const Tensor& s, const Tensor& dpooled, Tensor& dx) {
  kernels().pooled_channel_scale_input_backward(stream(), dy.f32(), s.f32(), dpooled.f32(),
                                                pool_shape("pooled_channel_scale_input_backward", dy), dx.f32());
}

void squeeze_excite_forward(const Tensor& x, const SqueezeExciteWeights& weights, std::int64_t mid_channels, Tensor& y,
                            SqueezeExciteSaved& saved) {
  const char* op = "squeeze_excite_forward";
  const cuda::PoolShape shape = pool_shape(op, x);
  const int mid = as_int(op, "mid channels", mid_channels);
  const cuda::DeviceScratch workspace(cuda::squeeze_excite_workspace_bytes(shape, mid));
  kernels().squeeze_excite_forward(stream(), x.f32(), shape, device_weights(op, weights), mid, y.f32(),
                                   device_saved(saved), workspace.get());
}

void squeeze_excite_backward(const Tensor& x, const SqueezeExciteWeights& weights, const SqueezeExciteSaved& saved,
                             const Tensor& dy, Tensor* dx, SqueezeExciteGrads& grads) {
  const char* op = "squeeze_excite_backward";
  const cuda::PoolShape shape = pool_shape(op, x);
  const int mid = as_int(op, "mid channels", saved.hidden.dim(1));
  const cuda::DeviceScratch workspace(cuda::squeeze_excite_workspace_bytes(shape, mid));
  kernels().squeeze_excite_backward(
      stream(), x.f32(), shape, device_weights(op, weights), mid, device_saved(saved), dy.f32(),
      dx != nullptr ? dx->f32() : nullptr,
      cuda::SqueezeExciteDeviceGrads{grads.reduce_weight.f32(), grads.reduce_bias.f32(), grads.expand_weight.f32(),
                                     grads.expand_bias.f32()},
      workspace.get());
}

void dropout_forward(const Tensor& x, float p, std::uint64_t seed, std::uint64_t stream_id, Tensor& y) {
  kernels().dropout_forward(stream(), x.f32(), x.numel(), p, seed, stream_id, y.f32());
}

void dropout_backward(const Tensor& dy, float p, std::uint64_t seed, std::uint64_t stream_id, Tensor& dx) {
  kernels().dropout_backward(stream(), dy.f32(), dy.numel(), p, seed, stream_id, dx.f32());
}

void bilinear_resize_forward(const Tensor& x, Tensor& y) {
  kernels().bilinear_resize_forward(stream(), x.f32(), resize_shape("bilinear_resize_forward", x, y), y.f32());
}

void bilinear_resize_backward(const Tensor& dy, Tensor& dx) {
  kernels().bilinear_resize_backward(stream(), dy.f32(), resize_shape("bilinear_resize_backward", dx, dy), dx.f32());
}

}  // namespace ofa::on_cuda
