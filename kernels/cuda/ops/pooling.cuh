#pragma once

#include <cstddef>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/column_sums.cuh"
#include "kernels/cuda/ops/elementwise.cuh"
#include "kernels/error.h"

// Global average pooling and channel scaling (SE's squeeze and excitation) on contiguous NHWC
// [batch, H, W, channels], as kernels/ops/pooling.h. Per-image, per-channel values s, dy of the
// pool, ds and dpooled are contiguous [batch, channels].

namespace ofa::cuda {

struct PoolShape {
  int batch;
  long long pixels;  // H * W
  int channels;
  long long numel() const { return batch * pixels * channels; }
};

namespace pooling_detail {

inline void check_shape(const char* op, const PoolShape& s) {
  OFA_CHECK(s.batch >= 1 && s.pixels >= 1 && s.channels >= 1, op, "needs a non-empty [N, H*W, C], got [", s.batch, ", ",
            s.pixels, ", ", s.channels, "]");
  OFA_CHECK(s.batch <= 65535, op, "at most 65535 images per call, got ", s.batch);
}

inline float inv_pixels(const PoolShape& s) { return 1.0f / float(s.pixels); }

struct PoolTerms {
  const float* x;
  struct Channel {
    const float* x;
    __device__ void operator()(long long e, float (&t)[1]) const { t[0] = x[e]; }
  };
  __device__ Channel for_channel(int, int) const { return {x}; }
};

// As the CPU op: the sum rounded to float, then scaled by the float 1 / (H * W).
struct PoolFinish {
  float* y;
  int channels;
  float inv_pixels;
  __device__ void operator()(int n, int c, const double (&totals)[1]) const {
    y[static_cast<long long>(n) * channels + c] = float(totals[0]) * inv_pixels;
  }
};

// ds = sum over pixels of dy * x; dx = dy * s written in the same pass (dx may alias dy: each
// element is read before it is written, by the same thread).
struct ScaleGradTerms {
  const float* x;
  const float* s;
  const float* dy;
  float* dx;
  int channels;
  struct Channel {
    const float* x;
    const float* dy;
    float* dx;
    float scale;
    __device__ void operator()(long long e, float (&t)[1]) const {
      const float g = dy[e];
      if (dx != nullptr) dx[e] = g * scale;
      t[0] = g * x[e];
    }
  };
  __device__ Channel for_channel(int n, int c) const {
    return {x, dy, dx, s[static_cast<long long>(n) * channels + c]};
  }
};

struct StoreTotal {
  float* out;
  int channels;
  __device__ void operator()(int n, int c, const double (&totals)[1]) const {
    out[static_cast<long long>(n) * channels + c] = float(totals[0]);
  }
};

}  // namespace pooling_detail

// dx[n, p, c] = dy[n, c] / pixels. blockIdx.y is the image in all per-image kernels.
template <int V>
__global__ void global_avg_pool_backward_kernel(const float* __restrict__ dy, PoolShape s, float inv_pixels,
                                                float* __restrict__ dx) {
  const int units = s.channels / V;
  const elementwise::RowLoop r = elementwise::row_loop(units);
  if (r.first >= r.stride) return;
  const long long n = blockIdx.y;
  elementwise::Floats<V> g = elementwise::load<V>(dy + n * s.channels + r.unit * V);
  OFA_UNROLL
  for (int i = 0; i < V; ++i) g.v[i] *= inv_pixels;
  float* image = dx + n * s.pixels * s.channels;
  for (long long u = r.first; u < s.pixels * units; u += r.stride) elementwise::store<V>(image + u * V, g);
}

template <int V>
__global__ void channel_scale_forward_kernel(const float* x, const float* __restrict__ scale, PoolShape s, float* y) {
  const int units = s.channels / V;
  const elementwise::RowLoop r = elementwise::row_loop(units);
  if (r.first >= r.stride) return;
  const long long n = blockIdx.y, image = n * s.pixels * s.channels;
  const elementwise::Floats<V> sc = elementwise::load<V>(scale + n * s.channels + r.unit * V);
  for (long long u = r.first; u < s.pixels * units; u += r.stride) {
    elementwise::Floats<V> v = elementwise::load<V>(x + image + u * V);
    OFA_UNROLL
    for (int i = 0; i < V; ++i) v.v[i] *= sc.v[i];
    elementwise::store<V>(y + image + u * V, v);
  }
}

// dx = dy * s[n, c] + dpooled[n, c] / pixels.
template <int V>
__global__ void pooled_channel_scale_input_backward_kernel(const float* dy, const float* __restrict__ scale,
                                                           const float* __restrict__ dpooled, PoolShape s,
                                                           float inv_pixels, float* dx) {
  const int units = s.channels / V;
  const elementwise::RowLoop r = elementwise::row_loop(units);
  if (r.first >= r.stride) return;
  const long long n = blockIdx.y, image = n * s.pixels * s.channels;
  const elementwise::Floats<V> sc = elementwise::load<V>(scale + n * s.channels + r.unit * V);
  elementwise::Floats<V> spread = elementwise::load<V>(dpooled + n * s.channels + r.unit * V);
  OFA_UNROLL
  for (int i = 0; i < V; ++i) spread.v[i] *= inv_pixels;
  for (long long u = r.first; u < s.pixels * units; u += r.stride) {
    elementwise::Floats<V> g = elementwise::load<V>(dy + image + u * V);
    OFA_UNROLL
    for (int i = 0; i < V; ++i) g.v[i] = g.v[i] * sc.v[i] + spread.v[i];
    elementwise::store<V>(dx + image + u * V, g);
  }
}

// Device bytes of scratch global_avg_pool_forward and channel_scale_backward need.
inline std::size_t pool_workspace_bytes(const PoolShape& s) {
  return columns::grid_for("pool_workspace_bytes", s.pixels, s.channels, s.batch).partial_count(1) * sizeof(double);
}

// y[n, c] = mean over pixels of x[n, p, c].
template <Launcher L>
void global_avg_pool_forward(const L& launcher, const float* x, const PoolShape& s, float* y, void* workspace) {
  const char* op = "global_avg_pool_forward";
  pooling_detail::check_shape(op, s);
  columns::sum_columns<1>(launcher, columns::grid_for(op, s.pixels, s.channels, s.batch), pooling_detail::PoolTerms{x},
                          pooling_detail::PoolFinish{y, s.channels, pooling_detail::inv_pixels(s)},
                          static_cast<double*>(workspace));
}

template <Launcher L>
void global_avg_pool_backward(const L& launcher, const float* dy, const PoolShape& s, float* dx) {
  pooling_detail::check_shape("global_avg_pool_backward", s);
  elementwise::with_vector_width(elementwise::vector_width(s.channels, {dy, dx}), [&](auto v) {
    constexpr int V = decltype(v)::value;
    const long long units = s.channels / V;
    launcher.launch(global_avg_pool_backward_kernel<V>, elementwise::per_image_grid(s.batch, s.pixels * units, units),
                    dim3(elementwise::kThreads), 0, dy, s, pooling_detail::inv_pixels(s), dx);
  });
}

// y = x * scale[n, c]; y may alias x.
template <Launcher L>
void channel_scale_forward(const L& launcher, const float* x, const float* scale, const PoolShape& s, float* y) {
  pooling_detail::check_shape("channel_scale_forward", s);
  elementwise::with_vector_width(elementwise::vector_width(s.channels, {x, scale, y}), [&](auto v) {
    constexpr int V = decltype(v)::value;
    const long long units = s.channels / V;
    launcher.launch(channel_scale_forward_kernel<V>, elementwise::per_image_grid(s.batch, s.pixels * units, units),
                    dim3(elementwise::kThreads), 0, x, scale, s, y);
  });
}

// ds[n, c] = sum over pixels of dy * x and dx = dy * scale[n, c], both overwritten, in one pass
// over dy. dx may be null and may alias dy.
template <Launcher L>
void channel_scale_backward(const L& launcher, const float* x, const float* scale, const float* dy, const PoolShape& s,
                            float* dx, float* ds, void* workspace) {
  const char* op = "channel_scale_backward";
  pooling_detail::check_shape(op, s);
  columns::sum_columns<1>(launcher, columns::grid_for(op, s.pixels, s.channels, s.batch),
                          pooling_detail::ScaleGradTerms{x, scale, dy, dx, s.channels},
                          pooling_detail::StoreTotal{ds, s.channels}, static_cast<double*>(workspace));
}

// The input gradient of x * s(pool(x)): dx = dy * scale[n, c] + dpooled[n, c] / pixels, in one
// pass; dx may alias dy.
template <Launcher L>
void pooled_channel_scale_input_backward(const L& launcher, const float* dy, const float* scale, const float* dpooled,
                                         const PoolShape& s, float* dx) {
  pooling_detail::check_shape("pooled_channel_scale_input_backward", s);
  elementwise::with_vector_width(elementwise::vector_width(s.channels, {dy, scale, dpooled, dx}), [&](auto v) {
    constexpr int V = decltype(v)::value;
    const long long units = s.channels / V;
    launcher.launch(pooled_channel_scale_input_backward_kernel<V>,
                    elementwise::per_image_grid(s.batch, s.pixels * units, units), dim3(elementwise::kThreads), 0, dy,
                    scale, dpooled, s, pooling_detail::inv_pixels(s), dx);
  });
}

}  // namespace ofa::cuda
