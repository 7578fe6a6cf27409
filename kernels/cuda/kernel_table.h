#pragma once

#include <cstddef>

#include "kernels/cuda/device_runtime.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/accuracy.cuh"
#include "kernels/cuda/ops/activation.cuh"
#include "kernels/cuda/ops/batch_norm.cuh"
#include "kernels/cuda/ops/bilinear_resize.cuh"
#include "kernels/cuda/ops/cross_entropy.cuh"
#include "kernels/cuda/ops/dense_conv.cuh"
#include "kernels/cuda/ops/depthwise_conv.cuh"
#include "kernels/cuda/ops/distillation.cuh"
#include "kernels/cuda/ops/dropout.cuh"
#include "kernels/cuda/ops/elastic_kernel.cuh"
#include "kernels/cuda/ops/linear.cuh"
#include "kernels/cuda/ops/pooling.cuh"
#include "kernels/cuda/ops/residual_add.cuh"
#include "kernels/cuda/ops/sgd.cuh"
#include "kernels/cuda/ops/squeeze_excite.cuh"
#include "kernels/cuda/ops/strided_copy.cuh"

// Every host wrapper of kernels/cuda/ops as a plain function pointer that takes the stream
// first instead of a launcher: how the host-compiled op library reaches wrappers that nvcc
// instantiated (gpu_backend.cu) or that the host compiler instantiated for the emulation
// (emulated_backend.cpp). backend_tables.inl fills the table for either launcher.

namespace ofa::cuda {

namespace kernel_table_detail {

// Names the wrappers' signatures without a real launcher; nothing is ever launched with it.
struct SignatureLauncher {
  template <class... Params, class... Args>
  void launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, Args&&... args) const;
};

template <class Wrapper>
struct OnStream;
template <class... Args>
struct OnStream<void (*)(const SignatureLauncher&, Args...)> {
  using type = void (*)(StreamHandle, Args...);
};

}  // namespace kernel_table_detail

// The type of wrapper `name` with the launcher replaced by a stream.
#define OFA_STREAM_CALL(name) \
  typename kernel_table_detail::OnStream<decltype(&name<kernel_table_detail::SignatureLauncher>)>::type

struct KernelTable {
  OFA_STREAM_CALL(linear_forward) linear_forward;
  OFA_STREAM_CALL(linear_backward) linear_backward;
  OFA_STREAM_CALL(dense_conv_forward) dense_conv_forward;
  OFA_STREAM_CALL(dense_conv_backward) dense_conv_backward;
  OFA_STREAM_CALL(depthwise_conv_forward) depthwise_conv_forward;
  OFA_STREAM_CALL(depthwise_conv_backward) depthwise_conv_backward;
  OFA_STREAM_CALL(elastic_kernel_forward) elastic_kernel_forward;
  OFA_STREAM_CALL(elastic_kernel_backward) elastic_kernel_backward;
  OFA_STREAM_CALL(elastic_depthwise_conv_forward) elastic_depthwise_conv_forward;
  OFA_STREAM_CALL(elastic_depthwise_conv_backward) elastic_depthwise_conv_backward;

  OFA_STREAM_CALL(activation_forward) activation_forward;
  OFA_STREAM_CALL(activation_backward) activation_backward;
  OFA_STREAM_CALL(residual_add_forward) residual_add_forward;
  OFA_STREAM_CALL(batch_norm_train_forward) batch_norm_train_forward;
  OFA_STREAM_CALL(batch_norm_eval_forward) batch_norm_eval_forward;
  OFA_STREAM_CALL(batch_norm_backward) batch_norm_backward;
  OFA_STREAM_CALL(global_avg_pool_forward) global_avg_pool_forward;
  OFA_STREAM_CALL(global_avg_pool_backward) global_avg_pool_backward;
  OFA_STREAM_CALL(channel_scale_forward) channel_scale_forward;
  OFA_STREAM_CALL(channel_scale_backward) channel_scale_backward;
  OFA_STREAM_CALL(pooled_channel_scale_input_backward) pooled_channel_scale_input_backward;
  OFA_STREAM_CALL(squeeze_excite_forward) squeeze_excite_forward;
  OFA_STREAM_CALL(squeeze_excite_backward) squeeze_excite_backward;
  OFA_STREAM_CALL(dropout_forward) dropout_forward;
  OFA_STREAM_CALL(dropout_backward) dropout_backward;
  OFA_STREAM_CALL(bilinear_resize_forward) bilinear_resize_forward;
  OFA_STREAM_CALL(bilinear_resize_backward) bilinear_resize_backward;

  OFA_STREAM_CALL(cross_entropy_forward) cross_entropy_forward;
  OFA_STREAM_CALL(cross_entropy_backward) cross_entropy_backward;
  OFA_STREAM_CALL(distillation_forward) distillation_forward;
  OFA_STREAM_CALL(distillation_backward) distillation_backward;
  OFA_STREAM_CALL(accuracy_counts) accuracy_counts;
  OFA_STREAM_CALL(sgd_step) sgd_step;

  OFA_STREAM_CALL(copy_strided) copy_strided;
  OFA_STREAM_CALL(fill_strided) fill_strided;
};

#undef OFA_STREAM_CALL

}  // namespace ofa::cuda
