#include "kernels/ops/dropout.h"

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"
#include "kernels/random.h"

namespace ofa {
namespace {

// Below this many elements a parallel region costs more than the loop it would split.
constexpr std::int64_t kParallelGrain = 1 << 15;

void check_dropout(const char* op, const char* in_name, const Tensor& in, const char* out_name, const Tensor& out,
                   float p) {
  checks::contiguous(op, in_name, in);
  checks::contiguous(op, out_name, out);
  checks::shape(op, out_name, out, in.shape());
  OFA_CHECK(p >= 0.0f && p < 1.0f, op, "drop probability p = ", p, " must be in [0, 1)");
}

// The forward and the backward are the same masked scale; the mask is a pure function of
// (seed, stream, i), so both directions see the same one.
void masked_scale(const float* in, std::int64_t n, float p, std::uint64_t seed, std::uint64_t stream, float* out) {
  // As PyTorch: the mask is scaled by the float 1 / (1 - p), then multiplied in.
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = uniform01(seed, stream, static_cast<std::uint64_t>(i)) >= p ? in[i] * scale : 0.0f;
}

}  // namespace

void dropout_forward(const Tensor& x, float p, std::uint64_t seed, std::uint64_t stream, Tensor& y) {
  const Device device = checks::common_device("dropout_forward", {{"x", &x}, {"y", &y}});
  check_dropout("dropout_forward", "x", x, "y", y, p);
  if (device == Device::cuda) return on_cuda::dropout_forward(x, p, seed, stream, y);
  if (p == 0.0f) {
    if (y.raw() != x.raw()) y.copy_from(x);
    return;
  }
  masked_scale(x.f32(), x.numel(), p, seed, stream, y.f32());
}

void dropout_backward(const Tensor& dy, float p, std::uint64_t seed, std::uint64_t stream, Tensor& dx) {
  const Device device = checks::common_device("dropout_backward", {{"dy", &dy}, {"dx", &dx}});
  check_dropout("dropout_backward", "dy", dy, "dx", dx, p);
  if (device == Device::cuda) return on_cuda::dropout_backward(dy, p, seed, stream, dx);
  if (p == 0.0f) {
    if (dx.raw() != dy.raw()) dx.copy_from(dy);
    return;
  }
  masked_scale(dy.f32(), dy.numel(), p, seed, stream, dx.f32());
}

}  // namespace ofa
