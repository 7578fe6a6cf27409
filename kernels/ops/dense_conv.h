#pragma once

#include <cstdint>

#include "kernels/tensor.h"

namespace ofa {

// Dense k x k convolution (the stem) on NHWC activations with "same" padding k/2:
//   y[n, i, j, o] = sum_{u,v,ci} x[n, i*stride + u - k/2, j*stride + v - k/2, ci] * weight[o, u, v, ci]
// x: contiguous [N,H,W,Cin]; weight: contiguous max-size [Cout_max,K,K,Cin] with odd K, its first
// out_channels filters active; y: contiguous [N,Ho,Wo,out_channels], Ho = (H - 1) / stride + 1.
void dense_conv_forward(const Tensor& x, const Tensor& weight, std::int64_t out_channels, std::int64_t stride,
                        Tensor& y);

// The active filters are dy's last extent. dx (overwritten) may be null; dweight, max-size like
// weight, ACCUMULATES into its first out_channels filters.
void dense_conv_backward(const Tensor& x, const Tensor& weight, std::int64_t stride, const Tensor& dy, Tensor* dx,
                         Tensor& dweight);

}  // namespace ofa
