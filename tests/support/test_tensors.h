#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/tensor.h"

// Helpers every op test shares: seeded random tensors, comparison against a reference
// computed in double, and central finite differences of a scalar loss.
namespace ofa::testing {

inline std::mt19937_64& rng() {
  static std::mt19937_64 generator(20260101);
  return generator;
}

inline std::int64_t random_int(std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng());
}

inline Tensor random_tensor(const Shape& shape, float lo = -1.0f, float hi = 1.0f) {
  Tensor t = Tensor::empty(shape);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* p = t.f32();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng());
  return t;
}

// Reads a (possibly strided) tensor into a flat row-major vector of doubles.
inline std::vector<double> to_doubles(const Tensor& t) {
  const Tensor packed = t.clone();
  const float* p = packed.f32();
  return std::vector<double>(p, p + packed.numel());
}

// |got - want| <= atol + rtol * |want| for every element; reports the first few misses.
inline void expect_close(const Tensor& got, const std::vector<double>& want, double atol, double rtol,
                         const std::string& what) {
  const std::vector<double> values = to_doubles(got);
  ASSERT_EQ(values.size(), want.size()) << what;
  int reported = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double tolerance = atol + rtol * std::abs(want[i]);
    if (!(std::abs(values[i] - want[i]) <= tolerance) && reported++ < 5)
      ADD_FAILURE() << what << " element " << i << ": got " << values[i] << ", want " << want[i];
  }
}

inline void expect_close(const Tensor& got, const Tensor& want, double atol, double rtol, const std::string& what) {
  expect_close(got, to_doubles(want), atol, rtol, what);
}

// Weighted sum of a tensor with fixed random weights: a scalar loss whose gradient
// w.r.t. the tensor is exactly `weights`, so any op's backward can be seeded with it.
struct Probe {
  Tensor weights;
  explicit Probe(const Shape& shape) : weights(random_tensor(shape)) {}
  double operator()(const Tensor& t) const {
    const std::vector<double> v = to_doubles(t);
    const std::vector<double> w = to_doubles(weights);
    double sum = 0;
    for (std::size_t i = 0; i < v.size(); ++i) sum += v[i] * w[i];
    return sum;
  }
};

// Compares `analytic` (the gradient of loss() w.r.t. `param`) with central differences.
// Ops run in float32, so the step is large (eps) and the tolerance covers both the
// O(eps^2) truncation and float rounding of the loss divided by 2*eps. Checks at most
// max_points elements (spread evenly) to keep big tensors fast.
inline void expect_gradient(const std::function<double()>& loss, Tensor param, const Tensor& analytic,
                            const std::string& what, double eps = 1e-2, double atol = 2e-3, double rtol = 2e-2,
                            std::int64_t max_points = 48) {
  ASSERT_EQ(param.shape(), analytic.shape()) << what;
  const std::vector<double> grad = to_doubles(analytic);
  const std::int64_t n = param.numel();
  const std::int64_t step = std::max<std::int64_t>(1, n / max_points);
  int reported = 0;
  for (std::int64_t i = 0; i < n; i += step) {
    std::vector<std::int64_t> index(static_cast<std::size_t>(param.rank()));
    std::int64_t rest = i;
    for (int axis = param.rank() - 1; axis >= 0; --axis) {
      index[static_cast<std::size_t>(axis)] = rest % param.dim(axis);
      rest /= param.dim(axis);
    }
    float* element = param.f32();
    for (int axis = 0; axis < param.rank(); ++axis) element += index[static_cast<std::size_t>(axis)] * param.stride(axis);
    const float saved = *element;
    const float plus = saved + static_cast<float>(eps);
    const float minus = saved - static_cast<float>(eps);
    *element = plus;
    const double up = loss();
    *element = minus;
    const double down = loss();
    *element = saved;
    const double numeric = (up - down) / (static_cast<double>(plus) - static_cast<double>(minus));
    const double tolerance = atol + rtol * std::abs(numeric);
    if (!(std::abs(numeric - grad[static_cast<std::size_t>(i)]) <= tolerance) && reported++ < 5)
      ADD_FAILURE() << what << " gradient element " << i << ": analytic " << grad[static_cast<std::size_t>(i)]
                    << ", finite difference " << numeric;
  }
}

}  // namespace ofa::testing
