#include "supernet/mbconv_block.h"

#include <cmath>

#include "kernels/error.h"
#include "kernels/ops/depthwise_conv.h"
#include "kernels/ops/pointwise_conv.h"
#include "kernels/ops/residual_add.h"
#include "supernet/initialization.h"

namespace ofa {
namespace {

// he_fout: fan-out = k * k * out_channels (a depthwise conv's groups do not enter, as in OFA).
float he_fout_stddev(std::int64_t kernel, std::int64_t out_channels) {
  return std::sqrt(2.0f / static_cast<float>(kernel * kernel * out_channels));
}

// BN gradients live in BatchNormParams slots gamma/beta only.
void register_batch_norm(const std::string& prefix, BatchNormParams& params, BatchNormParams& grads,
                         ParameterList& list) {
  list.add(prefix + ".gamma", params.gamma, false);
  grads.gamma = list.parameters.back().grad;
  list.add(prefix + ".beta", params.beta, false);
  grads.beta = list.parameters.back().grad;
  list.add_buffer(prefix + ".running_mean", params.running_mean);
  list.add_buffer(prefix + ".running_var", params.running_var);
}

void register_tensor(const std::string& name, const Tensor& value, bool weight_decay, Tensor& grad,
                     ParameterList& list) {
  list.add(name, value, weight_decay);
  grad = list.parameters.back().grad;
}

void batch_norm(const Tensor& x, BatchNormParams& params, Activation activation, bool training, Tensor& y,
                BatchNormSaved& saved, const BatchNormConfig& config) {
  if (training)
    batch_norm_train_forward(x, params, activation, y, saved, config);
  else
    batch_norm_eval_forward(x, params, activation, y, config.eps);
}

BatchNormGrads bn_grads(BatchNormParams& grads) { return {grads.gamma, grads.beta}; }

}  // namespace

MBConvBlock::MBConvBlock(BlockPlan plan, std::uint64_t seed, std::uint64_t stream, Device device)
    : plan_(std::move(plan)), device_(device) {
  const std::int64_t mid = plan_.max_mid_channels, k = plan_.max_kernel();
  const auto empty = [device](const Shape& shape) { return Tensor::empty(shape, DType::f32, device); };
  if (plan_.has_expand) {
    weights_.expand = empty({mid, plan_.in_channels});
    init_normal(weights_.expand, he_fout_stddev(1, mid), seed, stream + 0);
    weights_.expand_bn = BatchNormParams::initial(mid, device);
  }
  weights_.depthwise = empty({k, k, mid});
  init_normal(weights_.depthwise, he_fout_stddev(k, mid), seed, stream + 1);
  for (std::size_t step = 0; step + 1 < plan_.kernel_sizes.size(); ++step) {
    const std::int64_t taps = plan_.kernel_sizes[step + 1] * plan_.kernel_sizes[step + 1];
    Tensor transform = empty({taps, taps});
    init_identity(transform);
    weights_.transforms.push_back(transform);
  }
  weights_.depthwise_bn = BatchNormParams::initial(mid, device);
  if (plan_.squeeze_excite) {
    const std::int64_t se = plan_.max_se_channels;
    weights_.se = {empty({se, mid}), Tensor::zeros({se}, DType::f32, device), empty({mid, se}),
                   Tensor::zeros({mid}, DType::f32, device)};
    init_normal(weights_.se.reduce_weight, he_fout_stddev(1, se), seed, stream + 2);
    init_normal(weights_.se.expand_weight, he_fout_stddev(1, mid), seed, stream + 3);
  }
  weights_.project = empty({plan_.out_channels, mid});
  init_normal(weights_.project, he_fout_stddev(1, plan_.out_channels), seed, stream + 4);
  weights_.project_bn = BatchNormParams::initial(plan_.out_channels, device);
}

void MBConvBlock::register_parameters(const std::string& prefix, ParameterList& list) {
  first_parameter_ = list.parameters.size();
  if (plan_.has_expand) {
    register_tensor(prefix + ".expand.weight", weights_.expand, true, grads_.expand, list);
    register_batch_norm(prefix + ".expand_bn", weights_.expand_bn, grads_.expand_bn, list);
  }
  register_tensor(prefix + ".depthwise.weight", weights_.depthwise, true, grads_.depthwise, list);
  grads_.transforms.resize(weights_.transforms.size());
  for (std::size_t step = 0; step < weights_.transforms.size(); ++step)
    register_tensor(prefix + ".depthwise.transform_" + std::to_string(plan_.kernel_sizes[step]) + "to" +
                        std::to_string(plan_.kernel_sizes[step + 1]),
                    weights_.transforms[step], true, grads_.transforms[step], list);
  register_batch_norm(prefix + ".depthwise_bn", weights_.depthwise_bn, grads_.depthwise_bn, list);
  if (plan_.squeeze_excite) {
    register_tensor(prefix + ".se.reduce.weight", weights_.se.reduce_weight, true, grads_.se.reduce_weight, list);
    register_tensor(prefix + ".se.reduce.bias", weights_.se.reduce_bias, false, grads_.se.reduce_bias, list);
    register_tensor(prefix + ".se.expand.weight", weights_.se.expand_weight, true, grads_.se.expand_weight, list);
    register_tensor(prefix + ".se.expand.bias", weights_.se.expand_bias, false, grads_.se.expand_bias, list);
  }
  register_tensor(prefix + ".project.weight", weights_.project, true, grads_.project, list);
  register_batch_norm(prefix + ".project_bn", weights_.project_bn, grads_.project_bn, list);
}

std::vector<GradientExtent> MBConvBlock::gradient_extents(const ActiveBlock& active) const {
  // Mirrors register_parameters' order; tests/supernet/test_gradient_extents.cpp checks that every
  // non-zero gradient entry of a backward lies inside these prefixes.
  std::vector<GradientExtent> extents;
  std::size_t index = first_parameter_;
  const auto add = [&](const Shape& extent) { extents.push_back({index++, extent}); };
  const std::int64_t mid = active.mid_channels, k = plan_.max_kernel();
  if (plan_.has_expand) {
    add({mid, plan_.in_channels});
    add({mid});
    add({mid});
  }
  add({k, k, mid});  // the whole window: smaller kernels reach the centre through the transforms
  for (std::size_t step = 0; step < weights_.transforms.size(); ++step) {
    if (plan_.kernel_sizes[step + 1] >= active.kernel) {
      add(weights_.transforms[step].shape());
    } else {
      ++index;  // a step this kernel size does not take: its gradient stays untouched
    }
  }
  add({mid});
  add({mid});
  if (plan_.squeeze_excite) {
    add({active.se_channels, mid});
    add({active.se_channels});
    add({mid, active.se_channels});
    add({mid});
  }
  add({plan_.out_channels, mid});
  add({plan_.out_channels});
  add({plan_.out_channels});
  return extents;
}

const Tensor& MBConvBlock::forward(const Tensor& x, const ActiveBlock& active, bool training,
                                   const BatchNormConfig& bn_config) {
  OFA_CHECK(x.rank() == 4 && x.dim(3) == plan_.in_channels && x.device() == device_, "MBConvBlock::forward",
            "expected input [N, H, W, ", plan_.in_channels, "] on ", device_name(device_), ", got ", x.describe());
  active_ = active;
  input_ = x;
  const std::int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), mid = active.mid_channels;
  const std::int64_t ho = (h - 1) / plan_.stride + 1, wo = (w - 1) / plan_.stride + 1;
  const Activation act = plan_.activation;

