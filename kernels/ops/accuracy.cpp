#include "kernels/ops/accuracy.h"

#include <algorithm>
#include <cmath>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"
#include "kernels/ops/cross_entropy.h"

namespace ofa {
namespace {

// How many classes score strictly higher than the label; K (never correct) for a NaN label logit.
std::int64_t label_rank(const float* row, std::int64_t classes, std::int32_t label) {
  const float target = row[label];
  if (std::isnan(target)) return classes;
  std::int64_t higher = 0;
  for (std::int64_t c = 0; c < classes; ++c) higher += row[c] > target ? 1 : 0;
  return higher;
}

}  // namespace

void check_accuracy(const char* op, const Tensor& logits, std::span<const std::int32_t> labels, std::int64_t k) {
  checks::row_major_matrix(op, "logits", logits);
  check_class_labels(op, labels, logits.dim(0), logits.dim(1));
  OFA_CHECK(k >= 1, op, "k must be >= 1, got ", k);
}

AccuracyCounts accuracy_counts(const Tensor& logits, std::span<const std::int32_t> labels, std::int64_t k) {
  const char* op = "accuracy_counts";
  const Device device = checks::common_device(op, {{"logits", &logits}});
  check_accuracy(op, logits, labels, k);
  if (device == Device::cuda) return on_cuda::accuracy_counts(logits, labels, k);
  const std::int64_t rows = logits.dim(0), classes = logits.dim(1), ld = logits.stride(0);
  const std::int64_t top = std::min(k, classes);
  const float* z = logits.f32();

  std::int64_t top1 = 0, topk = 0;
#pragma omp parallel for schedule(static) reduction(+ : top1, topk)
  for (std::int64_t n = 0; n < rows; ++n) {
    const std::int64_t rank = label_rank(z + n * ld, classes, labels[static_cast<std::size_t>(n)]);
    top1 += rank < 1 ? 1 : 0;
    topk += rank < top ? 1 : 0;
  }
  return {top1, topk};
}

}  // namespace ofa
