#pragma once

#include "kernels/tensor.h"

namespace ofa {

// Bilinear resize of a contiguous NHWC batch x [N, H, W, C] to y [N, Ho, Wo, C] (the
// output size is y's shape), exactly PyTorch's
//   F.interpolate(x, size=(Ho, Wo), mode='bilinear', align_corners=False):
// output index o samples the source coordinate max(0, (o + 0.5) * in / out - 0.5) (half-pixel
// centres) and the upper neighbour is clamped to the last row/column. Weights, precisions and
// order of operations follow PyTorch's NCHW CPU kernel, so y is bit-identical to torch 1.13.1
// (checked on 64 random shapes); inputs PyTorch treats as channels-last (C = 1, or 1x1
// images) take its other kernel there and differ by at most an ulp. Used for elastic resolution.
void bilinear_resize_forward(const Tensor& x, Tensor& y);

// The adjoint of the forward: dx [N, H, W, C] is overwritten with the scatter of dy
// [N, Ho, Wo, C] back onto the source pixels (pixels no output samples get zero).
// Each dx row gathers from the dy rows that read it, so every row has a single writer: no
// races, and the result does not depend on the thread count.
void bilinear_resize_backward(const Tensor& dy, Tensor& dx);

}  // namespace ofa
