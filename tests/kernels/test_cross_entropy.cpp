#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/cross_entropy.h"
#include "tests/support/expect_error.h"
#include "tests/support/test_tensors.h"

namespace ofa {
namespace {

using testing::expect_error_naming;

using testing::expect_close;
using testing::expect_gradient;
using testing::random_int;
using testing::random_tensor;

std::vector<std::int32_t> random_labels(std::int64_t rows, std::int64_t classes) {
  std::vector<std::int32_t> labels;
  for (std::int64_t n = 0; n < rows; ++n) labels.push_back(static_cast<std::int32_t>(random_int(0, classes - 1)));
  return labels;
}

std::vector<double> reference_log_softmax(const Tensor& logits, std::int64_t n) {
  const std::int64_t classes = logits.dim(1);
  double max = logits.at({n, 0});
  for (std::int64_t k = 1; k < classes; ++k) max = std::max(max, static_cast<double>(logits.at({n, k})));
  double sum = 0;
  for (std::int64_t k = 0; k < classes; ++k) sum += std::exp(logits.at({n, k}) - max);
  std::vector<double> out;
  for (std::int64_t k = 0; k < classes; ++k) out.push_back(logits.at({n, k}) - max - std::log(sum));
  return out;
}

// mean_n sum_k -target_nk log_softmax(z_n)_k with target = (1 - eps) onehot + eps / K, in double.
double reference_loss(const Tensor& logits, const std::vector<std::int32_t>& labels, double eps) {
  const std::int64_t rows = logits.dim(0), classes = logits.dim(1);
  double total = 0;
  for (std::int64_t n = 0; n < rows; ++n) {
    const std::vector<double> log_p = reference_log_softmax(logits, n);
    for (std::int64_t k = 0; k < classes; ++k) {
      const double target = (k == labels[static_cast<std::size_t>(n)] ? 1 - eps : 0) + eps / static_cast<double>(classes);
      total -= target * log_p[static_cast<std::size_t>(k)];
    }
  }
  return total / static_cast<double>(rows);
}

TEST(CrossEntropy, ForwardMatchesReference) {
  for (int trial = 0; trial < 12; ++trial) {
    const std::int64_t rows = random_int(1, 17), classes = random_int(1, 37);
    const float eps = trial % 3 == 0 ? 0.0f : 0.1f * static_cast<float>(trial % 4);
    const Tensor logits = random_tensor({rows, classes}, -6.0f, 6.0f);
    const std::vector<std::int32_t> labels = random_labels(rows, classes);
    const double want = reference_loss(logits, labels, eps);
    EXPECT_NEAR(cross_entropy_forward(logits, labels, eps), want, 1e-5 * (1 + std::abs(want)))
        << logits.describe() << " eps " << eps;
  }
}

// The max subtraction at work: logits around 1e4 would overflow exp() directly, yet the loss
// equals that of the same logits shifted down (softmax and the target are shift-invariant).
TEST(CrossEntropy, StableForLargeLogits) {
  const Tensor logits = random_tensor({5, 11}, -3.0f, 3.0f);
  Tensor shifted = logits.clone();
  for (std::int64_t i = 0; i < shifted.numel(); ++i) shifted.f32()[i] += 10000.0f;
  const std::vector<std::int32_t> labels = random_labels(5, 11);
  const float loss = cross_entropy_forward(shifted, labels, 0.1f);
  EXPECT_TRUE(std::isfinite(loss));
  // 1e4 + x is stored with an absolute error of up to 5e-4 (float spacing 1e-3 there).
  EXPECT_NEAR(loss, reference_loss(logits, labels, 0.1), 2e-3);
  EXPECT_NEAR(loss, reference_loss(shifted, labels, 0.1), 1e-5);
}

TEST(CrossEntropy, ZeroSmoothingIsPlainCrossEntropy) {
  const Tensor logits = random_tensor({9, 13}, -4.0f, 4.0f);
  const std::vector<std::int32_t> labels = random_labels(9, 13);
  double plain = 0;
  for (std::int64_t n = 0; n < 9; ++n)
    plain -= reference_log_softmax(logits, n)[static_cast<std::size_t>(labels[static_cast<std::size_t>(n)])];
  plain /= 9;
  EXPECT_NEAR(cross_entropy_forward(logits, labels, 0.0f), plain, 1e-5);
}

TEST(CrossEntropy, WorksOnAPrefixViewOfWiderRows) {
  const Tensor wide = random_tensor({6, 20});
  const Tensor logits = wide.prefix(1, 7);
  const std::vector<std::int32_t> labels = random_labels(6, 7);
  EXPECT_NEAR(cross_entropy_forward(logits, labels, 0.1f), reference_loss(logits.clone(), labels, 0.1), 1e-5);
}

// The loss is O(1) and returned in float (spacing ~2e-7), which puts ~1e-5 of rounding noise
// into a central difference over the 1e-2 step; truncation (O(step^2)) is of the same order.
// The worst error measured over 200 random cases was 4e-5, so atol 1.5e-4 + 1% leaves a
// margin of ~4x while a wrong class or row index (an error of O(1/(N K))) is still caught.
TEST(CrossEntropy, BackwardMatchesFiniteDifferences) {
  for (int trial = 0; trial < 8; ++trial) {
    const std::int64_t rows = random_int(1, 9), classes = random_int(2, 17);
    const float eps = trial % 2 == 0 ? 0.0f : 0.1f;
    const float grad_scale = trial % 3 == 0 ? 1.0f : 0.75f;
    Tensor logits = random_tensor({rows, classes}, -3.0f, 3.0f);
    const std::vector<std::int32_t> labels = random_labels(rows, classes);
    auto loss = [&] { return static_cast<double>(grad_scale) * cross_entropy_forward(logits, labels, eps); };
    Tensor dlogits = Tensor::full(logits.shape(), 42.0f);  // overwritten, not accumulated
    cross_entropy_backward(logits, labels, eps, grad_scale, dlogits);
    expect_gradient(loss, logits, dlogits, "cross-entropy dlogits " + logits.shape().str(), 1e-2, 1.5e-4, 1e-2, 400);
  }
}

// Each gradient row sums to zero: softmax and the smoothed target both sum to one.
TEST(CrossEntropy, GradientRowsSumToZero) {
  const Tensor logits = random_tensor({4, 10}, -5.0f, 5.0f);
  Tensor dlogits = Tensor::empty(logits.shape());
  cross_entropy_backward(logits, random_labels(4, 10), 0.1f, 1.0f, dlogits);
  for (std::int64_t n = 0; n < 4; ++n) {
    double sum = 0;
    for (std::int64_t k = 0; k < 10; ++k) sum += dlogits.at({n, k});
    EXPECT_NEAR(sum, 0.0, 1e-6) << "row " << n;
  }
}

TEST(CrossEntropy, RejectsBadInput) {
  const Tensor logits = random_tensor({3, 10});
  Tensor dlogits = Tensor::empty({3, 10});
  const std::vector<std::int32_t> out_of_range = {1, 10, 2};
  expect_error_naming([&] { cross_entropy_forward(logits, out_of_range, 0.1f); }, "cross_entropy_forward",
                      "label 10 of row 1");
  const std::vector<std::int32_t> negative = {1, 2, -1};
  expect_error_naming([&] { cross_entropy_backward(logits, negative, 0.1f, 1.0f, dlogits); },
                      "cross_entropy_backward", "label -1 of row 2");
  const std::vector<std::int32_t> labels = {1, 2, 3};
  const std::vector<std::int32_t> too_few = {1, 2};
  expect_error_naming([&] { cross_entropy_forward(logits, too_few, 0.1f); }, "cross_entropy_forward",
                      "one label per row");
  expect_error_naming([&] { cross_entropy_forward(logits, labels, 1.5f); }, "cross_entropy_forward",
                      "label_smoothing");
  expect_error_naming([&] { cross_entropy_forward(Tensor(), labels, 0.1f); }, "cross_entropy_forward", "undefined");
  Tensor wrong_grad = Tensor::empty({3, 9});
  expect_error_naming([&] { cross_entropy_backward(logits, labels, 0.1f, 1.0f, wrong_grad); },
                      "cross_entropy_backward", "[3,9]");
}

}  // namespace
}  // namespace ofa
