#pragma once

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/elementwise.cuh"
#include "kernels/error.h"

// Bilinear resize (align_corners=False) of contiguous NHWC [N, H, W, C] to [N, Ho, Wo, C] on
// the GPU, with the CPU op's taps, precisions and order of operations (kernels/ops/
// bilinear_resize.h). Results equal the CPU op's up to the last bits, where the compilers fuse
// different multiply-adds (g++ contracts C++ by default, as nvcc does).

namespace ofa::cuda {

struct ResizeShape {
  int batch, in_h, in_w, out_h, out_w, channels;
};

namespace resize_detail {

// The two source indices output index o blends along an axis, and their weights; `scale` is
// the CPU op's double(float(in) / float(out)).
struct Tap {
  int lo, hi;
  float w_lo, w_hi;
};

__device__ __forceinline__ int lower_index(int in, double scale, int o) {
  const double source = scale * (double(o) + 0.5) - 0.5;
  const int lo = source > 0.0 ? int(source) : 0;
  return lo < in - 1 ? lo : in - 1;
}

__device__ __forceinline__ Tap tap(int in, double scale, int o) {
  const double raw = scale * (double(o) + 0.5) - 0.5;
  const double source = raw > 0.0 ? raw : 0.0;
  const int lo = int(source) < in - 1 ? int(source) : in - 1;
  const double fraction = source - double(lo);
  const float frac = float(fraction < 0.0 ? 0.0 : (fraction > 1.0 ? 1.0 : fraction));
  return {lo, lo < in - 1 ? lo + 1 : lo, 1.0f - frac, frac};
}

// The outputs that read input index i are those whose lower index is i - 1 or i: a contiguous
// range, since the lower index never decreases with o. [first, end) by two binary searches.
struct Range {
  int first, end;
};

__device__ __forceinline__ int first_output_at_least(int in, int out, double scale, int index) {
  int lo = 0, hi = out;
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    if (lower_index(in, scale, mid) < index) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

__device__ __forceinline__ Range readers(int in, int out, double scale, int i) {
  return {first_output_at_least(in, out, scale, i - 1), first_output_at_least(in, out, scale, i + 1)};
}

inline double axis_scale(int in, int out) { return double(float(in) / float(out)); }

inline void check(const char* op, const ResizeShape& s) {
  OFA_CHECK(s.batch >= 1 && s.channels >= 1 && s.in_h >= 1 && s.in_w >= 1 && s.out_h >= 1 && s.out_w >= 1, op,
            "needs non-empty shapes, got [", s.batch, ", ", s.in_h, ", ", s.in_w, ", ", s.channels, "] -> [", s.out_h,
            ", ", s.out_w, "]");
}

}  // namespace resize_detail

// One thread per output element: the horizontal blend of both source rows, then the vertical.
template <int Threads>
__global__ void __launch_bounds__(Threads)
    bilinear_resize_forward_kernel(const float* __restrict__ x, ResizeShape s, double scale_h, double scale_w,
                                   float* __restrict__ y) {
  using resize_detail::tap;
  const long long count = static_cast<long long>(s.batch) * s.out_h * s.out_w * s.channels;
  for (long long e = elementwise::flat_first(); e < count; e += elementwise::flat_stride()) {
    const int c = int(e % s.channels);
    const long long pixel = e / s.channels;
    const int ox = int(pixel % s.out_w), oy = int(pixel / s.out_w % s.out_h);
    const long long n = pixel / s.out_w / s.out_h;
    const resize_detail::Tap row = tap(s.in_h, scale_h, oy), col = tap(s.in_w, scale_w, ox);
    const float* top = x + ((n * s.in_h + row.lo) * s.in_w) * s.channels + c;
    const float* bottom = x + ((n * s.in_h + row.hi) * s.in_w) * s.channels + c;
    const long long lo = static_cast<long long>(col.lo) * s.channels, hi = static_cast<long long>(col.hi) * s.channels;
    const float upper = col.w_lo * top[lo] + col.w_hi * top[hi];
    const float lower = col.w_lo * bottom[lo] + col.w_hi * bottom[hi];
    y[e] = row.w_lo * upper + row.w_hi * lower;
  }
}

// One thread per dx element gathers from the outputs that read it, in the CPU op's order:
// per output column (ascending), the column's vertical sum over the output rows that read this
// input row, each weighted sum starting from zero; lower tap before upper tap for one output.
template <int Threads>
__global__ void __launch_bounds__(Threads)
    bilinear_resize_backward_kernel(const float* __restrict__ dy, ResizeShape s, double scale_h, double scale_w,
                                    float* __restrict__ dx) {
  using resize_detail::tap;
  const long long count = static_cast<long long>(s.batch) * s.in_h * s.in_w * s.channels;
  for (long long e = elementwise::flat_first(); e < count; e += elementwise::flat_stride()) {
    const int c = int(e % s.channels);
    const long long pixel = e / s.channels;
    const int ix = int(pixel % s.in_w), iy = int(pixel / s.in_w % s.in_h);
    const long long n = pixel / s.in_w / s.in_h;
    const resize_detail::Range rows = resize_detail::readers(s.in_h, s.out_h, scale_h, iy);
    const resize_detail::Range cols = resize_detail::readers(s.in_w, s.out_w, scale_w, ix);
    const float* image = dy + n * s.out_h * s.out_w * s.channels + c;
    float sum = 0.0f;
    for (int ox = cols.first; ox < cols.end; ++ox) {
      float column = 0.0f;
      for (int oy = rows.first; oy < rows.end; ++oy) {
        const resize_detail::Tap row = tap(s.in_h, scale_h, oy);
        const float g = image[(static_cast<long long>(oy) * s.out_w + ox) * s.channels];
        if (row.lo == iy) column += row.w_lo * g;
        if (row.hi == iy) column += row.w_hi * g;
      }
      const resize_detail::Tap col = tap(s.in_w, scale_w, ox);
      if (col.lo == ix) sum += col.w_lo * column;
      if (col.hi == ix) sum += col.w_hi * column;
    }
    dx[e] = sum;
  }
}

template <Launcher L>
void bilinear_resize_forward(const L& launcher, const float* x, const ResizeShape& s, float* y) {
  resize_detail::check("bilinear_resize_forward", s);
  constexpr int threads = elementwise::kThreads;
  const long long count = static_cast<long long>(s.batch) * s.out_h * s.out_w * s.channels;
  launcher.launch(bilinear_resize_forward_kernel<threads>, dim3(elementwise::grid_stride_blocks(count)), dim3(threads),
                  0, x, s, resize_detail::axis_scale(s.in_h, s.out_h), resize_detail::axis_scale(s.in_w, s.out_w), y);
}

// dx [N, H, W, C] is overwritten with the adjoint of the forward applied to dy [N, Ho, Wo, C].
template <Launcher L>
void bilinear_resize_backward(const L& launcher, const float* dy, const ResizeShape& s, float* dx) {
  resize_detail::check("bilinear_resize_backward", s);
  constexpr int threads = elementwise::kThreads;
  const long long count = static_cast<long long>(s.batch) * s.in_h * s.in_w * s.channels;
  launcher.launch(bilinear_resize_backward_kernel<threads>, dim3(elementwise::grid_stride_blocks(count)), dim3(threads),
                  0, dy, s, resize_detail::axis_scale(s.in_h, s.out_h), resize_detail::axis_scale(s.in_w, s.out_w), dx);
}

}  // namespace ofa::cuda
