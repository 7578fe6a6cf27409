#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/ops/batch_norm.h"
#include "supernet/gradient_hook.h"
#include "supernet/mbconv_block.h"
#include "supernet/network_plan.h"
#include "supernet/parameter.h"
#include "supernet/scratch.h"

// An OFA-MobileNetV3-style network over a NetworkPlan: stem conv, MBConv blocks, head (final
// expand conv, global average pool, feature mix, dropout, classifier). Forward and backward run
// the active configuration on views of the max-size weights; gradients accumulate into the
// registered parameters until zero_grad().
namespace ofa {

struct HeadWeights {
  Tensor stem;                   // [stem, K, K, in]
  BatchNormParams stem_bn;       // [stem]
  Tensor final_expand;           // [final, last block out]
  BatchNormParams final_expand_bn;
  Tensor feature_mix;            // [mix, final]
  Tensor classifier;             // [classes, mix]
  Tensor classifier_bias;        // [classes]
};

class Network {
 public:
  // Parameters, gradients, BN statistics and activations live on `device`; so must the images.
  Network(NetworkPlan plan, std::uint64_t seed, Device device = Device::cpu);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const NetworkPlan& plan() const { return plan_; }
  Device device() const { return device_; }
  void set_active(ActiveNetwork active);
  const ActiveNetwork& active() const { return active_; }

  // images: contiguous NHWC [N, H, W, in_channels]; returns logits [N, classes].
  // Training mode uses batch statistics (and updates the running ones) and dropout drawn from
  // (dropout_seed, dropout_stream); eval mode uses running statistics and no dropout.
  const Tensor& forward(const Tensor& images, bool training, std::uint64_t dropout_seed = 0,
                        std::uint64_t dropout_stream = 0);
  // dlogits: [N, classes] of the last training forward. Accumulates gradients. The input
  // gradient is not needed by training and is not computed. `hook` (when given) hears of each
  // layer's gradients as soon as they are final: the head's, each block's, the stem's.
  void backward(const Tensor& dlogits, GradientHook* hook = nullptr);
  // Every gradient prefix a backward under the active configuration can write, in the order
  // backward reports them (what a data-parallel step must all-reduce for it).
  std::vector<GradientExtent> gradient_extents() const;

  // Momentum of the running-statistics update in training forwards (BN recalibration sets
  // 1 / (k + 1) for its k-th batch to average exactly).
  void set_batch_norm_config(const BatchNormConfig& config) { bn_config_ = config; }
  const BatchNormConfig& batch_norm_config() const { return bn_config_; }

  ParameterList& parameters() { return parameters_; }
  const ParameterList& parameters() const { return parameters_; }
  void zero_grad();

  std::vector<MBConvBlock>& blocks() { return blocks_; }
  const std::vector<MBConvBlock>& blocks() const { return blocks_; }
  HeadWeights& head() { return head_; }
  const HeadWeights& head() const { return head_; }

 private:
  NetworkPlan plan_;
  Device device_;
  ActiveNetwork active_;
  HeadWeights head_;
  HeadWeights head_grads_;
  std::vector<MBConvBlock> blocks_;
  ParameterList parameters_;
  std::size_t head_first_parameter_ = 0;  // index of head.final_expand.weight; the head's follow it
  BatchNormConfig bn_config_;

  // Saved between forward and backward.
  Tensor images_;
  std::vector<std::size_t> ran_;  // indices of the blocks the last forward ran, in order
  Scratch stem_pre_, stem_out_, final_pre_, final_out_, pooled_, mix_pre_, mix_out_, dropped_, logits_;
  BatchNormSaved stem_saved_, final_saved_;
  float dropout_p_ = 0.0f;
  std::uint64_t dropout_seed_ = 0, dropout_stream_ = 0;
  Scratch grad_logits_in_, grad_mix_, grad_pooled_, grad_final_out_, grad_final_pre_, grad_stem_;
};

}  // namespace ofa
