#include "supernet/network.h"

#include <cmath>
#include <string>

#include "kernels/error.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/dense_conv.h"
#include "kernels/ops/dropout.h"
#include "kernels/ops/linear.h"
#include "kernels/ops/pointwise_conv.h"
#include "kernels/ops/pooling.h"
#include "supernet/initialization.h"

namespace ofa {
namespace {

// Streams for counter-based initialisation: the head uses 0..15, block b uses 16 * (b + 1) onwards.
constexpr std::uint64_t kStreamsPerLayer = 16;

float he_fout_stddev(std::int64_t kernel, std::int64_t out_channels) {
  return std::sqrt(2.0f / static_cast<float>(kernel * kernel * out_channels));
}

void register_tensor(const std::string& name, const Tensor& value, bool weight_decay, Tensor& grad,
                     ParameterList& list) {
  list.add(name, value, weight_decay);
  grad = list.parameters.back().grad;
}

void register_batch_norm(const std::string& prefix, BatchNormParams& params, BatchNormParams& grads,
                         ParameterList& list) {
  register_tensor(prefix + ".gamma", params.gamma, false, grads.gamma, list);
  register_tensor(prefix + ".beta", params.beta, false, grads.beta, list);
  list.add_buffer(prefix + ".running_mean", params.running_mean);
  list.add_buffer(prefix + ".running_var", params.running_var);
}

void batch_norm(const Tensor& x, BatchNormParams& params, Activation activation, bool training, Tensor& y,
                BatchNormSaved& saved, const BatchNormConfig& config) {
  if (training)
    batch_norm_train_forward(x, params, activation, y, saved, config);
  else
    batch_norm_eval_forward(x, params, activation, y, config.eps);
}

// The stem's and the head's layers are not elastic: their gradients are written whole.
std::vector<GradientExtent> whole(const ParameterList& list, std::size_t first, std::size_t count) {
  std::vector<GradientExtent> extents;
  for (std::size_t i = first; i < first + count; ++i) extents.push_back({i, list.parameters[i].grad.shape()});
  return extents;
}

constexpr std::size_t kStemParameters = 3;  // conv weight, BN gamma and beta
constexpr std::size_t kHeadParameters = 6;  // final expand weight, its BN gamma and beta, feature mix, classifier, bias

}  // namespace

Network::Network(NetworkPlan plan, std::uint64_t seed, Device device) : plan_(std::move(plan)), device_(device) {
  OFA_CHECK(!plan_.blocks.empty(), "Network", "a plan needs at least the first block");
  const auto empty = [device](const Shape& shape) { return Tensor::empty(shape, DType::f32, device); };
  const std::int64_t stem = plan_.stem_channels, k = plan_.stem_kernel;
  head_.stem = empty({stem, k, k, plan_.in_channels});
  init_normal(head_.stem, he_fout_stddev(k, stem), seed, 0);
  head_.stem_bn = BatchNormParams::initial(stem, device);
  const std::int64_t last = plan_.blocks.back().out_channels, final = plan_.final_expand_channels;
  head_.final_expand = empty({final, last});
  init_normal(head_.final_expand, he_fout_stddev(1, final), seed, 1);
  head_.final_expand_bn = BatchNormParams::initial(final, device);
  head_.feature_mix = empty({plan_.feature_mix_channels, final});
  init_normal(head_.feature_mix, he_fout_stddev(1, plan_.feature_mix_channels), seed, 2);
  head_.classifier = empty({plan_.num_classes, plan_.feature_mix_channels});
  init_uniform(head_.classifier, 1.0f / std::sqrt(static_cast<float>(plan_.feature_mix_channels)), seed, 3);
  head_.classifier_bias = Tensor::zeros({plan_.num_classes}, DType::f32, device);

  blocks_.reserve(plan_.blocks.size());
  for (std::size_t b = 0; b < plan_.blocks.size(); ++b)
    blocks_.emplace_back(plan_.blocks[b], seed, kStreamsPerLayer * (b + 1), device);

  register_tensor("stem.conv.weight", head_.stem, true, head_grads_.stem, parameters_);
  register_batch_norm("stem.bn", head_.stem_bn, head_grads_.stem_bn, parameters_);
  for (std::size_t b = 0; b < blocks_.size(); ++b)
    blocks_[b].register_parameters("blocks." + std::to_string(b), parameters_);
  head_first_parameter_ = parameters_.parameters.size();
  register_tensor("head.final_expand.weight", head_.final_expand, true, head_grads_.final_expand, parameters_);
  register_batch_norm("head.final_expand_bn", head_.final_expand_bn, head_grads_.final_expand_bn, parameters_);
  register_tensor("head.feature_mix.weight", head_.feature_mix, true, head_grads_.feature_mix, parameters_);
  register_tensor("head.classifier.weight", head_.classifier, true, head_grads_.classifier, parameters_);
  register_tensor("head.classifier.bias", head_.classifier_bias, false, head_grads_.classifier_bias, parameters_);

  set_active(full_size(plan_, 0));
}

void Network::set_active(ActiveNetwork active) {
  OFA_CHECK(active.blocks.size() == blocks_.size() && active.depth.size() == plan_.stage_first_block.size(),
            "Network::set_active", "the configuration has ", active.blocks.size(), " blocks and ",
            active.depth.size(), " stage depths; the network has ", blocks_.size(), " and ",
            plan_.stage_first_block.size());
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const BlockPlan& plan = plan_.blocks[b];
    const ActiveBlock& a = active.blocks[b];
    bool kernel_known = false;
    for (std::int64_t k : plan.kernel_sizes) kernel_known = kernel_known || k == a.kernel;
    OFA_CHECK(kernel_known && a.mid_channels >= 1 && a.mid_channels <= plan.max_mid_channels &&
                  a.se_channels <= plan.max_se_channels && (!plan.squeeze_excite || a.se_channels >= 1) &&
                  (plan.has_expand || a.mid_channels == plan.max_mid_channels),
              "Network::set_active", "block ", b, ": kernel ", a.kernel, ", mid ", a.mid_channels, ", se ",
              a.se_channels, " do not fit its max-size weights (max kernel ", plan.max_kernel(), ", mid ",
              plan.max_mid_channels, ", se ", plan.max_se_channels, ")");
  }
  for (std::size_t s = 0; s < active.depth.size(); ++s)
    OFA_CHECK(active.depth[s] >= 1 && active.depth[s] <= plan_.stage_max_depth[s], "Network::set_active",
              "stage ", s, " depth ", active.depth[s], " is outside 1..", plan_.stage_max_depth[s]);
  active_ = std::move(active);
}