  const Tensor* depthwise_in = &x;
  if (plan_.has_expand) {
    Tensor& expanded = expanded_.shaped({n, h, w, mid}, device_);
    pointwise_conv_forward(x, weights_.expand, mid, expanded);
    if (training) expand_saved_ = BatchNormSaved::for_channels(mid, device_);
    batch_norm(expanded, weights_.expand_bn, act, training, expanded_act_.shaped({n, h, w, mid}, device_),
               expand_saved_, bn_config);
    depthwise_in = &expanded_act_.get();
  }
  Tensor& depthwise = depthwise_.shaped({n, ho, wo, mid}, device_);
  elastic_depthwise_conv_forward(*depthwise_in, weights_.depthwise, plan_.kernel_sizes, weights_.transforms,
                                 active.kernel, plan_.stride, depthwise);
  if (training) depthwise_saved_ = BatchNormSaved::for_channels(mid, device_);
  Tensor& depthwise_act = depthwise_act_.shaped({n, ho, wo, mid}, device_);
  batch_norm(depthwise, weights_.depthwise_bn, act, training, depthwise_act, depthwise_saved_, bn_config);

  const Tensor* project_in = &depthwise_act;
  if (plan_.squeeze_excite) {
    se_saved_ = SqueezeExciteSaved::allocate(n, mid, active.se_channels, device_);
    squeeze_excite_forward(depthwise_act, weights_.se, active.se_channels, excited_.shaped({n, ho, wo, mid}, device_),
                           se_saved_);
    project_in = &excited_.get();
  }
  Tensor& projected = projected_.shaped({n, ho, wo, plan_.out_channels}, device_);
  pointwise_conv_forward(*project_in, weights_.project, plan_.out_channels, projected);
  if (training) project_saved_ = BatchNormSaved::for_channels(plan_.out_channels, device_);
  Tensor& output = output_.shaped({n, ho, wo, plan_.out_channels}, device_);
  batch_norm(projected, weights_.project_bn, Activation::none, training, output, project_saved_, bn_config);
  if (plan_.residual()) residual_add_forward(x, output, output);
  return output;
}

