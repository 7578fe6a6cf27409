#pragma once

#include "kernels/tensor.h"

namespace ofa {

// Global average pool: y[n, c] = mean over (h, w) of x[n, h, w, c].
// x contiguous [N, H, W, C]; y contiguous [N, C].
void global_avg_pool_forward(const Tensor& x, Tensor& y);

// dx[n, h, w, c] = dy[n, c] / (H * W), overwritten; dx gives H and W.
void global_avg_pool_backward(const Tensor& dy, Tensor& dx);

// Channel scale (the excitation of SE): y[n, h, w, c] = x[n, h, w, c] * s[n, c].
// x contiguous [N, H, W, C]; s contiguous [N, C]; y like x, and may alias x.
void channel_scale_forward(const Tensor& x, const Tensor& s, Tensor& y);

// ds[n, c] = sum over (h, w) of dy * x and dx = dy * s[n, c], both overwritten in one pass
// over memory. dx may be null (only ds wanted) and may alias dy.
void channel_scale_backward(const Tensor& x, const Tensor& s, const Tensor& dy, Tensor* dx, Tensor& ds);

// The input gradient when x feeds both a channel scale and, through a global average pool,
// the scale itself (squeeze-and-excitation: y = x * s(pool(x))):
//   dx[n, h, w, c] = dy[n, h, w, c] * s[n, c] + dpooled[n, c] / (H * W)
// in one pass, where dpooled is the gradient reaching pool(x). dx is overwritten, may alias dy.
void pooled_channel_scale_input_backward(const Tensor& dy, const Tensor& s, const Tensor& dpooled, Tensor& dx);

}  // namespace ofa
