#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/dropout.h"
#include "kernels/random.h"
#include "kernels/threads.h"
#include "tests/support/expect_error.h"
#include "tests/support/test_tensors.h"

namespace ofa {
namespace {

using testing::expect_error_naming;

using testing::expect_close;
using testing::expect_gradient;
using testing::Probe;
using testing::random_int;
using testing::random_tensor;
using testing::to_doubles;

std::vector<double> reference_dropout(const Tensor& x, float p, std::uint64_t seed, std::uint64_t stream) {
  std::vector<double> y = to_doubles(x);
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = uniform01(seed, stream, i) >= p ? y[i] / (1.0 - static_cast<double>(p)) : 0.0;
  return y;
}

TEST(Dropout, ForwardMatchesReference) {
  for (int trial = 0; trial < 8; ++trial) {
    const Shape shape = trial == 7 ? Shape{3, 31, 33, 17}
                                   : Shape{random_int(1, 3), random_int(1, 6), random_int(1, 6), random_int(1, 23)};
    const float p = trial == 0 ? 0.9f : static_cast<float>(random_int(1, 8)) / 10.0f;
    const std::uint64_t seed = static_cast<std::uint64_t>(random_int(0, 1 << 30));
    Tensor x = random_tensor(shape);
    Tensor y = Tensor::empty(shape);
    dropout_forward(x, p, seed, 3, y);
    // One float multiply by the rounded 1 / (1 - p): within 2 ulp of the exact quotient.
    expect_close(y, reference_dropout(x, p, seed, 3), 0.0, 3e-7, "dropout y " + shape.str());
    dropout_forward(x, p, seed, 3, x);
    expect_close(x, y, 0.0, 0.0, "in-place dropout");
  }
}

TEST(Dropout, ZeroProbabilityIsACopy) {
  Tensor x = random_tensor({2, 5, 7, 3});
  Tensor y = Tensor::empty(x.shape());
  dropout_forward(x, 0.0f, 11, 0, y);
  expect_close(y, x, 0.0, 0.0, "p = 0 forward");
  Tensor dx = Tensor::empty(x.shape());
  dropout_backward(x, 0.0f, 11, 0, dx);
  expect_close(dx, x, 0.0, 0.0, "p = 0 backward");
  dropout_forward(x, 0.0f, 11, 0, x);
  expect_close(x, y, 0.0, 0.0, "p = 0 in place");
}

TEST(Dropout, KeepRateIsOneMinusP) {
  // 2^20 Bernoulli(1 - p) draws: the kept fraction has std sqrt(p (1 - p) / n) <= 4.9e-4,
  // so 5 standard deviations (2.5e-3) fails a correct mask with probability < 1e-6.
  const std::int64_t n = 1 << 20;
  Tensor ones = Tensor::full({n}, 1.0f);
  Tensor y = Tensor::empty({n});
  for (float p : {0.1f, 0.2f, 0.5f, 0.8f}) {
    dropout_forward(ones, p, 1234, 7, y);
    std::int64_t kept = 0;
    for (std::int64_t i = 0; i < n; ++i) kept += y.f32()[i] != 0.0f;
    const double rate = static_cast<double>(kept) / static_cast<double>(n);
    EXPECT_NEAR(rate, 1.0 - p, 5.0 * std::sqrt(p * (1.0 - p) / static_cast<double>(n))) << "p = " << p;
  }
}

TEST(Dropout, MaskDependsOnSeedAndStreamButNotOnThreadCount) {
  const int threads_before = num_threads();
  Tensor x = random_tensor({4, 32, 32, 24});  // well above the parallel grain
  auto run = [&](int threads, std::uint64_t seed, std::uint64_t stream) {
    set_num_threads(threads);
    Tensor y = Tensor::empty(x.shape());
    dropout_forward(x, 0.3f, seed, stream, y);
    return y;
  };
  const Tensor two = run(2, 5, 1);
  const Tensor one = run(1, 5, 1);
  const Tensor other_stream = run(2, 5, 2);
  const Tensor other_seed = run(2, 6, 1);
  set_num_threads(threads_before);
  expect_close(one, two, 0.0, 0.0, "mask on 1 vs 2 threads");
  auto differing = [&](const Tensor& a) {
    std::int64_t count = 0;
    for (std::int64_t i = 0; i < a.numel(); ++i) count += (a.f32()[i] == 0.0f) != (two.f32()[i] == 0.0f);
    return count;
  };
  // Independent masks with p = 0.3 disagree on 2 p (1 - p) = 42 % of elements.
  EXPECT_GT(differing(other_stream), x.numel() / 3);
  EXPECT_GT(differing(other_seed), x.numel() / 3);
}

TEST(Dropout, BackwardUsesTheForwardMask) {
  for (int trial = 0; trial < 4; ++trial) {
    const Shape shape{random_int(1, 3), random_int(1, 9), random_int(1, 9), random_int(1, 31)};
    const float p = 0.25f * static_cast<float>(trial % 3 + 1);
    Tensor x = random_tensor(shape);
    Tensor y = Tensor::empty(shape);
    Probe probe(shape);
    // Dropout is linear in x, so central differences are exact up to rounding.
    auto loss = [&] {
      dropout_forward(x, p, 99, static_cast<std::uint64_t>(trial), y);
      return probe(y);
    };
    Tensor dx = Tensor::empty(shape);
    dropout_backward(probe.weights, p, 99, static_cast<std::uint64_t>(trial), dx);
    expect_gradient(loss, x, dx, "dropout dx " + shape.str());
    loss();
    for (std::int64_t i = 0; i < x.numel(); ++i)
      EXPECT_EQ(y.f32()[i] == 0.0f, dx.f32()[i] == 0.0f) << "mask differs at " << i;
    dropout_backward(probe.weights, p, 99, static_cast<std::uint64_t>(trial), probe.weights);
    expect_close(probe.weights, dx, 0.0, 0.0, "backward in place");
  }
}

TEST(Dropout, RejectsBadInput) {
  Tensor x = random_tensor({2, 3});
  Tensor y = Tensor::empty({2, 3});
  for (float p : {-0.1f, 1.0f, 1.5f, std::numeric_limits<float>::quiet_NaN()}) {
    expect_error_naming([&] { dropout_forward(x, p, 1, 0, y); }, "dropout_forward");
    expect_error_naming([&] { dropout_backward(x, p, 1, 0, y); }, "dropout_backward");
  }
  Tensor wrong = Tensor::empty({3, 2});
  expect_error_naming([&] { dropout_forward(x, 0.5f, 1, 0, wrong); }, "dropout_forward");
  expect_error_naming([&] { dropout_forward(Tensor(), 0.5f, 1, 0, y); }, "dropout_forward");
  expect_error_naming([&] { dropout_backward(x, 0.5f, 1, 0, wrong); }, "dropout_backward");
}

}  // namespace
}  // namespace ofa
