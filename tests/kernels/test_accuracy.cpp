#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/accuracy.h"
#include "tests/support/expect_error.h"
#include "tests/support/test_tensors.h"

namespace ofa {
namespace {

using testing::expect_error_naming;

using testing::random_int;
using testing::random_tensor;

Tensor logits_from(std::int64_t rows, std::int64_t classes, const std::vector<float>& values) {
  Tensor t = Tensor::empty({rows, classes});
  std::copy(values.begin(), values.end(), t.f32());
  return t;
}

// Sort-free reference: the label's place in the descending order, counting only strictly
// higher logits.
std::int64_t reference_correct(const Tensor& logits, const std::vector<std::int32_t>& labels, std::int64_t k) {
  std::int64_t correct = 0;
  for (std::int64_t n = 0; n < logits.dim(0); ++n) {
    const float target = logits.at({n, labels[static_cast<std::size_t>(n)]});
    std::int64_t higher = 0;
    for (std::int64_t c = 0; c < logits.dim(1); ++c) higher += logits.at({n, c}) > target;
    correct += higher < k;
  }
  return correct;
}

TEST(Accuracy, CountsTop1AndTop5OnAHandMadeBatch) {
  // Row 0: label 2 is the clear best. Row 1: label 0 is 3rd. Row 2: label 4 is 6th (last).
  const Tensor logits = logits_from(3, 6,
                                    {0.1f, 0.2f, 0.9f, 0.3f, 0.0f, -1.0f,  //
                                     0.5f, 0.9f, 0.1f, 0.7f, 0.2f, 0.3f,   //
                                     0.5f, 0.9f, 0.1f, 0.7f, -2.0f, 0.3f});
  const std::vector<std::int32_t> labels = {2, 0, 4};
  const AccuracyCounts top5 = accuracy_counts(logits, labels, 5);
  EXPECT_EQ(top5.top1, 1);
  EXPECT_EQ(top5.topk, 2);
  const AccuracyCounts top3 = accuracy_counts(logits, labels, 3);
  EXPECT_EQ(top3.topk, 2);
  const AccuracyCounts top2 = accuracy_counts(logits, labels, 2);
  EXPECT_EQ(top2.topk, 1);
}

// Ties count in the label's favour: only strictly greater logits push it down.
TEST(Accuracy, TiesFavourTheLabel) {
  const Tensor logits = logits_from(3, 4,
                                    {1.0f, 1.0f, 1.0f, 1.0f,  // all tied: top-1 hit for any label
                                     2.0f, 2.0f, 1.0f, 0.0f,  // label 1 tied for first
                                     3.0f, 3.0f, 1.0f, 1.0f}); // label 3 tied for third, two above
  const std::vector<std::int32_t> labels = {3, 1, 3};
  const AccuracyCounts top1 = accuracy_counts(logits, labels, 1);
  EXPECT_EQ(top1.top1, 2);
  EXPECT_EQ(top1.topk, 2);
  EXPECT_EQ(accuracy_counts(logits, labels, 2).topk, 2);
  EXPECT_EQ(accuracy_counts(logits, labels, 3).topk, 3);
}

TEST(Accuracy, NanLabelLogitIsNeverCorrect) {
  const Tensor logits = logits_from(1, 3, {std::nanf(""), 0.0f, 1.0f});
  const AccuracyCounts counts = accuracy_counts(logits, std::vector<std::int32_t>{0}, 3);
  EXPECT_EQ(counts.top1, 0);
  EXPECT_EQ(counts.topk, 0);
}

TEST(Accuracy, MatchesReferenceOnRandomBatches) {
  for (int trial = 0; trial < 10; ++trial) {
    const std::int64_t rows = random_int(1, 200), classes = random_int(1, 30);
    // Coarse values so ties are common.
    Tensor logits = random_tensor({rows, classes}, 0.0f, 4.0f);
    for (std::int64_t i = 0; i < logits.numel(); ++i) logits.f32()[i] = std::floor(logits.f32()[i]);
    std::vector<std::int32_t> labels;
    for (std::int64_t n = 0; n < rows; ++n) labels.push_back(static_cast<std::int32_t>(random_int(0, classes - 1)));
    for (std::int64_t k : {1, 5}) {
      const AccuracyCounts counts = accuracy_counts(logits, labels, k);
      EXPECT_EQ(counts.top1, reference_correct(logits, labels, 1));
      EXPECT_EQ(counts.topk, reference_correct(logits, labels, k)) << "k " << k;
    }
  }
}

TEST(Accuracy, KAboveClassCountIsClampedSoEveryRowIsAHit) {
  const Tensor logits = random_tensor({7, 3});
  const std::vector<std::int32_t> labels = {0, 1, 2, 0, 1, 2, 0};
  EXPECT_EQ(accuracy_counts(logits, labels, 5).topk, 7);
  EXPECT_EQ(accuracy_counts(logits, labels, 5).top1, reference_correct(logits, labels, 1));
}

TEST(Accuracy, RejectsBadInput) {
  const Tensor logits = random_tensor({3, 10});
  const std::vector<std::int32_t> labels = {1, 2, 3};
  expect_error_naming([&] { accuracy_counts(logits, std::vector<std::int32_t>{1, 12, 3}, 5); }, "accuracy_counts",
                      "label 12 of row 1");
  expect_error_naming([&] { accuracy_counts(logits, std::vector<std::int32_t>{1, 2}, 5); }, "accuracy_counts",
                      "one label per row");
  expect_error_naming([&] { accuracy_counts(logits, labels, 0); }, "accuracy_counts", "k must be >= 1");
  expect_error_naming([&] { accuracy_counts(Tensor(), labels, 5); }, "accuracy_counts", "undefined");
}

}  // namespace
}  // namespace ofa
