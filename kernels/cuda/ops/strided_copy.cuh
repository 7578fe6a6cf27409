#pragma once

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/elementwise.cuh"
#include "kernels/error.h"

// Copies into and fills of strided views (the active prefix of a max-size weight, say): the
// device side of Tensor::copy_from and Tensor::fill, which contiguous tensors alone would not
// need, but views do.

namespace ofa::cuda {

// A view of up to four axes, padded in front with extent-1 axes: element (a, b, c, d) lies
// a * stride[0] + b * stride[1] + c * stride[2] + d * stride[3] floats from the base.
struct StridedLayout {
  long long size[4];
  long long stride[4];

  __host__ __device__ long long count() const { return size[0] * size[1] * size[2] * size[3]; }
  // Where the i-th element in row-major order lies.
  __host__ __device__ long long offset(long long i) const {
    long long at = 0;
    for (int axis = 3; axis >= 0; --axis) {
      at += (i % size[axis]) * stride[axis];
      i /= size[axis];
    }
    return at;
  }
};

template <int Threads>
__global__ void __launch_bounds__(Threads)
    copy_strided_kernel(const float* src, StridedLayout from, float* dst, StridedLayout to, long long count) {
  for (long long i = elementwise::flat_first(); i < count; i += elementwise::flat_stride())
    dst[to.offset(i)] = src[from.offset(i)];
}

template <int Threads>
__global__ void __launch_bounds__(Threads) fill_strided_kernel(float* dst, StridedLayout to, float value,
                                                               long long count) {
  for (long long i = elementwise::flat_first(); i < count; i += elementwise::flat_stride()) dst[to.offset(i)] = value;
}

// dst's elements (in row-major order) = src's; the two views have the same element count and
// must not overlap.
template <Launcher L>
void copy_strided(const L& launcher, const float* src, const StridedLayout& from, float* dst, const StridedLayout& to) {
  const long long count = to.count();
  OFA_CHECK(from.count() == count, "copy_strided", "copies ", from.count(), " elements into ", count);
  if (count == 0) return;
  constexpr int threads = elementwise::kThreads;
  launcher.launch(copy_strided_kernel<threads>, dim3(elementwise::grid_stride_blocks(count)), dim3(threads), 0, src,
                  from, dst, to, count);
}

template <Launcher L>
void fill_strided(const L& launcher, float* dst, const StridedLayout& to, float value) {
  const long long count = to.count();
  if (count == 0) return;
  constexpr int threads = elementwise::kThreads;
  launcher.launch(fill_strided_kernel<threads>, dim3(elementwise::grid_stride_blocks(count)), dim3(threads), 0, dst, to,
                  value, count);
}

}  // namespace ofa::cuda
