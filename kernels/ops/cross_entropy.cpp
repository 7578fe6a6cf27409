#include "kernels/ops/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"

namespace ofa {
namespace {

float row_max(const float* row, std::int64_t classes) {
  float max = row[0];
  for (std::int64_t k = 1; k < classes; ++k) max = std::max(max, row[k]);
  return max;
}

// logsumexp(z) - sum_k target_k z_k, written with every logit shifted by the row maximum
// (the target sums to one, so the shift cancels) to keep the differences exact.
double smoothed_row_loss(const float* z, std::int64_t classes, std::int32_t label, float label_smoothing) {
  const SoftmaxNorm norm = softmax_norm(z, classes, 1.0f);
  double shifted_sum = 0.0;
  for (std::int64_t k = 0; k < classes; ++k) shifted_sum += static_cast<double>(z[k] - norm.max);
  const double on_label = static_cast<double>(z[label] - norm.max);
  return static_cast<double>(norm.log_sum) - (1.0 - static_cast<double>(label_smoothing)) * on_label -
         static_cast<double>(label_smoothing) / static_cast<double>(classes) * shifted_sum;
}

}  // namespace

SoftmaxNorm softmax_norm(const float* row, std::int64_t classes, float inv_temperature) {
  const float max = row_max(row, classes);
  double sum = 0.0;
  for (std::int64_t k = 0; k < classes; ++k) sum += static_cast<double>(std::exp((row[k] - max) * inv_temperature));
  return {max, static_cast<float>(std::log(sum))};
}

void softmax_row(const float* row, std::int64_t classes, float inv_temperature, float* probabilities) {
  const float max = row_max(row, classes);
  double sum = 0.0;
  for (std::int64_t k = 0; k < classes; ++k) {
    probabilities[k] = std::exp((row[k] - max) * inv_temperature);
    sum += static_cast<double>(probabilities[k]);
  }
  const float inv_sum = static_cast<float>(1.0 / sum);
  for (std::int64_t k = 0; k < classes; ++k) probabilities[k] *= inv_sum;
}

void check_class_labels(const char* op, std::span<const std::int32_t> labels, std::int64_t rows,
                        std::int64_t classes) {
  OFA_CHECK(static_cast<std::int64_t>(labels.size()) == rows, op, "expected one label per row (", rows, "), got ",
            labels.size());
  for (std::size_t row = 0; row < labels.size(); ++row)
    OFA_CHECK(labels[row] >= 0 && labels[row] < classes, op, "label ", labels[row], " of row ", row,
              " is outside [0, ", classes, ")");
}

void check_cross_entropy(const char* op, const Tensor& logits, std::span<const std::int32_t> labels,
                         float label_smoothing) {
  checks::row_major_matrix(op, "logits", logits);
  OFA_CHECK(logits.dim(0) >= 1 && logits.dim(1) >= 1, op, "logits must have at least one row and one class, got ",
            logits.describe());
  check_class_labels(op, labels, logits.dim(0), logits.dim(1));
  OFA_CHECK(label_smoothing >= 0.0f && label_smoothing <= 1.0f, op, "label_smoothing must be in [0, 1], got ",
            label_smoothing);
}

float cross_entropy_forward(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing) {
  const Device device = checks::common_device("cross_entropy_forward", {{"logits", &logits}});
  check_cross_entropy("cross_entropy_forward", logits, labels, label_smoothing);
  if (device == Device::cuda) return on_cuda::cross_entropy_forward(logits, labels, label_smoothing);
  const std::int64_t rows = logits.dim(0), classes = logits.dim(1), ld = logits.stride(0);
  const float* z = logits.f32();
  // Per-row losses summed serially afterwards: the result does not depend on the thread count.
  std::vector<double> row_loss(static_cast<std::size_t>(rows));
#pragma omp parallel for schedule(static)
  for (std::int64_t n = 0; n < rows; ++n)
    row_loss[static_cast<std::size_t>(n)] =
        smoothed_row_loss(z + n * ld, classes, labels[static_cast<std::size_t>(n)], label_smoothing);
  return static_cast<float>(std::accumulate(row_loss.begin(), row_loss.end(), 0.0) / static_cast<double>(rows));
}

void cross_entropy_backward(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing,
                            float grad_scale, Tensor& dlogits) {
  const char* op = "cross_entropy_backward";
  const Device device = checks::common_device(op, {{"logits", &logits}, {"dlogits", &dlogits}});
  check_cross_entropy(op, logits, labels, label_smoothing);
  checks::row_major_matrix(op, "dlogits", dlogits);
  checks::shape(op, "dlogits", dlogits, logits.shape());
  if (device == Device::cuda)
    return on_cuda::cross_entropy_backward(logits, labels, label_smoothing, grad_scale, dlogits);
  const std::int64_t rows = logits.dim(0), classes = logits.dim(1);
  const std::int64_t ld = logits.stride(0), ld_grad = dlogits.stride(0);
  const float scale = grad_scale / static_cast<float>(rows);
  const float spread = label_smoothing / static_cast<float>(classes);
  const float* z = logits.f32();
  float* grad = dlogits.f32();

#pragma omp parallel for schedule(static)
  for (std::int64_t n = 0; n < rows; ++n) {
    const float* row = z + n * ld;
    float* out = grad + n * ld_grad;
    softmax_row(row, classes, 1.0f, out);
    for (std::int64_t k = 0; k < classes; ++k) out[k] = scale * (out[k] - spread);
    out[labels[static_cast<std::size_t>(n)]] -= scale * (1.0f - label_smoothing);
  }
}

}  // namespace ofa
