#include "kernels/ops/linear.h"

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/gemm.h"
#include "kernels/ops/checks.h"

namespace ofa {
namespace {

struct LinearSizes {
  std::int64_t rows, in, out;
};

LinearSizes check_linear(const char* op, const Tensor& x, const Tensor& weight, const Tensor* bias,
                         std::int64_t out_features) {
  checks::row_major_matrix(op, "x", x);
  checks::row_major_matrix(op, "weight", weight);
  checks::active_size(op, "input features", x.dim(1), weight.dim(1));
  checks::active_size(op, "output features", out_features, weight.dim(0));
  if (bias != nullptr) {
    checks::contiguous(op, "bias", *bias);
    checks::shape(op, "bias", *bias, Shape{weight.dim(0)});
  }
  return {x.dim(0), x.dim(1), out_features};
}

}  // namespace

void linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, std::int64_t out_features, Tensor& y) {
  const char* op = "linear_forward";
  const Device device = checks::common_device(op, {{"x", &x}, {"weight", &weight}, {"bias", bias}, {"y", &y}});
  const LinearSizes s = check_linear(op, x, weight, bias, out_features);
  checks::row_major_matrix(op, "y", y);
  checks::shape(op, "y", y, Shape{s.rows, s.out});

  if (device == Device::cuda) return on_cuda::linear_forward(x, weight, bias, out_features, y);
  float* out = y.f32();
  const std::int64_t ldy = y.stride(0);
  float beta = 0.0f;
  if (bias != nullptr) {
    const float* b = bias->f32();
    for (std::int64_t r = 0; r < s.rows; ++r)
      for (std::int64_t o = 0; o < s.out; ++o) out[r * ldy + o] = b[o];
    beta = 1.0f;
  }
  gemm(false, true, s.rows, s.out, s.in, 1.0f, x.f32(), x.stride(0), weight.f32(), weight.stride(0), beta, out, ldy);
}

void linear_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, Tensor* dx, Tensor& dweight,
                     Tensor* dbias) {
  const char* op = "linear_backward";
  const Device device = checks::common_device(
      op, {{"x", &x}, {"weight", &weight}, {"dy", &dy}, {"dx", dx}, {"dweight", &dweight}, {"dbias", dbias}});
  const LinearSizes s = check_linear(op, x, weight, nullptr, dy.defined() && dy.rank() == 2 ? dy.dim(1) : 0);
  checks::row_major_matrix(op, "dy", dy);
  checks::shape(op, "dy", dy, Shape{s.rows, s.out});
  checks::row_major_matrix(op, "dweight", dweight);
  checks::shape(op, "dweight", dweight, weight.shape());

  if (dx != nullptr) {
    checks::row_major_matrix(op, "dx", *dx);
    checks::shape(op, "dx", *dx, x.shape());
  }
  if (dbias != nullptr) {
    checks::contiguous(op, "dbias", *dbias);
    checks::shape(op, "dbias", *dbias, Shape{weight.dim(0)});
  }
  if (device == Device::cuda) return on_cuda::linear_backward(x, weight, dy, dx, dweight, dbias);
  if (dx != nullptr) {
    gemm(false, false, s.rows, s.in, s.out, 1.0f, dy.f32(), dy.stride(0), weight.f32(), weight.stride(0), 0.0f,
         dx->f32(), dx->stride(0));
  }
  gemm(true, false, s.out, s.in, s.rows, 1.0f, dy.f32(), dy.stride(0), x.f32(), x.stride(0), 1.0f, dweight.f32(),
       dweight.stride(0));
  if (dbias != nullptr) {
    const float* g = dy.f32();
    float* db = dbias->f32();
    const std::int64_t ld = dy.stride(0);
    for (std::int64_t r = 0; r < s.rows; ++r)
      for (std::int64_t o = 0; o < s.out; ++o) db[o] += g[r * ld + o];
  }
}

}  // namespace ofa
