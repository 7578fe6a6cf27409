#pragma once

#include "kernels/tensor.h"

namespace ofa {

// y = a + b elementwise (the skip connection of an MBConv block). a, b and y are contiguous
// and the same shape, any rank; y may alias a or b.
//
// Backward: the identity. dy is the gradient of both a and b, so it is passed on unchanged
// and no backward op exists. Where the skip path's gradient must join a gradient the main
// path produced, call residual_add_forward(dx_main, dy, dx_main).
void residual_add_forward(const Tensor& a, const Tensor& b, Tensor& y);

}  // namespace ofa
