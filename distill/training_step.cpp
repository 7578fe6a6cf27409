#include "distill/training_step.h"

#include <algorithm>

#include "kernels/error.h"
#include "kernels/ops/cross_entropy.h"
#include "kernels/ops/distillation.h"
#include "kernels/ops/residual_add.h"
#include "kernels/ops/sgd.h"

namespace ofa {

double student_loss(const Tensor& logits, std::span<const std::int32_t> labels, const Tensor* soft_targets,
                    const StudentLoss& loss, Tensor& dlogits) {
  double value = cross_entropy_forward(logits, labels, loss.label_smoothing);
  cross_entropy_backward(logits, labels, loss.label_smoothing, 1.0f, dlogits);
  if (soft_targets != nullptr && loss.kd_ratio > 0.0f) {
    value += static_cast<double>(loss.kd_ratio) * distillation_forward(logits, *soft_targets, loss.kd_temperature);
    Tensor dkd = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
    distillation_backward(logits, *soft_targets, loss.kd_temperature, loss.kd_ratio, dkd);
    residual_add_forward(dlogits, dkd, dlogits);
  }
  return value;
}

std::int64_t steps_per_epoch(const Recipe& recipe, std::int64_t batches_per_epoch) {
  if (recipe.train_images_per_epoch <= 0) return batches_per_epoch;
  return std::clamp<std::int64_t>(recipe.train_images_per_epoch / recipe.batch_size, 1, batches_per_epoch);
}

std::vector<Tensor> zero_momentum(const ParameterList& list) {
  std::vector<Tensor> momentum;
  for (const Parameter& p : list.parameters)
    momentum.push_back(Tensor::zeros(p.value.shape(), p.value.dtype(), p.value.device()));
  return momentum;
}

void sgd_update(const ParameterList& list, std::vector<Tensor>& momentum, const Recipe& recipe, double lr) {
  OFA_CHECK(momentum.size() == list.parameters.size(), "sgd_update", momentum.size(), " momentum buffers for ",
            list.parameters.size(), " parameters");
  std::vector<SgdParameter> parameters;
  for (std::size_t i = 0; i < list.parameters.size(); ++i)
    parameters.push_back(
        {list.parameters[i].value, list.parameters[i].grad, momentum[i], list.parameters[i].weight_decay});
  SgdConfig config;
  config.lr = static_cast<float>(lr);
  config.momentum = static_cast<float>(recipe.momentum);
  config.weight_decay = static_cast<float>(recipe.weight_decay);
  config.nesterov = recipe.nesterov;
  sgd_step(parameters, config);
}

}  // namespace ofa
