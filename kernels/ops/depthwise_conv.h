#pragma once

#include <cstdint>
#include <span>

#include "kernels/tensor.h"

namespace ofa {

// Depthwise k x k convolution on NHWC activations with "same" padding k/2:
//   y[n, i, j, c] = sum_{u,v} x[n, i*stride + u - k/2, j*stride + v - k/2, c] * kernel[u, v, c]
// x: contiguous [N,H,W,c]; kernel: [k,k,c], odd k, channels contiguous (other strides free, so the
// [:, :, :c] prefix of a max-size [k,k,C_max] tensor is used in place); y: contiguous [N,Ho,Wo,c]
// with Ho = (H - 1) / stride + 1, Wo likewise.
void depthwise_conv_forward(const Tensor& x, const Tensor& kernel, std::int64_t stride, Tensor& y);

// dx (overwritten) may be null. dkernel has kernel's shape (a prefix view serves) and ACCUMULATES.
void depthwise_conv_backward(const Tensor& x, const Tensor& kernel, std::int64_t stride, const Tensor& dy, Tensor* dx,
                             Tensor& dkernel);

// The elastic depthwise layer: weight is the max-size [K_max,K_max,C_max] tensor, kernel_size one of
// kernel_sizes, transforms the kernel transformation matrices (see elastic_kernel.h), and the
// active channels are x's last extent. At K_max the weight prefix is used in place; smaller kernels
// run on the effective kernel that elastic_kernel_forward builds.
void elastic_depthwise_conv_forward(const Tensor& x, const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                                    std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t stride,
                                    Tensor& y);

// dx (overwritten) may be null. dweight (max-size, like weight) and the dtransforms of the steps
// from K_max down to kernel_size ACCUMULATE; dtransforms has one entry per transform, and entries
// of steps not taken are neither read nor written.
void elastic_depthwise_conv_backward(const Tensor& x, const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                                     std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t stride,
                                     const Tensor& dy, Tensor* dx, Tensor& dweight, std::span<Tensor> dtransforms);

}  // namespace ofa
