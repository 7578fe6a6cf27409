#pragma once

#include <cstdint>
#include <span>

#include "kernels/tensor.h"

namespace ofa {

// Softmax cross-entropy with label smoothing. logits: [N, K] with contiguous rows (a prefix
// view of a wider buffer is fine); labels: one class per row, in [0, K). The smoothed target
// is (1 - label_smoothing) * onehot(label) + label_smoothing / K (OFA's convention: the
// smoothing mass is spread over all K classes, the label's included), and
//   loss = mean_n ( logsumexp(z_n) - sum_k target_nk * z_nk ),
// evaluated with the row maximum subtracted so large logits neither overflow nor lose
// precision. label_smoothing must be in [0, 1]; 0 gives plain cross-entropy.
float cross_entropy_forward(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing);

// dlogits [N, K] (overwritten) = grad_scale * (softmax(z) - target) / N, the gradient of
// grad_scale * loss (grad_scale carries e.g. the loss weight of a distillation mix).
void cross_entropy_backward(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing,
                            float grad_scale, Tensor& dlogits);

// Shared with the distillation loss and accuracy.

// A row's softmax normaliser at temperature 1 / inv_temperature, kept as the row maximum and
// log(sum_k exp((z_k - max) * inv_temperature)), so that
//   log_softmax(z / T)_k = (z_k - max) * inv_temperature - log_sum.
struct SoftmaxNorm {
  float max;
  float log_sum;
};
SoftmaxNorm softmax_norm(const float* row, std::int64_t classes, float inv_temperature);

// probabilities[k] = softmax(row / T)_k with T = 1 / inv_temperature, one exp per class.
void softmax_row(const float* row, std::int64_t classes, float inv_temperature, float* probabilities);

// Throws ofa::Error naming `op`, the row and the label unless there is one label per row
// and every label is in [0, classes).
void check_class_labels(const char* op, std::span<const std::int32_t> labels, std::int64_t rows,
                        std::int64_t classes);

// Throws ofa::Error naming `op` unless cross_entropy_forward accepts these arguments (shared
// with MetricSums, which calls the loss's CUDA half itself).
void check_cross_entropy(const char* op, const Tensor& logits, std::span<const std::int32_t> labels,
                         float label_smoothing);

}  // namespace ofa