const Tensor& Network::forward(const Tensor& images, bool training, std::uint64_t dropout_seed,
                               std::uint64_t dropout_stream) {
  OFA_CHECK(images.rank() == 4 && images.dim(3) == plan_.in_channels && images.is_contiguous() &&
                images.device() == device_,
            "Network::forward", "expected contiguous NHWC images [N, H, W, ", plan_.in_channels, "] on ",
            device_name(device_), ", got ", images.describe());
  images_ = images;
  const std::int64_t n = images.dim(0);
  const std::int64_t h = (images.dim(1) - 1) / plan_.stem_stride + 1, w = (images.dim(2) - 1) / plan_.stem_stride + 1;
  Tensor& stem_pre = stem_pre_.shaped({n, h, w, plan_.stem_channels}, device_);
  dense_conv_forward(images, head_.stem, plan_.stem_channels, plan_.stem_stride, stem_pre);
  if (training) stem_saved_ = BatchNormSaved::for_channels(plan_.stem_channels, device_);
  Tensor& stem_out = stem_out_.shaped(stem_pre.shape(), device_);
  batch_norm(stem_pre, head_.stem_bn, plan_.stem_activation, training, stem_out, stem_saved_, bn_config_);

  ran_.clear();
  const Tensor* x = &stem_out;
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    if (!block_runs(plan_, active_, b)) continue;
    ran_.push_back(b);
    x = &blocks_[b].forward(*x, active_.blocks[b], training, bn_config_);
  }

  const Shape block_out = x->shape();
  Tensor& final_pre = final_pre_.shaped({n, block_out[1], block_out[2], plan_.final_expand_channels}, device_);
  pointwise_conv_forward(*x, head_.final_expand, plan_.final_expand_channels, final_pre);
  if (training) final_saved_ = BatchNormSaved::for_channels(plan_.final_expand_channels, device_);
  Tensor& final_out = final_out_.shaped(final_pre.shape(), device_);
  batch_norm(final_pre, head_.final_expand_bn, plan_.head_activation, training, final_out, final_saved_, bn_config_);
  Tensor& pooled = pooled_.shaped({n, plan_.final_expand_channels}, device_);
  global_avg_pool_forward(final_out, pooled);
  Tensor& mix_pre = mix_pre_.shaped({n, plan_.feature_mix_channels}, device_);
  linear_forward(pooled, head_.feature_mix, nullptr, plan_.feature_mix_channels, mix_pre);
  Tensor& mix_out = mix_out_.shaped(mix_pre.shape(), device_);
  activation_forward(plan_.head_activation, mix_pre, mix_out);
  const Tensor* classifier_in = &mix_out;
  dropout_p_ = training ? plan_.dropout : 0.0f;
  if (dropout_p_ > 0.0f) {
    dropout_seed_ = dropout_seed;
    dropout_stream_ = dropout_stream;
    dropout_forward(mix_out, dropout_p_, dropout_seed_, dropout_stream_, dropped_.shaped(mix_out.shape(), device_));
    classifier_in = &dropped_.get();
  }
  Tensor& logits = logits_.shaped({n, plan_.num_classes}, device_);
  linear_forward(*classifier_in, head_.classifier, &head_.classifier_bias, plan_.num_classes, logits);
  return logits;
}

