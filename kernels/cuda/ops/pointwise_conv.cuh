#pragma once

#include <cstddef>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/linear.cuh"

// The CUDA twin of kernels/ops/pointwise_conv.h. In NHWC a 1x1 convolution is a linear layer
// over the N*H*W pixels: x [N,H,W,in] and y [N,H,W,out] contiguous, weight the max-size
// [Out_max, in_max] matrix, its [:out, :in] prefix active.

namespace ofa::cuda {

struct PointwiseConvShape {
  int batch, height, width, in, out, in_max;

  LinearShape as_linear() const { return {batch * height * width, in, out, in_max}; }
};

inline std::size_t pointwise_conv_backward_workspace(const PointwiseConvShape& s) {
  return linear_backward_workspace(s.as_linear());
}

template <Launcher L>
void pointwise_conv_forward(const L& launcher, const float* x, const float* weight, float* y,
                            const PointwiseConvShape& s) {
  linear_forward(launcher, x, weight, nullptr, y, s.as_linear());
}

// dx overwritten (skipped when null); dweight accumulates into its active prefix.
template <Launcher L>
void pointwise_conv_backward(const L& launcher, const float* x, const float* weight, const float* dy, float* dx,
                             float* dweight, float* workspace, const PointwiseConvShape& s) {
  linear_backward(launcher, x, weight, dy, dx, dweight, nullptr, workspace, s.as_linear());
}

}  // namespace ofa::cuda