const Tensor& MBConvBlock::backward(const Tensor& dy, GradientHook* hook) {
  OFA_CHECK(dy.shape() == output_.get().shape(), "MBConvBlock::backward", "expected dy ",
            output_.get().shape().str(), ", got ", dy.describe());
  const Tensor& x = input_;
  const Activation act = plan_.activation;
  const std::int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), mid = active_.mid_channels;
  const Shape mid_out_shape = depthwise_.get().shape();

  Tensor& d_projected = grad_out_.shaped(dy.shape(), device_);
  BatchNormGrads project_bn_grads = bn_grads(grads_.project_bn);
  batch_norm_backward(projected_.get(), weights_.project_bn, project_saved_, Activation::none, dy, &d_projected,
                      project_bn_grads);
  Tensor& d_mid = grad_mid_a_.shaped(mid_out_shape, device_);
  const Tensor& project_in = plan_.squeeze_excite ? excited_.get() : depthwise_act_.get();
  pointwise_conv_backward(project_in, weights_.project, d_projected, &d_mid, grads_.project);
  if (plan_.squeeze_excite)
    squeeze_excite_backward(depthwise_act_.get(), weights_.se, se_saved_, d_mid, &d_mid, grads_.se);
  BatchNormGrads depthwise_bn_grads = bn_grads(grads_.depthwise_bn);
  batch_norm_backward(depthwise_.get(), weights_.depthwise_bn, depthwise_saved_, act, d_mid, &d_mid,
                      depthwise_bn_grads);

  const Tensor& depthwise_in = plan_.has_expand ? expanded_act_.get() : x;
  Tensor& d_depthwise_in =
      plan_.has_expand ? grad_mid_b_.shaped({n, h, w, mid}, device_) : grad_in_.shaped(x.shape(), device_);
  elastic_depthwise_conv_backward(depthwise_in, weights_.depthwise, plan_.kernel_sizes, weights_.transforms,
                                  active_.kernel, plan_.stride, d_mid, &d_depthwise_in, grads_.depthwise,
                                  grads_.transforms);
  Tensor& dx = grad_in_.shaped(x.shape(), device_);
  if (plan_.has_expand) {
    BatchNormGrads expand_bn_grads = bn_grads(grads_.expand_bn);
    batch_norm_backward(expanded_.get(), weights_.expand_bn, expand_saved_, act, d_depthwise_in, &d_depthwise_in,
                        expand_bn_grads);
    pointwise_conv_backward(x, weights_.expand, d_depthwise_in, &dx, grads_.expand);
  }
  if (plan_.residual()) residual_add_forward(dx, dy, dx);
  if (hook != nullptr) hook->layer_finished(gradient_extents(active_));
  return dx;
}

}  // namespace ofa
