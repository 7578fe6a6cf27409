// The runtime calls and kernel table of one backend, written once against the CUDA runtime's
// names: emulated_backend.cpp includes this under the host compiler (the names are the
// emulation's), gpu_backend.cu under nvcc (CUDA's own). Everything here has internal linkage,
// so the two definitions never meet in one program.

#include <cstddef>
#include <type_traits>
#include <utility>

#include "kernels/cuda/device_runtime.h"
#include "kernels/cuda/kernel_table.h"
#include "kernels/error.h"

namespace ofa::cuda {
namespace {

void check_runtime(cudaError_t error, const char* call) {
  if (error != cudaSuccess) fail(concat("CUDA ", call), cudaGetErrorString(error));
}

cudaStream_t native(StreamHandle stream) { return static_cast<cudaStream_t>(stream); }

cudaMemcpyKind copy_kind(CopyDirection direction) {
  switch (direction) {
    case CopyDirection::host_to_device: return cudaMemcpyHostToDevice;
    case CopyDirection::device_to_host: return cudaMemcpyDeviceToHost;
    case CopyDirection::device_to_device: break;
  }
  return cudaMemcpyDeviceToDevice;
}

DeviceRuntime make_runtime() {
  DeviceRuntime r{};
  r.allocate = [](void** pointer, std::size_t bytes) {
    if (cudaMalloc(pointer, bytes) == cudaSuccess) return true;
    const cudaError_t error = cudaGetLastError();  // clears the sticky error the failure left
    if (error != cudaErrorMemoryAllocation && error != cudaSuccess) check_runtime(error, "cudaMalloc");
    return false;
  };
  r.free = [](void* pointer) { check_runtime(cudaFree(pointer), "cudaFree"); };
  r.copy_async = [](void* dst, const void* src, std::size_t bytes, CopyDirection direction, StreamHandle stream) {
    check_runtime(cudaMemcpyAsync(dst, src, bytes, copy_kind(direction), native(stream)), "cudaMemcpyAsync");
  };
  r.fill_bytes_async = [](void* pointer, int value, std::size_t bytes, StreamHandle stream) {
    check_runtime(cudaMemsetAsync(pointer, value, bytes, native(stream)), "cudaMemsetAsync");
  };
  r.create_stream = []() -> StreamHandle {
    cudaStream_t stream = nullptr;
    check_runtime(cudaStreamCreate(&stream), "cudaStreamCreate");
    return stream;
  };
  r.destroy_stream = [](StreamHandle stream) { check_runtime(cudaStreamDestroy(native(stream)), "cudaStreamDestroy"); };
  r.synchronize_stream = [](StreamHandle stream) {
    check_runtime(cudaStreamSynchronize(native(stream)), "cudaStreamSynchronize");
  };
  r.synchronize_device = [] { check_runtime(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); };
  return r;
}

// Wrapper W instantiated with launcher L, called with a stream in place of the launcher.
template <class L, auto W>
struct OnStream;
template <class L, class... Args, void (*W)(const L&, Args...)>
struct OnStream<L, W> {
  static void call(StreamHandle stream, Args... args) {
    using Stream = decltype(std::declval<const L&>().stream());
    W(L(static_cast<Stream>(stream)), std::forward<Args>(args)...);
  }
};

template <class L>
KernelTable make_kernel_table() {
  KernelTable t{};
  t.linear_forward = &OnStream<L, &linear_forward<L>>::call;
  t.linear_backward = &OnStream<L, &linear_backward<L>>::call;
  t.dense_conv_forward = &OnStream<L, &dense_conv_forward<L>>::call;
  t.dense_conv_backward = &OnStream<L, &dense_conv_backward<L>>::call;
  t.depthwise_conv_forward = &OnStream<L, &depthwise_conv_forward<L>>::call;
  t.depthwise_conv_backward = &OnStream<L, &depthwise_conv_backward<L>>::call;
  t.elastic_kernel_forward = &OnStream<L, &elastic_kernel_forward<L>>::call;
  t.elastic_kernel_backward = &OnStream<L, &elastic_kernel_backward<L>>::call;
  t.elastic_depthwise_conv_forward = &OnStream<L, &elastic_depthwise_conv_forward<L>>::call;
  t.elastic_depthwise_conv_backward = &OnStream<L, &elastic_depthwise_conv_backward<L>>::call;

  t.activation_forward = &OnStream<L, &activation_forward<L>>::call;
  t.activation_backward = &OnStream<L, &activation_backward<L>>::call;
  t.residual_add_forward = &OnStream<L, &residual_add_forward<L>>::call;
  t.batch_norm_train_forward = &OnStream<L, &batch_norm_train_forward<L>>::call;
  t.batch_norm_eval_forward = &OnStream<L, &batch_norm_eval_forward<L>>::call;
  t.batch_norm_backward = &OnStream<L, &batch_norm_backward<L>>::call;
  t.global_avg_pool_forward = &OnStream<L, &global_avg_pool_forward<L>>::call;
  t.global_avg_pool_backward = &OnStream<L, &global_avg_pool_backward<L>>::call;
  t.channel_scale_forward = &OnStream<L, &channel_scale_forward<L>>::call;
  t.channel_scale_backward = &OnStream<L, &channel_scale_backward<L>>::call;
  t.pooled_channel_scale_input_backward = &OnStream<L, &pooled_channel_scale_input_backward<L>>::call;
  t.squeeze_excite_forward = &OnStream<L, &squeeze_excite_forward<L>>::call;
  t.squeeze_excite_backward = &OnStream<L, &squeeze_excite_backward<L>>::call;
  t.dropout_forward = &OnStream<L, &dropout_forward<L>>::call;
  t.dropout_backward = &OnStream<L, &dropout_backward<L>>::call;
  t.bilinear_resize_forward = &OnStream<L, &bilinear_resize_forward<L>>::call;
  t.bilinear_resize_backward = &OnStream<L, &bilinear_resize_backward<L>>::call;

  t.cross_entropy_forward = &OnStream<L, &cross_entropy_forward<L>>::call;
  t.cross_entropy_backward = &OnStream<L, &cross_entropy_backward<L>>::call;
  t.distillation_forward = &OnStream<L, &distillation_forward<L>>::call;
  t.distillation_backward = &OnStream<L, &distillation_backward<L>>::call;
  t.accuracy_counts = &OnStream<L, &accuracy_counts<L>>::call;
  t.sgd_step = &OnStream<L, &sgd_step<L>>::call;

  t.copy_strided = &OnStream<L, &copy_strided<L>>::call;
  t.fill_strided = &OnStream<L, &fill_strided<L>>::call;
  return t;
}

}  // namespace
}  // namespace ofa::cuda
