#pragma once

#include <cstdint>
#include <span>

#include "kernels/tensor.h"

// OFA's kernel transformation. A depthwise weight is stored once at [K_max, K_max, C_max] (HWC, so
// a tap is a contiguous channel vector). kernel_sizes lists the elastic sizes in strictly
// descending order from K_max (e.g. {7, 5, 3}); transforms[i] is the [t*t, t*t] matrix of the
// step kernel_sizes[i] -> kernel_sizes[i+1] = t. A step takes the centre t x t window of the larger
// kernel and maps it per channel as out[a] = sum_b M[a, b] * in[b] over row-major taps (OFA's
// F.linear). The effective kernel of size k chains the steps from K_max down to k; at K_max it is
// the weight itself.
namespace ofa {

// Throws ofa::Error naming `op` unless weight, kernel_sizes, transforms, kernel_size and the active
// channel count describe a valid elastic kernel.
void check_elastic_kernel(const char* op, const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                          std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels);

// effective: contiguous [kernel_size, kernel_size, channels], overwritten with the effective kernel
// of the first `channels` channels.
void elastic_kernel_forward(const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                            std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels,
                            Tensor& effective);

// d_effective: contiguous [kernel_size, kernel_size, channels]. dweight (max-size, like weight)
// ACCUMULATES into the channels' prefix; dtransforms (one entry per transform) ACCUMULATES into the
// matrices of the steps taken, and entries of steps not taken are neither read nor written.
// Intermediate kernels are recomputed, not stored.
void elastic_kernel_backward(const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                             std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels,
                             const Tensor& d_effective, Tensor& dweight, std::span<Tensor> dtransforms);

}  // namespace ofa
