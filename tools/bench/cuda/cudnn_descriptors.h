#pragma once

// Owning wrappers of the cuDNN legacy-API descriptors (still shipped by cuDNN 9 in libcudnn_ops
// and libcudnn_cnn), NHWC float32 throughout, as the project's activations are laid out.

#include <cudnn.h>

#include <utility>

#include "tools/bench/cuda/library_status.h"

namespace ofa::cuda::yardstick {

template <class Handle, cudnnStatus_t (*Create)(Handle*), cudnnStatus_t (*Destroy)(Handle)>
class CudnnObject {
 public:
  CudnnObject() { check_cudnn(Create(&handle_), "cudnnCreate*"); }
  CudnnObject(const CudnnObject&) = delete;
  CudnnObject& operator=(const CudnnObject&) = delete;
  CudnnObject(CudnnObject&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  ~CudnnObject() {
    if (handle_ != nullptr) Destroy(handle_);
  }
  Handle get() const { return handle_; }

 private:
  Handle handle_ = nullptr;
};

using CudnnHandle = CudnnObject<cudnnHandle_t, cudnnCreate, cudnnDestroy>;
using TensorDescriptor =
    CudnnObject<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    CudnnObject<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    CudnnObject<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;
using ActivationDescriptor =
    CudnnObject<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor, cudnnDestroyActivationDescriptor>;
using PoolingDescriptor =
    CudnnObject<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor>;

// A contiguous NHWC float tensor [n, h, w, c] (cuDNN names the dimensions n, c, h, w).
inline TensorDescriptor nhwc_tensor(int n, int h, int w, int c) {
  TensorDescriptor d;
  check_cudnn(cudnnSetTensor4dDescriptor(d.get(), CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, n, c, h, w),
              "cudnnSetTensor4dDescriptor");
  return d;
}

// Filters [k][r][s][c] in NHWC (KRSC): the project's dense-convolution weight [out][kh][kw][in].
inline FilterDescriptor nhwc_filter(int out_channels, int in_channels_per_group, int kernel) {
  FilterDescriptor d;
  check_cudnn(cudnnSetFilter4dDescriptor(d.get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, out_channels,
                                         in_channels_per_group, kernel, kernel),
              "cudnnSetFilter4dDescriptor");
  return d;
}

}  // namespace ofa::cuda::yardstick
