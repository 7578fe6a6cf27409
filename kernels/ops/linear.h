#pragma once

#include <cstdint>

#include "kernels/tensor.h"

namespace ofa {

// Fully connected layer with elastic input and output features:
//   y[M, out] = x[M, in] * weight[:out, :in]^T + bias[:out]
// weight is the max-size [Out_max, In_max] tensor (used in place through a prefix view),
// `in` is x's column count, `out_features` the active output count. bias may be null.
void linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, std::int64_t out_features, Tensor& y);

// dx (overwritten) may be null when the input needs no gradient. dweight and dbias have
// the max-size shapes of weight and bias; their active prefixes ACCUMULATE, so several
// subnets sampled in one step add into the same shared gradient. dbias may be null.
void linear_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, Tensor* dx, Tensor& dweight,
                     Tensor* dbias);

}  // namespace ofa
