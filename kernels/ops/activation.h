#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "kernels/tensor.h"

namespace ofa {

// The activations of OFA-MobileNetV3 (OFA's build_activation names in parentheses):
// none, relu ("relu"), hswish ("h_swish"), hsigmoid ("h_sigmoid").
enum class Activation : std::uint8_t { none, relu, hswish, hsigmoid };

// Accepts OFA's names ("relu", "h_swish", "h_sigmoid", "none") and the unseparated spellings
// ("hswish", "hsigmoid"); anything else throws ofa::Error listing the accepted names.
Activation activation_from_name(std::string_view name);
const char* activation_name(Activation activation);

// y = act(x) elementwise over any rank; x and y contiguous and the same shape. y may alias x.
void activation_forward(Activation activation, const Tensor& x, Tensor& y);

// dx = act'(x) * dy (overwritten), from the activation's INPUT x. dx may alias dy.
void activation_backward(Activation activation, const Tensor& x, const Tensor& dy, Tensor& dx);

// Scalar definitions shared by every op that fuses an activation (batch norm, SE), written
// branch-free so loops over channels vectorise. They follow PyTorch exactly, including
// the derivative chosen at each kink:
//   relu'(0) = 0                       (threshold_backward: x > 0)
//   hswish(x) = x * relu6(x + 3) / 6,  hswish'(x) = x/3 + 1/2 on [-3, 3] closed, 0 below, 1 above
//   hsigmoid(x) = relu6(x + 3) / 6,    hsigmoid'(x) = 1/6 on (-3, 3) open, 0 elsewhere
namespace activation_math {

inline constexpr float kOneSixth = 1.0f / 6.0f;

inline float relu6_shifted(float x) { return x + 3.0f < 0.0f ? 0.0f : (x + 3.0f > 6.0f ? 6.0f : x + 3.0f); }

template <Activation A>
inline float apply(float x) {
  if constexpr (A == Activation::relu) return x > 0.0f ? x : 0.0f;
  if constexpr (A == Activation::hswish) return x * relu6_shifted(x) * kOneSixth;
  if constexpr (A == Activation::hsigmoid) return relu6_shifted(x) * kOneSixth;
  return x;
}

template <Activation A>
inline float slope(float x) {
  if constexpr (A == Activation::relu) return x > 0.0f ? 1.0f : 0.0f;
  if constexpr (A == Activation::hswish) return x < -3.0f ? 0.0f : (x <= 3.0f ? x * (1.0f / 3.0f) + 0.5f : 1.0f);
  if constexpr (A == Activation::hsigmoid) return x > -3.0f && x < 3.0f ? kOneSixth : 0.0f;
  return 1.0f;
}

// Calls body(std::integral_constant<Activation, A>{}) for the runtime value, so a fused
// kernel is compiled once per activation with the choice hoisted out of its inner loop.
template <class Body>
decltype(auto) dispatch(Activation activation, Body&& body) {
  switch (activation) {
    case Activation::relu: return body(std::integral_constant<Activation, Activation::relu>{});
    case Activation::hswish: return body(std::integral_constant<Activation, Activation::hswish>{});
    case Activation::hsigmoid: return body(std::integral_constant<Activation, Activation::hsigmoid>{});
    case Activation::none: break;
  }
  return body(std::integral_constant<Activation, Activation::none>{});
}

}  // namespace activation_math
}  // namespace ofa
