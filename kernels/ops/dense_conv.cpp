#include "kernels/ops/dense_conv.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"

// A direct convolution rather than im2col + OpenBLAS: OpenBLAS splits a GEMM differently for each
// thread count, which changes the rounding of a map, and for the stem (Cin = 3) the direct loop,
// vectorised over the output channels, is as fast. Every output element sums its taps in one
// fixed order, so the forward and the input gradient do not depend on the thread count.
namespace ofa {
namespace {

std::size_t to_size(std::int64_t n) { return static_cast<std::size_t>(n); }

struct DenseGeometry {
  std::int64_t batch, in_h, in_w, in_channels;
  std::int64_t kernel, stride;
  std::int64_t out_h, out_w, out_channels;

  std::int64_t pad() const { return kernel / 2; }
  std::int64_t input_pos(std::int64_t out, std::int64_t tap) const { return out * stride + tap - pad(); }
  // Output columns [first, end) whose tap v reads a column inside the input.
  std::int64_t first_column(std::int64_t v) const {
    return v >= pad() ? 0 : (pad() - v + stride - 1) / stride;
  }
  std::int64_t end_column(std::int64_t v) const {
    const std::int64_t last_input = in_w - 1 + pad() - v;
    return last_input < 0 ? 0 : std::min(out_w, last_input / stride + 1);
  }
  // The weight's taps with the output channel innermost, [K, K, Cin, cout]: one tap of one input
  // channel is then a contiguous vector over the output channels.
  std::int64_t tap_index(std::int64_t u, std::int64_t v, std::int64_t ci) const {
    return (u * kernel + v) * in_channels + ci;
  }
  std::int64_t taps() const { return kernel * kernel * in_channels; }
};

// The active filters [cout, K, K, Cin] transposed to [K, K, Cin, cout].
std::vector<float> transpose_filters(const DenseGeometry& g, const float* weight) {
  std::vector<float> transposed(to_size(g.taps() * g.out_channels));
  for (std::int64_t o = 0; o < g.out_channels; ++o)
    for (std::int64_t t = 0; t < g.taps(); ++t) transposed[to_size(t * g.out_channels + o)] = weight[o * g.taps() + t];
  return transposed;
}

const float* input_row(const DenseGeometry& g, const float* x, std::int64_t n, std::int64_t ih) {
  return x + (n * g.in_h + ih) * g.in_w * g.in_channels;
}

// Output row i of image n: every tap broadcasts one input value onto a vector of output channels.
void forward_row(const DenseGeometry& g, const float* x, const std::vector<float>& filters, std::int64_t n,
                 std::int64_t i, float* out) {
  const std::int64_t cout = g.out_channels, cin = g.in_channels;
  std::fill_n(out, g.out_w * cout, 0.0f);
  for (std::int64_t u = 0; u < g.kernel; ++u) {
    const std::int64_t ih = g.input_pos(i, u);
    if (ih < 0 || ih >= g.in_h) continue;
    const float* row = input_row(g, x, n, ih);
    for (std::int64_t v = 0; v < g.kernel; ++v)
      for (std::int64_t ci = 0; ci < cin; ++ci) {
        const float* w = filters.data() + g.tap_index(u, v, ci) * cout;
        for (std::int64_t j = g.first_column(v); j < g.end_column(v); ++j) {
          const float value = row[g.input_pos(j, v) * cin + ci];
          float* target = out + j * cout;
#pragma omp simd
          for (std::int64_t o = 0; o < cout; ++o) target[o] += value * w[o];
        }
      }
  }
}

// Adds output row i's share of the filter gradient into `dw` ([K, K, Cin, cout]).
void weight_gradient_row(const DenseGeometry& g, const float* x, const float* dy_row, std::int64_t n, std::int64_t i,
                         float* dw) {
  const std::int64_t cout = g.out_channels, cin = g.in_channels;
  for (std::int64_t u = 0; u < g.kernel; ++u) {
    const std::int64_t ih = g.input_pos(i, u);
    if (ih < 0 || ih >= g.in_h) continue;
    const float* row = input_row(g, x, n, ih);
    for (std::int64_t v = 0; v < g.kernel; ++v)
      for (std::int64_t ci = 0; ci < cin; ++ci) {
        float* target = dw + g.tap_index(u, v, ci) * cout;
        for (std::int64_t j = g.first_column(v); j < g.end_column(v); ++j) {
          const float value = row[g.input_pos(j, v) * cin + ci];
          const float* grad = dy_row + j * cout;
#pragma omp simd
          for (std::int64_t o = 0; o < cout; ++o) target[o] += value * grad[o];
        }
      }
  }
}

// Input row ih of image n's gradient, gathered from the output pixels whose windows cover it, so
// each dx row is written by one thread.
void input_gradient_row(const DenseGeometry& g, const float* dy, const std::vector<float>& filters, std::int64_t n,
                        std::int64_t ih, float* dx_row) {
  const std::int64_t cout = g.out_channels, cin = g.in_channels;
  std::fill_n(dx_row, g.in_w * cin, 0.0f);
  for (std::int64_t u = 0; u < g.kernel; ++u) {
    const std::int64_t reach = ih + g.pad() - u;
    if (reach < 0 || reach % g.stride != 0 || reach / g.stride >= g.out_h) continue;
    const float* dy_row = dy + (n * g.out_h + reach / g.stride) * g.out_w * cout;
    for (std::int64_t v = 0; v < g.kernel; ++v)
      for (std::int64_t j = g.first_column(v); j < g.end_column(v); ++j) {
        const float* grad = dy_row + j * cout;
        float* target = dx_row + g.input_pos(j, v) * cin;
        for (std::int64_t ci = 0; ci < cin; ++ci) {
          const float* w = filters.data() + g.tap_index(u, v, ci) * cout;
          float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
          for (std::int64_t o = 0; o < cout; ++o) sum += grad[o] * w[o];
          target[ci] += sum;
        }
      }
  }
}

DenseGeometry check_dense(const char* op, const Tensor& x, const Tensor& weight, std::int64_t out_channels,
                          std::int64_t stride) {
  checks::contiguous(op, "x", x);
  checks::rank(op, "x", x, 4);
  OFA_CHECK(x.numel() > 0, op, "x must not be empty, got ", x.describe());
  checks::contiguous(op, "weight", weight);
  checks::rank(op, "weight", weight, 4);
  const std::int64_t k = weight.dim(1);
  OFA_CHECK(k % 2 == 1 && weight.dim(2) == k, op, "weight must be [Cout_max,K,K,Cin] with an odd K, got ",
            weight.describe());
  OFA_CHECK(weight.dim(3) == x.dim(3), op, "weight input channels ", weight.dim(3), " must equal x channels ",
            x.dim(3));
  checks::active_size(op, "output channels", out_channels, weight.dim(0));
  OFA_CHECK(stride >= 1, op, "stride must be >= 1, got ", stride);
  return {x.dim(0), x.dim(1), x.dim(2), x.dim(3), k, stride, (x.dim(1) - 1) / stride + 1, (x.dim(2) - 1) / stride + 1,
          out_channels};
}

Shape output_shape(const DenseGeometry& g) { return Shape{g.batch, g.out_h, g.out_w, g.out_channels}; }

// Each thread sums its static share of output rows into its own buffer; the buffers are added in
// thread order, so dweight is deterministic for a fixed thread count.
void weight_gradient(const DenseGeometry& g, const float* x, const float* dy, float* dweight) {
  const std::int64_t size = g.taps() * g.out_channels;
  std::vector<std::vector<float>> partials(to_size(omp_get_max_threads()));
#pragma omp parallel
  {
    std::vector<float>& dw = partials[to_size(omp_get_thread_num())];
    dw.assign(to_size(size), 0.0f);
#pragma omp for schedule(static)
    for (std::int64_t row = 0; row < g.batch * g.out_h; ++row)
      weight_gradient_row(g, x, dy + row * g.out_w * g.out_channels, row / g.out_h, row % g.out_h, dw.data());
  }
  for (const std::vector<float>& dw : partials) {
    if (dw.empty()) continue;
    for (std::int64_t o = 0; o < g.out_channels; ++o)
      for (std::int64_t t = 0; t < g.taps(); ++t) dweight[o * g.taps() + t] += dw[to_size(t * g.out_channels + o)];
  }
}

}  // namespace

void dense_conv_forward(const Tensor& x, const Tensor& weight, std::int64_t out_channels, std::int64_t stride,
                        Tensor& y) {
  const char* op = "dense_conv_forward";
  const Device device = checks::common_device(op, {{"x", &x}, {"weight", &weight}, {"y", &y}});
  const DenseGeometry g = check_dense(op, x, weight, out_channels, stride);
  checks::contiguous(op, "y", y);
  checks::shape(op, "y", y, output_shape(g));
  if (device == Device::cuda) return on_cuda::dense_conv_forward(x, weight, out_channels, stride, y);
  const std::vector<float> filters = transpose_filters(g, weight.f32());
  const float* input = x.f32();
  float* out = y.f32();
#pragma omp parallel for schedule(static)
  for (std::int64_t row = 0; row < g.batch * g.out_h; ++row)
    forward_row(g, input, filters, row / g.out_h, row % g.out_h, out + row * g.out_w * g.out_channels);
}

void dense_conv_backward(const Tensor& x, const Tensor& weight, std::int64_t stride, const Tensor& dy, Tensor* dx,
                         Tensor& dweight) {
  const char* op = "dense_conv_backward";
  const Device device =
      checks::common_device(op, {{"x", &x}, {"weight", &weight}, {"dy", &dy}, {"dx", dx}, {"dweight", &dweight}});
  checks::rank(op, "dy", dy, 4);
  const DenseGeometry g = check_dense(op, x, weight, dy.dim(3), stride);
  checks::contiguous(op, "dy", dy);
  checks::shape(op, "dy", dy, output_shape(g));
  checks::contiguous(op, "dweight", dweight);
  checks::shape(op, "dweight", dweight, weight.shape());
  if (dx != nullptr) {
    checks::contiguous(op, "dx", *dx);
    checks::shape(op, "dx", *dx, x.shape());
  }
  if (device == Device::cuda) return on_cuda::dense_conv_backward(x, weight, stride, dy, dx, dweight);
  if (dx != nullptr) {
    const std::vector<float> filters = transpose_filters(g, weight.f32());
    const float* grad = dy.f32();
    float* out = dx->f32();
#pragma omp parallel for schedule(static)
    for (std::int64_t row = 0; row < g.batch * g.in_h; ++row)
      input_gradient_row(g, grad, filters, row / g.in_h, row % g.in_h, out + row * g.in_w * g.in_channels);
  }
  weight_gradient(g, x.f32(), dy.f32(), dweight.f32());
}

}  // namespace ofa
