#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/accuracy.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/batch_norm.h"
#include "kernels/ops/bilinear_resize.h"
#include "kernels/ops/cross_entropy.h"
#include "kernels/ops/distillation.h"
#include "kernels/ops/dropout.h"
#include "kernels/ops/linear.h"
#include "kernels/ops/pooling.h"
#include "kernels/ops/residual_add.h"
#include "kernels/ops/sgd.h"
#include "kernels/ops/squeeze_excite.h"
#include "tests/cuda/backend_ops_support.h"

// Normalisation, elementwise, loss and optimiser ops through the public op API with cuda
// tensors (the emulated backend), against the same calls on CPU tensors.

namespace ofa::cuda::testing {
namespace {

using ofa::testing::random_tensor;

class BackendNormLossOps : public EmulatedDevice {};
OFA_IN_BOTH_THREAD_ORDERS(BackendNormLossOps);

constexpr double kTolerance = 2e-5;

Tensor empty_cuda(const Shape& shape) { return Tensor::empty(shape, DType::f32, Device::cuda); }

TEST_P(BackendNormLossOps, ActivationsAndResidualAdd) {
  const Tensor x = random_tensor({3, 5, 7}, -4.0f, 4.0f), dy = random_tensor(x.shape());
  for (const Activation a : {Activation::none, Activation::relu, Activation::hswish, Activation::hsigmoid}) {
    Tensor y = Tensor::empty(x.shape()), dx = Tensor::empty(x.shape());
    Tensor cy = empty_cuda(x.shape()), cdx = empty_cuda(x.shape());
    activation_forward(a, x, y);
    activation_forward(a, to_cuda(x), cy);
    expect_matches(cy, y, kTolerance, std::string(activation_name(a)) + " forward");
    activation_backward(a, x, dy, dx);
    activation_backward(a, to_cuda(x), to_cuda(dy), cdx);
    expect_matches(cdx, dx, kTolerance, std::string(activation_name(a)) + " backward");
  }
  Tensor sum = Tensor::empty(x.shape()), csum = empty_cuda(x.shape());
  residual_add_forward(x, dy, sum);
  residual_add_forward(to_cuda(x), to_cuda(dy), csum);
  expect_matches(csum, sum, 0.0, "residual add");
}

TEST_P(BackendNormLossOps, BatchNormOnAChannelPrefix) {
  const Tensor x = random_tensor({2, 3, 5, 6}), dy = random_tensor(x.shape());
  BatchNormParams cpu{random_tensor({9}, 0.5f, 1.5f), random_tensor({9}), random_tensor({9}, -0.2f, 0.2f),
                      random_tensor({9}, 0.5f, 1.5f)};
  BatchNormParams gpu{to_cuda(cpu.gamma), to_cuda(cpu.beta), to_cuda(cpu.running_mean), to_cuda(cpu.running_var)};
  BatchNormSaved saved = BatchNormSaved::for_channels(6);
  BatchNormSaved csaved{empty_cuda({6}), empty_cuda({6})};
  Tensor y = Tensor::empty(x.shape()), cy = empty_cuda(x.shape());
  batch_norm_train_forward(x, cpu, Activation::hswish, y, saved);
  batch_norm_train_forward(to_cuda(x), gpu, Activation::hswish, cy, csaved);
  expect_matches(cy, y, kTolerance, "batch norm y");
  expect_matches(csaved.mean, saved.mean, kTolerance, "saved mean");
  expect_matches(csaved.invstd, saved.invstd, kTolerance, "saved invstd");
  expect_matches(gpu.running_mean, cpu.running_mean, kTolerance, "running mean");
  expect_matches(gpu.running_var, cpu.running_var, kTolerance, "running var");

  BatchNormGrads grads{random_tensor({9}), random_tensor({9})};
  BatchNormGrads cgrads{to_cuda(grads.gamma), to_cuda(grads.beta)};
  Tensor dx = Tensor::empty(x.shape()), cdx = empty_cuda(x.shape());
  batch_norm_backward(x, cpu, saved, Activation::hswish, dy, &dx, grads);
  batch_norm_backward(to_cuda(x), gpu, csaved, Activation::hswish, to_cuda(dy), &cdx, cgrads);
  expect_matches(cdx, dx, 1e-4, "batch norm dx");
  expect_matches(cgrads.gamma, grads.gamma, kTolerance, "dgamma");
  expect_matches(cgrads.beta, grads.beta, kTolerance, "dbeta");

  batch_norm_eval_forward(x, cpu, Activation::relu, y);
  batch_norm_eval_forward(to_cuda(x), gpu, Activation::relu, cy);
  expect_matches(cy, y, kTolerance, "batch norm eval y");
}

TEST_P(BackendNormLossOps, PoolingAndChannelScale) {
  const Tensor x = random_tensor({2, 3, 5, 7}), s = random_tensor({2, 7}), dy = random_tensor(x.shape());
  const Tensor dpooled = random_tensor({2, 7});
  Tensor pooled = Tensor::empty({2, 7}), cpooled = empty_cuda({2, 7});
  global_avg_pool_forward(x, pooled);
  global_avg_pool_forward(to_cuda(x), cpooled);
  expect_matches(cpooled, pooled, kTolerance, "global average pool");
  Tensor dx = Tensor::empty(x.shape()), cdx = empty_cuda(x.shape());
  global_avg_pool_backward(s, dx);
  global_avg_pool_backward(to_cuda(s), cdx);
  expect_matches(cdx, dx, kTolerance, "global average pool backward");
  Tensor y = Tensor::empty(x.shape()), cy = empty_cuda(x.shape());
  channel_scale_forward(x, s, y);
  channel_scale_forward(to_cuda(x), to_cuda(s), cy);
  expect_matches(cy, y, kTolerance, "channel scale");
  Tensor ds = Tensor::empty(s.shape()), cds = empty_cuda(s.shape());
  channel_scale_backward(x, s, dy, &dx, ds);
  channel_scale_backward(to_cuda(x), to_cuda(s), to_cuda(dy), &cdx, cds);
  expect_matches(cdx, dx, kTolerance, "channel scale dx");
  expect_matches(cds, ds, kTolerance, "channel scale ds");
  pooled_channel_scale_input_backward(dy, s, dpooled, dx);
  pooled_channel_scale_input_backward(to_cuda(dy), to_cuda(s), to_cuda(dpooled), cdx);
  expect_matches(cdx, dx, kTolerance, "pooled channel scale dx");
}

TEST_P(BackendNormLossOps, SqueezeExciteOnActivePrefixes) {
  const Tensor x = random_tensor({2, 3, 4, 6}, -2.0f, 2.0f), dy = random_tensor(x.shape());
  const SqueezeExciteWeights w{random_tensor({5, 8}), random_tensor({5}, -0.2f, 0.5f), random_tensor({8, 5}),
                               random_tensor({8})};
  const SqueezeExciteWeights cw{to_cuda(w.reduce_weight), to_cuda(w.reduce_bias), to_cuda(w.expand_weight),
                                to_cuda(w.expand_bias)};
  SqueezeExciteSaved saved = SqueezeExciteSaved::allocate(2, 6, 3);
  SqueezeExciteSaved csaved{empty_cuda({2, 6}), empty_cuda({2, 3}), empty_cuda({2, 6}), empty_cuda({2, 6})};
  Tensor y = Tensor::empty(x.shape()), cy = empty_cuda(x.shape());
  squeeze_excite_forward(x, w, 3, y, saved);
  squeeze_excite_forward(to_cuda(x), cw, 3, cy, csaved);
  expect_matches(cy, y, kTolerance, "squeeze-excite y");
  expect_matches(csaved.gate, saved.gate, kTolerance, "squeeze-excite gate");

  SqueezeExciteGrads grads{random_tensor({5, 8}), random_tensor({5}), random_tensor({8, 5}), random_tensor({8})};
  SqueezeExciteGrads cgrads{to_cuda(grads.reduce_weight), to_cuda(grads.reduce_bias), to_cuda(grads.expand_weight),
                            to_cuda(grads.expand_bias)};
  Tensor dx = Tensor::empty(x.shape()), cdx = empty_cuda(x.shape());
  squeeze_excite_backward(x, w, saved, dy, &dx, grads);
  squeeze_excite_backward(to_cuda(x), cw, csaved, to_cuda(dy), &cdx, cgrads);
  expect_matches(cdx, dx, kTolerance, "squeeze-excite dx");
  expect_matches(cgrads.reduce_weight, grads.reduce_weight, kTolerance, "d reduce weight");
  expect_matches(cgrads.reduce_bias, grads.reduce_bias, kTolerance, "d reduce bias");
  expect_matches(cgrads.expand_weight, grads.expand_weight, kTolerance, "d expand weight");
  expect_matches(cgrads.expand_bias, grads.expand_bias, kTolerance, "d expand bias");
}

TEST_P(BackendNormLossOps, DropoutMaskAndResize) {
  const Tensor x = random_tensor({2, 5, 3, 3}), dy = random_tensor({2, 4, 7, 3});
  Tensor y = Tensor::empty(x.shape()), cy = empty_cuda(x.shape());
  dropout_forward(x, 0.3f, 17, 2, y);
  dropout_forward(to_cuda(x), 0.3f, 17, 2, cy);
  expect_matches(cy, y, 0.0, "dropout forward");
  dropout_backward(x, 0.3f, 17, 2, y);
  dropout_backward(to_cuda(x), 0.3f, 17, 2, cy);
  expect_matches(cy, y, 0.0, "dropout backward");

  Tensor resized = Tensor::empty(dy.shape()), cresized = empty_cuda(dy.shape());
  bilinear_resize_forward(x, resized);
  bilinear_resize_forward(to_cuda(x), cresized);
  expect_matches(cresized, resized, kTolerance, "bilinear forward");
  Tensor dx = Tensor::empty(x.shape()), cdx = empty_cuda(x.shape());
  bilinear_resize_backward(dy, dx);
  bilinear_resize_backward(to_cuda(dy), cdx);
  expect_matches(cdx, dx, kTolerance, "bilinear backward");
}

TEST_P(BackendNormLossOps, LossesAndAccuracyOnPrefixLogits) {
  const Tensor full = random_tensor({5, 13}, -6.0f, 6.0f), teacher = random_tensor({5, 11}, -6.0f, 6.0f);
  const Tensor logits = full.prefix({5, 11});
  const Tensor cfull = to_cuda(full), clogits = cfull.prefix({5, 11}), cteacher = to_cuda(teacher);
  const std::vector<std::int32_t> labels = {3, 0, 10, 7, 3};
  const float loss = cross_entropy_forward(logits, labels, 0.1f);
  EXPECT_NEAR(cross_entropy_forward(clogits, labels, 0.1f), loss, kTolerance * (1.0 + loss));
  const float kd = distillation_forward(logits, teacher, 2.0f);
  EXPECT_NEAR(distillation_forward(clogits, cteacher, 2.0f), kd, kTolerance * (1.0 + kd));

  Tensor dfull = random_tensor(full.shape());
  Tensor cdfull = to_cuda(dfull);
  Tensor dlogits = dfull.prefix({5, 11}), cdlogits = cdfull.prefix({5, 11});
  cross_entropy_backward(logits, labels, 0.1f, 0.7f, dlogits);
  cross_entropy_backward(clogits, labels, 0.1f, 0.7f, cdlogits);
  expect_matches(cdfull, dfull, kTolerance, "cross-entropy dlogits (padding untouched)");
  distillation_backward(logits, teacher, 2.0f, 0.9f, dlogits);
  distillation_backward(clogits, cteacher, 2.0f, 0.9f, cdlogits);
  expect_matches(cdfull, dfull, kTolerance, "distillation dstudent (padding untouched)");

  for (const std::int64_t k : {1, 3, 50}) {
    const AccuracyCounts want = accuracy_counts(logits, labels, k), got = accuracy_counts(clogits, labels, k);
    EXPECT_EQ(got.top1, want.top1) << "k " << k;
    EXPECT_EQ(got.topk, want.topk) << "k " << k;
  }
}

TEST_P(BackendNormLossOps, SgdStepOverSeveralParameters) {
  std::vector<SgdParameter> cpu, gpu;
  for (const std::int64_t size : {1, 37, 5, 300}) {
    const Tensor p = random_tensor({size}), g = random_tensor({size}), m = random_tensor({size}, -0.1f, 0.1f);
    cpu.push_back({p.clone(), g.clone(), m.clone(), size != 5});
    gpu.push_back({to_cuda(p), to_cuda(g), to_cuda(m), size != 5});
  }
  for (const float lr : {0.1f, 0.3f}) {
    sgd_step(cpu, SgdConfig{lr, 0.9f, 3e-3f, true});
    sgd_step(gpu, SgdConfig{lr, 0.9f, 3e-3f, true});
  }
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    expect_matches(gpu[i].param, cpu[i].param, kTolerance, "sgd param " + std::to_string(i));
    expect_matches(gpu[i].momentum_buffer, cpu[i].momentum_buffer, kTolerance, "sgd momentum " + std::to_string(i));
  }
}

// Tensors of both devices in one call: an error naming the op and every tensor's device.
TEST_P(BackendNormLossOps, MixedDevicesAreRejectedNamingEachTensor) {
  const Tensor x = random_tensor({3, 4}), weight = random_tensor({2, 4});
  Tensor y = Tensor::empty({3, 2}, DType::f32, Device::cuda);
  try {
    linear_forward(x, to_cuda(weight), nullptr, 2, y);
    FAIL() << "mixed devices were accepted";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "linear_forward: tensors on different devices (x on cpu, weight on cuda, y on cuda); move them to one "
                 "with Tensor::to");
  }
  std::vector<SgdParameter> mixed{{random_tensor({2}), random_tensor({2}), random_tensor({2})},
                                  {to_cuda(x), to_cuda(x), to_cuda(x)}};
  EXPECT_THROW(sgd_step(mixed, SgdConfig{0.1f}), Error);
}

}  // namespace
}  // namespace ofa::cuda::testing
