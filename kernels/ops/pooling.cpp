#include "kernels/ops/pooling.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"

namespace ofa {
namespace {

// Below this many elements a parallel region costs more than the loop it would split.
constexpr std::int64_t kParallelGrain = 1 << 15;
// Pixels summed in float before flushing into double: few enough terms that the float
// partial stays accurate, and the hot loop keeps full float SIMD width.
constexpr std::int64_t kPixelBlock = 32;

struct Sizes {
  std::int64_t batch, pixels, channels;
  std::int64_t numel() const { return batch * pixels * channels; }
};

Sizes check_activation(const char* op, const char* name, const Tensor& t) {
  checks::contiguous(op, name, t);
  checks::rank(op, name, t, 4);
  return {t.dim(0), t.dim(1) * t.dim(2), t.dim(3)};
}

void check_per_channel(const char* op, const char* name, const Tensor& t, Sizes s) {
  checks::contiguous(op, name, t);
  checks::shape(op, name, t, Shape{s.batch, s.channels});
}

void check_like(const char* op, const char* name, const Tensor& t, const Tensor& like) {
  checks::contiguous(op, name, t);
  checks::shape(op, name, t, like.shape());
}

// out[c] = sum over the image's pixels p of term(p, c), float blocks flushed into double.
template <class Term>
void sum_over_pixels(std::int64_t pixels, std::int64_t channels, Term term, float* out) {
  std::vector<double> total(static_cast<std::size_t>(channels), 0.0);
  std::vector<float> block(static_cast<std::size_t>(channels));
  double* t = total.data();
  float* b = block.data();
  for (std::int64_t start = 0; start < pixels; start += kPixelBlock) {
    const std::int64_t stop = std::min(pixels, start + kPixelBlock);
    std::fill(block.begin(), block.end(), 0.0f);
    for (std::int64_t p = start; p < stop; ++p) {
#pragma omp simd
      for (std::int64_t c = 0; c < channels; ++c) b[c] += term(p, c);
    }
#pragma omp simd
    for (std::int64_t c = 0; c < channels; ++c) t[c] += static_cast<double>(b[c]);
  }
  for (std::int64_t c = 0; c < channels; ++c) out[c] = static_cast<float>(t[c]);
}

}  // namespace

void global_avg_pool_forward(const Tensor& x, Tensor& y) {
  const char* op = "global_avg_pool_forward";
  const Device device = checks::common_device(op, {{"x", &x}, {"y", &y}});
  const Sizes s = check_activation(op, "x", x);
  check_per_channel(op, "y", y, s);
  OFA_CHECK(s.pixels >= 1, op, "x has no pixels to average: ", x.describe());
  if (device == Device::cuda) return on_cuda::global_avg_pool_forward(x, y);
  const float* in = x.f32();
  float* out = y.f32();
  const float inv_pixels = 1.0f / static_cast<float>(s.pixels);
  // One image per iteration: each mean is a sequential sum, identical for any thread count.
#pragma omp parallel for schedule(static) if (s.numel() > kParallelGrain)
  for (std::int64_t n = 0; n < s.batch; ++n) {
    const float* image = in + n * s.pixels * s.channels;
    float* mean = out + n * s.channels;
    sum_over_pixels(s.pixels, s.channels, [=](std::int64_t p, std::int64_t c) { return image[p * s.channels + c]; },
                    mean);
    for (std::int64_t c = 0; c < s.channels; ++c) mean[c] *= inv_pixels;
  }
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  const char* op = "global_avg_pool_backward";
  const Device device = checks::common_device(op, {{"dy", &dy}, {"dx", &dx}});
  const Sizes s = check_activation(op, "dx", dx);
  check_per_channel(op, "dy", dy, s);
  if (device == Device::cuda) return on_cuda::global_avg_pool_backward(dy, dx);
  const float* grad_out = dy.f32();
  float* grad_in = dx.f32();
  const float inv_pixels = 1.0f / static_cast<float>(s.pixels);
#pragma omp parallel for collapse(2) schedule(static) if (s.numel() > kParallelGrain)
  for (std::int64_t n = 0; n < s.batch; ++n)
    for (std::int64_t p = 0; p < s.pixels; ++p) {
      const float* g = grad_out + n * s.channels;
      float* row = grad_in + (n * s.pixels + p) * s.channels;
#pragma omp simd
      for (std::int64_t c = 0; c < s.channels; ++c) row[c] = g[c] * inv_pixels;
    }
}

void channel_scale_forward(const Tensor& x, const Tensor& s, Tensor& y) {
  const char* op = "channel_scale_forward";
  const Device device = checks::common_device(op, {{"x", &x}, {"s", &s}, {"y", &y}});
  const Sizes dims = check_activation(op, "x", x);
  check_per_channel(op, "s", s, dims);
  check_like(op, "y", y, x);
  if (device == Device::cuda) return on_cuda::channel_scale_forward(x, s, y);
  const float* in = x.f32();
  const float* scale = s.f32();
  float* out = y.f32();
#pragma omp parallel for collapse(2) schedule(static) if (dims.numel() > kParallelGrain)
  for (std::int64_t n = 0; n < dims.batch; ++n)
    for (std::int64_t p = 0; p < dims.pixels; ++p) {
      const std::int64_t row = (n * dims.pixels + p) * dims.channels;
      const float* sc = scale + n * dims.channels;
#pragma omp simd
      for (std::int64_t c = 0; c < dims.channels; ++c) out[row + c] = in[row + c] * sc[c];
    }
}

void channel_scale_backward(const Tensor& x, const Tensor& s, const Tensor& dy, Tensor* dx, Tensor& ds) {
  const char* op = "channel_scale_backward";
  const Device device = checks::common_device(op, {{"x", &x}, {"s", &s}, {"dy", &dy}, {"dx", dx}, {"ds", &ds}});
  const Sizes dims = check_activation(op, "x", x);
  check_per_channel(op, "s", s, dims);
  check_like(op, "dy", dy, x);
  check_per_channel(op, "ds", ds, dims);
  if (dx != nullptr) check_like(op, "dx", *dx, x);
  if (device == Device::cuda) return on_cuda::channel_scale_backward(x, s, dy, dx, ds);
  const float* in = x.f32();
  const float* scale = s.f32();
  const float* grad_out = dy.f32();
  float* grad_in = dx != nullptr ? dx->f32() : nullptr;
  float* grad_scale = ds.f32();
  // One image per iteration: each ds[n, :] is a sequential sum, identical for any thread count.
#pragma omp parallel for schedule(static) if (dims.numel() > kParallelGrain)
  for (std::int64_t n = 0; n < dims.batch; ++n) {
    const std::int64_t image = n * dims.pixels * dims.channels;
    const std::int64_t ch = dims.channels;
    const float* x_image = in + image;
    const float* dy_image = grad_out + image;
    const float* sc = scale + n * ch;
    float* ds_image = grad_scale + n * ch;
    if (grad_in == nullptr) {
      sum_over_pixels(
          dims.pixels, ch, [=](std::int64_t p, std::int64_t c) { return dy_image[p * ch + c] * x_image[p * ch + c]; },
          ds_image);
      continue;
    }
    // dx is written inside the ds sum so that dy is read from memory once.
    float* dx_image = grad_in + image;
    sum_over_pixels(
        dims.pixels, ch,
        [=](std::int64_t p, std::int64_t c) {
          const float g = dy_image[p * ch + c];
          dx_image[p * ch + c] = g * sc[c];
          return g * x_image[p * ch + c];
        },
        ds_image);
  }
}

void pooled_channel_scale_input_backward(const Tensor& dy, const Tensor& s, const Tensor& dpooled, Tensor& dx) {
  const char* op = "pooled_channel_scale_input_backward";
  const Device device = checks::common_device(op, {{"dy", &dy}, {"s", &s}, {"dpooled", &dpooled}, {"dx", &dx}});
  const Sizes dims = check_activation(op, "dy", dy);
  check_per_channel(op, "s", s, dims);
  check_per_channel(op, "dpooled", dpooled, dims);
  check_like(op, "dx", dx, dy);
  if (device == Device::cuda) return on_cuda::pooled_channel_scale_input_backward(dy, s, dpooled, dx);
  const float* grad_out = dy.f32();
  const float* scale = s.f32();
  const float* grad_pooled = dpooled.f32();
  float* grad_in = dx.f32();
  const float inv_pixels = 1.0f / static_cast<float>(dims.pixels);
#pragma omp parallel for collapse(2) schedule(static) if (dims.numel() > kParallelGrain)
  for (std::int64_t n = 0; n < dims.batch; ++n)
    for (std::int64_t p = 0; p < dims.pixels; ++p) {
      const std::int64_t row = (n * dims.pixels + p) * dims.channels;
      const float* sc = scale + n * dims.channels;
      const float* gp = grad_pooled + n * dims.channels;
#pragma omp simd
      for (std::int64_t c = 0; c < dims.channels; ++c)
        grad_in[row + c] = grad_out[row + c] * sc[c] + gp[c] * inv_pixels;
    }
}

}  // namespace ofa
