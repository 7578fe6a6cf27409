#pragma once

#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "kernels/tensor.h"

namespace ofa {

namespace on_cuda {
struct SgdDeviceParameters;
}

// SGD hyper-parameters, OFA's defaults. lr has no sensible default (the schedule sets it
// every step), so it starts as NaN and sgd_step rejects the config until it is set.
struct SgdConfig {
  float lr = std::numeric_limits<float>::quiet_NaN();
  float momentum = 0.9f;
  float weight_decay = 3e-5f;
  bool nesterov = true;
};

// One parameter: the max-size weight, its gradient and its momentum buffer (all the same
// shape, contiguous; Tensor handles share storage, so the update lands in the caller's
// tensors). momentum_buffer must start at zero, which reproduces PyTorch's first step
// (buf = d). weight_decay is false where OFA excludes it (batch norm and biases).
struct SgdParameter {
  Tensor param;
  Tensor grad;
  Tensor momentum_buffer;
  bool weight_decay = true;
};

// PyTorch's torch.optim.SGD step (dampening 0) over every parameter in one call, one fused
// pass per element:
//   d = g + (decay ? weight_decay * p : 0);  buf = momentum * buf + d;
//   d = nesterov ? d + momentum * buf : buf;  p -= lr * d.
// The update covers whole max-size tensors: slices no sampled subnet used have zero
// gradient, yet their momentum still decays and keeps moving them (and decay still shrinks
// them), exactly as PyTorch's optimizer does over OFA's full-size parameters.
// Every parameter is validated before any is updated, so a rejected call changes nothing.
// Requires lr >= 0, momentum in [0, 1), weight_decay >= 0.
void sgd_step(std::span<SgdParameter> parameters, const SgdConfig& config);

// sgd_step for a fixed list of parameters stepped many times (a training run): the list is
// validated once and, on cuda, its descriptors go to the device once, here, where sgd_step
// uploads them on every call. A step is then one launch and no copy from the host. The tensors
// must stay the same (in-place updates of their values are fine).
class Sgd {
 public:
  explicit Sgd(std::vector<SgdParameter> parameters);
  ~Sgd();
  Sgd(const Sgd&) = delete;
  Sgd& operator=(const Sgd&) = delete;

  void step(const SgdConfig& config);

 private:
  std::vector<SgdParameter> parameters_;
  std::unique_ptr<on_cuda::SgdDeviceParameters> device_parameters_;  // null on the cpu
};

}  // namespace ofa
