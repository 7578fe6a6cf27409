#include "kernels/ops/squeeze_excite.h"

#include <string>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/checks.h"
#include "kernels/ops/linear.h"
#include "kernels/ops/pooling.h"

namespace ofa {
namespace {

struct Sizes {
  std::int64_t batch, channels, mid;
};

void check_vector(const char* op, const char* name, const Tensor& t, std::int64_t length) {
  checks::contiguous(op, name, t);
  checks::shape(op, name, t, Shape{length});
}

// The two 1x1 convolutions must agree on C_max and Mid_max, so that one elastic choice
// slices both consistently.
void check_weights(const char* op, const char* prefix, const SqueezeExciteWeights& w) {
  const std::string reduce = concat(prefix, "reduce_weight");
  const std::string expand = concat(prefix, "expand_weight");
  checks::row_major_matrix(op, reduce.c_str(), w.reduce_weight);
  checks::row_major_matrix(op, expand.c_str(), w.expand_weight);
  const std::int64_t mid_max = w.reduce_weight.dim(0);
  const std::int64_t channels_max = w.reduce_weight.dim(1);
  checks::shape(op, expand.c_str(), w.expand_weight, Shape{channels_max, mid_max});
  check_vector(op, concat(prefix, "reduce_bias").c_str(), w.reduce_bias, mid_max);
  check_vector(op, concat(prefix, "expand_bias").c_str(), w.expand_bias, channels_max);
}

void check_same_shapes(const char* op, const SqueezeExciteGrads& grads, const SqueezeExciteWeights& w) {
  check_weights(op, "grads.", grads);
  checks::shape(op, "grads.reduce_weight", grads.reduce_weight, w.reduce_weight.shape());
}

Sizes check_sizes(const char* op, const Tensor& x, const SqueezeExciteWeights& w, std::int64_t mid) {
  checks::contiguous(op, "x", x);
  checks::rank(op, "x", x, 4);
  check_weights(op, "", w);
  const Sizes s{x.dim(0), x.dim(3), mid};
  checks::active_size(op, "channels", s.channels, w.reduce_weight.dim(1));
  checks::active_size(op, "mid channels", s.mid, w.reduce_weight.dim(0));
  return s;
}

void check_matrix(const char* op, const char* name, const Tensor& t, std::int64_t rows, std::int64_t cols) {
  checks::contiguous(op, name, t);
  checks::shape(op, name, t, Shape{rows, cols});
}

void check_saved(const char* op, const SqueezeExciteSaved& saved, Sizes s) {
  check_matrix(op, "saved.pooled", saved.pooled, s.batch, s.channels);
  check_matrix(op, "saved.hidden", saved.hidden, s.batch, s.mid);
  check_matrix(op, "saved.gate_logits", saved.gate_logits, s.batch, s.channels);
  check_matrix(op, "saved.gate", saved.gate, s.batch, s.channels);
}

void check_like(const char* op, const char* name, const Tensor& t, const Tensor& like) {
  checks::contiguous(op, name, t);
  checks::shape(op, name, t, like.shape());
}

}  // namespace

SqueezeExciteSaved SqueezeExciteSaved::allocate(std::int64_t batch, std::int64_t channels, std::int64_t mid_channels,
                                                Device device) {
  const auto empty = [device](const Shape& shape) { return Tensor::empty(shape, DType::f32, device); };
  return {empty({batch, channels}), empty({batch, mid_channels}), empty({batch, channels}), empty({batch, channels})};
}

void squeeze_excite_forward(const Tensor& x, const SqueezeExciteWeights& weights, std::int64_t mid_channels,
                            Tensor& y, SqueezeExciteSaved& saved) {
  const char* op = "squeeze_excite_forward";
  const Device device = checks::common_device(op, {{"x", &x},
                                                   {"reduce_weight", &weights.reduce_weight},
                                                   {"reduce_bias", &weights.reduce_bias},
                                                   {"expand_weight", &weights.expand_weight},
                                                   {"expand_bias", &weights.expand_bias},
                                                   {"y", &y},
                                                   {"saved.pooled", &saved.pooled},
                                                   {"saved.hidden", &saved.hidden},
                                                   {"saved.gate_logits", &saved.gate_logits},
                                                   {"saved.gate", &saved.gate}});
  const Sizes s = check_sizes(op, x, weights, mid_channels);
  check_saved(op, saved, s);
  check_like(op, "y", y, x);

  if (device == Device::cuda) return on_cuda::squeeze_excite_forward(x, weights, mid_channels, y, saved);
  global_avg_pool_forward(x, saved.pooled);
  linear_forward(saved.pooled, weights.reduce_weight, &weights.reduce_bias, s.mid, saved.hidden);
  activation_forward(Activation::relu, saved.hidden, saved.hidden);
  linear_forward(saved.hidden, weights.expand_weight, &weights.expand_bias, s.channels, saved.gate_logits);
  activation_forward(Activation::hsigmoid, saved.gate_logits, saved.gate);
  channel_scale_forward(x, saved.gate, y);
}

void squeeze_excite_backward(const Tensor& x, const SqueezeExciteWeights& weights, const SqueezeExciteSaved& saved,
                             const Tensor& dy, Tensor* dx, SqueezeExciteGrads& grads) {
  const char* op = "squeeze_excite_backward";
  const Device device = checks::common_device(op, {{"x", &x},
                                                   {"reduce_weight", &weights.reduce_weight},
                                                   {"reduce_bias", &weights.reduce_bias},
                                                   {"expand_weight", &weights.expand_weight},
                                                   {"expand_bias", &weights.expand_bias},
                                                   {"saved.pooled", &saved.pooled},
                                                   {"saved.hidden", &saved.hidden},
                                                   {"saved.gate_logits", &saved.gate_logits},
                                                   {"saved.gate", &saved.gate},
                                                   {"dy", &dy},
                                                   {"dx", dx},
                                                   {"grads.reduce_weight", &grads.reduce_weight},
                                                   {"grads.reduce_bias", &grads.reduce_bias},
                                                   {"grads.expand_weight", &grads.expand_weight},
                                                   {"grads.expand_bias", &grads.expand_bias}});
  checks::contiguous(op, "saved.hidden", saved.hidden);
  checks::rank(op, "saved.hidden", saved.hidden, 2);
  const Sizes s = check_sizes(op, x, weights, saved.hidden.dim(1));
  check_saved(op, saved, s);
  check_like(op, "dy", dy, x);
  if (dx != nullptr) check_like(op, "dx", *dx, x);
  check_same_shapes(op, grads, weights);

  if (device == Device::cuda) return on_cuda::squeeze_excite_backward(x, weights, saved, dy, dx, grads);
  Tensor dgate = Tensor::empty({s.batch, s.channels});
  channel_scale_backward(x, saved.gate, dy, nullptr, dgate);
  Tensor& dlogits = dgate;
  activation_backward(Activation::hsigmoid, saved.gate_logits, dgate, dlogits);

  Tensor dhidden = Tensor::empty({s.batch, s.mid});
  linear_backward(saved.hidden, weights.expand_weight, dlogits, &dhidden, grads.expand_weight, &grads.expand_bias);
  // ReLU's slope from its output: hidden > 0 exactly where its input was > 0.
  activation_backward(Activation::relu, saved.hidden, dhidden, dhidden);

  Tensor dpooled = Tensor::empty({s.batch, s.channels});
  linear_backward(saved.pooled, weights.reduce_weight, dhidden, &dpooled, grads.reduce_weight, &grads.reduce_bias);
  if (dx != nullptr) pooled_channel_scale_input_backward(dy, saved.gate, dpooled, *dx);
}

}  // namespace ofa
