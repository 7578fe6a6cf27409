#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "distill/recipe.h"
#include "kernels/tensor.h"
#include "supernet/parameter.h"

// The pieces of one training step that `ofa train` (a supernet) and `ofa finetune` (one extracted
// subnet) share, so both optimise exactly the same objective with the same optimiser.
namespace ofa {

// How one forward's logits are scored: cross-entropy with label smoothing, plus kd_ratio times
// the distillation loss against soft targets when there are any.
struct StudentLoss {
  float label_smoothing = 0.0f;
  float kd_ratio = 0.0f;
  float kd_temperature = 1.0f;
};

// The loss of `logits` [N, K] against `labels` and, when soft_targets is not null, the
// teacher's logits; dlogits (overwritten, logits' shape) receives its gradient.
double student_loss(const Tensor& logits, std::span<const std::int32_t> labels, const Tensor* soft_targets,
                    const StudentLoss& loss, Tensor& dlogits);

// Steps in one of the recipe's epochs over a loader with `batches_per_epoch` batches: all of
// them, or train_images_per_epoch / batch_size when the recipe sets a shorter epoch.
std::int64_t steps_per_epoch(const Recipe& recipe, std::int64_t batches_per_epoch);

// Zero momentum buffers, one per parameter of `list`, as sgd_update expects them.
std::vector<Tensor> zero_momentum(const ParameterList& list);

// One SGD step over every parameter of `list` with the recipe's momentum, Nesterov flag and
// weight decay (none where the parameter is marked so: batch norm and biases).
void sgd_update(const ParameterList& list, std::vector<Tensor>& momentum, const Recipe& recipe, double lr);

}  // namespace ofa