std::vector<GradientExtent> Network::gradient_extents() const {
  std::vector<GradientExtent> extents = whole(parameters_, head_first_parameter_, kHeadParameters);
  std::vector<std::size_t> ran;
  for (std::size_t b = 0; b < blocks_.size(); ++b)
    if (block_runs(plan_, active_, b)) ran.push_back(b);
  for (std::size_t i = ran.size(); i-- > 0;) {
    const std::vector<GradientExtent> block = blocks_[ran[i]].gradient_extents(active_.blocks[ran[i]]);
    extents.insert(extents.end(), block.begin(), block.end());
  }
  const std::vector<GradientExtent> stem = whole(parameters_, 0, kStemParameters);
  extents.insert(extents.end(), stem.begin(), stem.end());
  return extents;
}

void Network::backward(const Tensor& dlogits, GradientHook* hook) {
  OFA_CHECK(dlogits.shape() == logits_.get().shape(), "Network::backward", "expected dlogits ",
            logits_.get().shape().str(), ", got ", dlogits.describe());
  const Tensor& classifier_in = dropout_p_ > 0.0f ? dropped_.get() : mix_out_.get();
  Tensor& d_mix = grad_mix_.shaped(mix_out_.get().shape(), device_);
  linear_backward(classifier_in, head_.classifier, dlogits, &d_mix, head_grads_.classifier,
                  &head_grads_.classifier_bias);
  if (dropout_p_ > 0.0f) dropout_backward(d_mix, dropout_p_, dropout_seed_, dropout_stream_, d_mix);
  activation_backward(plan_.head_activation, mix_pre_.get(), d_mix, d_mix);
  Tensor& d_pooled = grad_pooled_.shaped(pooled_.get().shape(), device_);
  linear_backward(pooled_.get(), head_.feature_mix, d_mix, &d_pooled, head_grads_.feature_mix, nullptr);
  Tensor& d_final = grad_final_out_.shaped(final_out_.get().shape(), device_);
  global_avg_pool_backward(d_pooled, d_final);
  BatchNormGrads final_bn_grads{head_grads_.final_expand_bn.gamma, head_grads_.final_expand_bn.beta};
  batch_norm_backward(final_pre_.get(), head_.final_expand_bn, final_saved_, plan_.head_activation, d_final, &d_final,
                      final_bn_grads);
  const Tensor& last_out = ran_.empty() ? stem_out_.get() : blocks_[ran_.back()].forward_output();
  Tensor& d_last = grad_final_pre_.shaped(last_out.shape(), device_);
  pointwise_conv_backward(last_out, head_.final_expand, d_final, &d_last, head_grads_.final_expand);
  if (hook != nullptr) hook->layer_finished(whole(parameters_, head_first_parameter_, kHeadParameters));

  const Tensor* dy = &d_last;
  for (std::size_t i = ran_.size(); i-- > 0;) dy = &blocks_[ran_[i]].backward(*dy, hook);

  Tensor& d_stem = grad_stem_.shaped(stem_out_.get().shape(), device_);
  BatchNormGrads stem_bn_grads{head_grads_.stem_bn.gamma, head_grads_.stem_bn.beta};
  batch_norm_backward(stem_pre_.get(), head_.stem_bn, stem_saved_, plan_.stem_activation, *dy, &d_stem,
                      stem_bn_grads);
  dense_conv_backward(images_, head_.stem, plan_.stem_stride, d_stem, nullptr, head_grads_.stem);
  if (hook != nullptr) hook->layer_finished(whole(parameters_, 0, kStemParameters));
}

void Network::zero_grad() {
  for (Parameter& p : parameters_.parameters) p.grad.fill(0.0f);
}

}  // namespace ofa
