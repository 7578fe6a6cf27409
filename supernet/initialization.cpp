#include "supernet/initialization.h"

#include <cmath>
#include <numbers>

#include "kernels/error.h"
#include "kernels/random.h"

namespace ofa {

void init_normal(Tensor& t, float stddev, std::uint64_t seed, std::uint64_t stream) {
  OFA_CHECK(t.is_contiguous(), "init_normal", "needs a contiguous tensor, got ", t.describe());
  float* p = t.f32();
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
    const auto index = static_cast<std::uint64_t>(i);
    const double u1 = 1.0 - uniform01(seed, stream, 2 * index);
    const double u2 = uniform01(seed, stream, 2 * index + 1);
    const double normal = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    p[i] = static_cast<float>(normal * stddev);
  }
}

void init_uniform(Tensor& t, float bound, std::uint64_t seed, std::uint64_t stream) {
  OFA_CHECK(t.is_contiguous(), "init_uniform", "needs a contiguous tensor, got ", t.describe());
  float* p = t.f32();
  for (std::int64_t i = 0; i < t.numel(); ++i)
    p[i] = (2.0f * uniform01(seed, stream, static_cast<std::uint64_t>(i)) - 1.0f) * bound;
}

void init_identity(Tensor& square_matrix) {
  OFA_CHECK(square_matrix.rank() == 2 && square_matrix.dim(0) == square_matrix.dim(1), "init_identity",
            "needs a square matrix, got ", square_matrix.describe());
  square_matrix.fill(0.0f);
  for (std::int64_t i = 0; i < square_matrix.dim(0); ++i) square_matrix.at({i, i}) = 1.0f;
}

}  // namespace ofa
