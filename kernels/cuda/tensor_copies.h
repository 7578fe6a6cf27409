#pragma once

#include <cstddef>

#include "kernels/tensor.h"

// The CUDA side of Storage and Tensor (kernels/tensor.cpp): memory from the active backend, and
// fills and copies of views, on the current stream.

namespace ofa::cuda {

CachingAllocator& active_allocator();
void* allocate_on_current_stream(CachingAllocator& allocator, std::size_t bytes);
void zero_bytes(void* data, std::size_t bytes);

// dst's elements = value; dst is on cuda.
void fill_view(Tensor& dst, float value);
// dst = source, same shape, at least one of them on cuda; returns once a CPU dst holds the data.
void copy_view(const Tensor& source, Tensor& dst);

}  // namespace ofa::cuda
