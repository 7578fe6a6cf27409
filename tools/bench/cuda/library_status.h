#pragma once

// nvcc only: the CUDA runtime, cuDNN and cuBLAS calls of the kernel benchmarks and of the cuDNN
// reference tests go through these, so that a failure names the call and the library's reason.

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "kernels/error.h"

namespace ofa::cuda::yardstick {

inline void check_cuda(cudaError_t status, const char* call) {
  if (status != cudaSuccess) fail(call, "CUDA error ", cudaGetErrorName(status), ": ", cudaGetErrorString(status));
}

inline void check_cudnn(cudnnStatus_t status, const char* call) {
  if (status != CUDNN_STATUS_SUCCESS) fail(call, "cuDNN error ", cudnnGetErrorString(status));
}

inline void check_cublas(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS) fail(call, "cuBLAS error ", cublasGetStatusString(status));
}

}  // namespace ofa::cuda::yardstick
