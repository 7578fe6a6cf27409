#include "kernels/ops/residual_add.h"

#include <cstdint>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"

namespace ofa {
namespace {

// Below this many elements a parallel region costs more than the loop it would split.
constexpr std::int64_t kParallelGrain = 1 << 15;

}  // namespace

void residual_add_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  const char* op = "residual_add_forward";
  const Device device = checks::common_device(op, {{"a", &a}, {"b", &b}, {"y", &y}});
  checks::contiguous(op, "a", a);
  checks::contiguous(op, "b", b);
  checks::shape(op, "b", b, a.shape());
  checks::contiguous(op, "y", y);
  checks::shape(op, "y", y, a.shape());
  if (device == Device::cuda) return on_cuda::residual_add_forward(a, b, y);
  const float* lhs = a.f32();
  const float* rhs = b.f32();
  float* out = y.f32();
  const std::int64_t n = a.numel();
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) out[i] = lhs[i] + rhs[i];
}

}  // namespace ofa
