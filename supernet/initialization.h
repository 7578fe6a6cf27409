#pragma once

#include <cstdint>

#include "kernels/tensor.h"

// OFA's init_model('he_fout'): convolutions ~ N(0, sqrt(2 / (k*k*out_channels))), linear layers
// ~ U(-1/sqrt(in), 1/sqrt(in)) with zero bias. Draws are counter-based (seed, stream, index), so a
// tensor's initial values do not depend on the order layers are built in, nor on the device
// (CUDA tensors are filled on the host and uploaded).
namespace ofa {

void init_normal(Tensor& t, float stddev, std::uint64_t seed, std::uint64_t stream);
void init_uniform(Tensor& t, float bound, std::uint64_t seed, std::uint64_t stream);
void init_identity(Tensor& square_matrix);

}  // namespace ofa
