#pragma once

#include <cstdint>

#include "kernels/tensor.h"

namespace ofa {

// Inverted dropout: y[i] = keep(i) ? x[i] / (1 - p) : 0 with keep(i) = uniform01(seed, stream, i) >= p
// (kernels/random.h), i the flat element index. No mask is stored: the backward redraws
// it from (seed, stream), and it is the same on any thread count or device. p in [0, 1);
// p = 0 is a copy. x and y contiguous, same shape, any rank; y may alias x.
void dropout_forward(const Tensor& x, float p, std::uint64_t seed, std::uint64_t stream, Tensor& y);

// dx[i] = keep(i) ? dy[i] / (1 - p) : 0 with the forward's (p, seed, stream). dx may alias dy.
void dropout_backward(const Tensor& dy, float p, std::uint64_t seed, std::uint64_t stream, Tensor& dx);

}  // namespace ofa
