#include "supernet/initialization.h"

#include <cmath>
#include <numbers>

#include "kernels/error.h"
#include "kernels/random.h"

namespace ofa {
namespace {

// Initialisation runs once per tensor, so a CUDA tensor is filled on the host and uploaded: the
// draws are then the CPU's, bit for bit, on either device.
template <class Fill>
void fill_on_host(Tensor& t, const char* op, Fill fill) {
  OFA_CHECK(t.is_contiguous(), op, "needs a contiguous tensor, got ", t.describe());
  if (t.device() == Device::cpu) return fill(t.f32(), t.numel());
  Tensor host = Tensor::empty(t.shape());
  fill(host.f32(), host.numel());
  t.copy_from(host);
}

}  // namespace

void init_normal(Tensor& t, float stddev, std::uint64_t seed, std::uint64_t stream) {
  fill_on_host(t, "init_normal", [&](float* p, std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) {
      // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
      const auto index = static_cast<std::uint64_t>(i);
      const double u1 = 1.0 - uniform01(seed, stream, 2 * index);
      const double u2 = uniform01(seed, stream, 2 * index + 1);
      const double normal = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
      p[i] = static_cast<float>(normal * stddev);
    }
  });
}

void init_uniform(Tensor& t, float bound, std::uint64_t seed, std::uint64_t stream) {
  fill_on_host(t, "init_uniform", [&](float* p, std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i)
      p[i] = (2.0f * uniform01(seed, stream, static_cast<std::uint64_t>(i)) - 1.0f) * bound;
  });
}

void init_identity(Tensor& square_matrix) {
  OFA_CHECK(square_matrix.rank() == 2 && square_matrix.dim(0) == square_matrix.dim(1), "init_identity",
            "needs a square matrix, got ", square_matrix.describe());
  const std::int64_t n = square_matrix.dim(0);
  fill_on_host(square_matrix, "init_identity", [&](float* p, std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) p[i] = i / n == i % n ? 1.0f : 0.0f;
  });
}

}  // namespace ofa
