#pragma once

#include <cstdint>

#include "kernels/tensor.h"

namespace ofa {

// 1x1 convolution on NHWC activations, a GEMM [N*H*W, cin] x weight[:cout, :cin]^T.
// x: contiguous [N,H,W,cin]; weight: max-size [Cout_max, Cin_max]; y: contiguous [N,H,W,cout].
// Channels in = x's last extent; out_channels = the active output prefix.
void pointwise_conv_forward(const Tensor& x, const Tensor& weight, std::int64_t out_channels, Tensor& y);

// dx overwritten (may be null); dweight, max-size like weight, accumulates into its active prefix.
void pointwise_conv_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, Tensor* dx, Tensor& dweight);

}  // namespace ofa
