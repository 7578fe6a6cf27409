#include "kernels/ops/activation.h"

#include <cstdint>
#include <string>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"

namespace ofa {
namespace {

// Below this many elements a parallel region costs more than the loop it would split.
constexpr std::int64_t kParallelGrain = 1 << 15;

void check_same_shape(const char* op, const char* name, const Tensor& t, const Tensor& like) {
  checks::contiguous(op, name, t);
  checks::shape(op, name, t, like.shape());
}

// Plain pointer arguments (not lambda captures) so the compiler sees no aliasing between
// the loop's pointers and its bounds, and vectorises.
template <Activation A>
void forward_loop(const float* in, std::int64_t n, float* out) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) out[i] = activation_math::apply<A>(in[i]);
}

template <Activation A>
void backward_loop(const float* in, const float* grad_out, std::int64_t n, float* grad_in) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) grad_in[i] = activation_math::slope<A>(in[i]) * grad_out[i];
}

}  // namespace

Activation activation_from_name(std::string_view name) {
  if (name == "none") return Activation::none;
  if (name == "relu") return Activation::relu;
  if (name == "h_swish" || name == "hswish") return Activation::hswish;
  if (name == "h_sigmoid" || name == "hsigmoid") return Activation::hsigmoid;
  fail("activation_from_name", "unknown activation '", std::string(name),
       "'; expected one of none, relu, h_swish (hswish), h_sigmoid (hsigmoid)");
}

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::none: return "none";
    case Activation::relu: return "relu";
    case Activation::hswish: return "h_swish";
    case Activation::hsigmoid: return "h_sigmoid";
  }
  return "?";
}

void activation_forward(Activation activation, const Tensor& x, Tensor& y) {
  const char* op = "activation_forward";
  const Device device = checks::common_device(op, {{"x", &x}, {"y", &y}});
  checks::contiguous(op, "x", x);
  check_same_shape(op, "y", y, x);
  if (device == Device::cuda) return on_cuda::activation_forward(activation, x, y);
  activation_math::dispatch(activation,
                            [&](auto kind) { forward_loop<decltype(kind)::value>(x.f32(), x.numel(), y.f32()); });
}

void activation_backward(Activation activation, const Tensor& x, const Tensor& dy, Tensor& dx) {
  const char* op = "activation_backward";
  const Device device = checks::common_device(op, {{"x", &x}, {"dy", &dy}, {"dx", &dx}});
  checks::contiguous(op, "x", x);
  check_same_shape(op, "dy", dy, x);
  check_same_shape(op, "dx", dx, x);
  if (device == Device::cuda) return on_cuda::activation_backward(activation, x, dy, dx);
  activation_math::dispatch(activation, [&](auto kind) {
    backward_loop<decltype(kind)::value>(x.f32(), dy.f32(), x.numel(), dx.f32());
  });
}

}  // namespace ofa
