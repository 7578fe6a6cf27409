#pragma once

#include <cstdint>
#include <span>

#include "kernels/tensor.h"

namespace ofa {

// Correct-prediction counts over a batch (divide by N for the accuracy).
struct AccuracyCounts {
  std::int64_t top1 = 0;
  std::int64_t topk = 0;
};

// Top-1 and top-k correct counts of logits [N, K] (contiguous rows) against labels in [0, K).
// Tie rule: a row is correct at k when FEWER THAN k classes have a logit strictly greater
// than the label's, so a label tied for first place counts as a top-1 hit (optimistic, and
// independent of class order, unlike a sort-based topk). A row whose label logit is NaN is
// never correct. k must be >= 1; k > K is clamped to K (every row is then a top-k hit), so
// that "top-5" stays well defined on datasets with fewer than 5 classes.
AccuracyCounts accuracy_counts(const Tensor& logits, std::span<const std::int32_t> labels, std::int64_t k = 5);

// Throws ofa::Error naming `op` unless accuracy_counts accepts these arguments (shared with
// MetricSums).
void check_accuracy(const char* op, const Tensor& logits, std::span<const std::int32_t> labels, std::int64_t k);

}  // namespace ofa
