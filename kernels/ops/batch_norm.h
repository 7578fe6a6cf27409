#pragma once

#include <cstdint>

#include "kernels/ops/activation.h"
#include "kernels/tensor.h"

namespace ofa {

class Communicator;

// OFA's (and PyTorch's) BatchNorm2d defaults.
inline constexpr float kBatchNormMomentum = 0.1f;
inline constexpr float kBatchNormEps = 1e-5f;

// The max-size parameters and statistics of one elastic batch norm, each [C_max]; an op
// on c channels reads and updates only the prefix [:c].
struct BatchNormParams {
  Tensor gamma, beta, running_mean, running_var;
  // PyTorch's initial state: gamma 1, beta 0, running mean 0, running variance 1.
  static BatchNormParams initial(std::int64_t channels, Device device = Device::cpu);
};

// Max-size [C_max] gradients of gamma and beta; the active prefix ACCUMULATES.
struct BatchNormGrads {
  Tensor gamma, beta;
};

// What the training forward keeps for the backward, each contiguous [c]: the batch mean
// and 1 / sqrt(biased batch variance + eps). A synchronised forward also records its
// communicator and the rows of the whole job's batch, so that the backward syncs too.
struct BatchNormSaved {
  Tensor mean, invstd;
  Communicator* sync = nullptr;
  std::int64_t job_rows = 0;
  static BatchNormSaved for_channels(std::int64_t channels, Device device = Device::cpu);
};

struct BatchNormConfig {
  float momentum = kBatchNormMomentum;  // running = (1 - momentum) * running + momentum * batch
  float eps = kBatchNormEps;
  // Synchronised batch norm (CPU tensors): when set, the statistics are those of the rows of every
  // rank of the job together (each rank passes its shard of one batch), the running statistics
  // follow them identically on every rank, and the backward all-reduces its per-channel sums.
  // Parameter gradients stay this rank's share (the data-parallel all-reduce adds them up).
  Communicator* sync = nullptr;
};

// Batch norm fused with an activation, one op per pass over memory. x is contiguous with
// channels last and any rank (treated as [rows, c], c = x's last extent <= C_max); y is
// contiguous, x's shape, and may alias x (but the backward needs the original x).

// Normalises with the batch statistics over all rows (biased variance) and updates
// running_mean / running_var[:c] with the UNBIASED variance, as PyTorch does. Needs >= 2 rows.
void batch_norm_train_forward(const Tensor& x, BatchNormParams& params, Activation activation, Tensor& y,
                              BatchNormSaved& saved, const BatchNormConfig& config = {});

// Normalises with the running statistics; nothing is updated.
void batch_norm_eval_forward(const Tensor& x, const BatchNormParams& params, Activation activation, Tensor& y,
                             float eps = kBatchNormEps);

// Backward of batch_norm_train_forward(x, params, activation): the pre-activation is
// recomputed from x, saved, gamma and beta. dx (overwritten, may alias dy) may be null;
// grads.gamma / grads.beta[:c] accumulate.
void batch_norm_backward(const Tensor& x, const BatchNormParams& params, const BatchNormSaved& saved,
                         Activation activation, const Tensor& dy, Tensor* dx, BatchNormGrads& grads);

}  // namespace ofa
