#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops/batch_norm.h"
#include "kernels/ops/squeeze_excite.h"
#include "supernet/gradient_hook.h"
#include "supernet/network_plan.h"
#include "supernet/parameter.h"
#include "supernet/scratch.h"

namespace ofa {

// The max-size weights of one elastic MBConv block (OFA's DynamicMBConvLayer). Layouts as in
// kernels/README.md; `expand` is undefined when the plan has no expand conv.
struct MBConvWeights {
  Tensor expand;                   // [max_mid, in]
  BatchNormParams expand_bn;       // [max_mid]
  Tensor depthwise;                // [K_max, K_max, max_mid]
  std::vector<Tensor> transforms;  // one [t*t, t*t] per step of the plan's kernel sizes
  BatchNormParams depthwise_bn;    // [max_mid]
  SqueezeExciteWeights se;         // reduce [max_se, max_mid], expand [max_mid, max_se]; undefined without SE
  Tensor project;                  // [out, max_mid]
  BatchNormParams project_bn;      // [out]
};

// Inverted residual block: 1x1 expand + BN + act, depthwise k x k + BN + act, SE, 1x1 project + BN,
// plus the input when the shapes allow. Runs any ActiveBlock of its plan on views of the shared
// weights and keeps, between forward and backward, exactly what the backward reads.
class MBConvBlock {
 public:
  // Weights, gradients and activations live on `device`.
  MBConvBlock(BlockPlan plan, std::uint64_t seed, std::uint64_t stream, Device device = Device::cpu);

  const BlockPlan& plan() const { return plan_; }
  Device device() const { return device_; }
  MBConvWeights& weights() { return weights_; }
  const MBConvWeights& weights() const { return weights_; }

  // Registers parameters (with gradients) and BN buffers under `prefix`.
  void register_parameters(const std::string& prefix, ParameterList& list);
  // The gradient prefixes a backward under `active` can write, one per registered parameter it
  // touches (kernel transforms only for the steps down to active.kernel), in registration order.
  std::vector<GradientExtent> gradient_extents(const ActiveBlock& active) const;

  // x: contiguous [N, H, W, in]. Training uses batch statistics and updates the running ones.
  const Tensor& forward(const Tensor& x, const ActiveBlock& active, bool training, const BatchNormConfig& bn_config);
  // dy: [N, Ho, Wo, out] of the last training forward; returns dx and accumulates gradients,
  // then tells `hook` (when given) which gradients it finished.
  const Tensor& backward(const Tensor& dy, GradientHook* hook = nullptr);
  // The output of the last forward.
  const Tensor& forward_output() const { return output_.get(); }

 private:
  BlockPlan plan_;
  Device device_;
  std::size_t first_parameter_ = 0;  // index of this block's first parameter in its ParameterList
  MBConvWeights weights_;
  MBConvWeights grads_;  // the same tensors as the registered parameters' gradients

  ActiveBlock active_;
  Tensor input_;
  Scratch expanded_, expanded_act_, depthwise_, depthwise_act_, excited_, projected_, output_;
  Scratch grad_mid_a_, grad_mid_b_, grad_out_, grad_in_;
  BatchNormSaved expand_saved_, depthwise_saved_, project_saved_;
  SqueezeExciteSaved se_saved_;
};

}  // namespace ofa
