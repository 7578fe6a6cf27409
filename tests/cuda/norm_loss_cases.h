#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/cuda/ops/accuracy.cuh"
#include "kernels/cuda/ops/activation.cuh"
#include "kernels/cuda/ops/batch_norm.cuh"
#include "kernels/cuda/ops/bilinear_resize.cuh"
#include "kernels/cuda/ops/cross_entropy.cuh"
#include "kernels/cuda/ops/distillation.cuh"
#include "kernels/cuda/ops/dropout.cuh"
#include "kernels/cuda/ops/pooling.cuh"
#include "kernels/cuda/ops/residual_add.cuh"
#include "kernels/cuda/ops/sgd.cuh"
#include "kernels/cuda/ops/squeeze_excite.cuh"
#include "kernels/ops/accuracy.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/batch_norm.h"
#include "kernels/ops/bilinear_resize.h"
#include "kernels/ops/cross_entropy.h"
#include "kernels/ops/distillation.h"
#include "kernels/ops/dropout.h"
#include "kernels/ops/pooling.h"
#include "kernels/ops/residual_add.h"
#include "kernels/ops/sgd.h"
#include "kernels/ops/squeeze_excite.h"
#include "tests/cuda/compare.h"
#include "tests/cuda/device_buffer.h"
#include "tests/support/test_tensors.h"

// The normalisation, elementwise, loss and optimiser kernels against the CPU op library, one
// function per op over shapes with odd sizes and active prefixes smaller than the max-size
// parameters. The emulated tests (test_cuda_norm_loss_ops.cpp) and the GPU tests
// (test_cuda_ops_gpu.cu) run the same cases, with their launcher; `large` adds the
// MobileNetV3 sizes only a GPU runs quickly. Whole max-size buffers are compared, so a write
// outside the active prefix shows too.

namespace ofa::cuda::testing {

using ofa::testing::random_tensor;

inline std::vector<float> floats_of(const Tensor& t) {
  const Tensor packed = t.clone();
  return {packed.f32(), packed.f32() + packed.numel()};
}

// A device copy of a host tensor.
struct OnDevice : DeviceBuffer<float> {
  explicit OnDevice(const Tensor& t) : DeviceBuffer<float>(floats_of(t)) {}
};

// Within tolerance * (max|want| or a larger `scale` of the terms that cancelled into want) +
// tolerance * |want| everywhere: kernels sum in other orders and compilers fuse other
// multiply-adds, so errors scale with the output.
inline void expect_scaled(const std::vector<float>& got, const Tensor& want, double tolerance, const std::string& what,
                          double scale = 0.0) {
  const std::vector<double> w = ofa::testing::to_doubles(want);
  for (double v : w) scale = std::max(scale, std::abs(v));
  expect_all_close(got, w, tolerance * scale, tolerance, what);
}

inline double max_abs(const Tensor& t) {
  double m = 0.0;
  for (double v : ofa::testing::to_doubles(t)) m = std::max(m, std::abs(v));
  return m;
}

inline void expect_identical(const std::vector<float>& got, const Tensor& want, const std::string& what) {
  expect_all_close(got, ofa::testing::to_doubles(want), 0.0, 0.0, what);
}

template <class T>
std::string describe_shape(const T& first) {
  return std::to_string(first);
}
template <class T, class... Rest>
std::string describe_shape(const T& first, const Rest&... rest) {
  return std::to_string(first) + "x" + describe_shape(rest...);
}

// A device scratch buffer of `bytes`, poisoned like every cudaMalloc under emulation.
struct Workspace : DeviceBuffer<double> {
  explicit Workspace(std::size_t bytes) : DeviceBuffer<double>(bytes / sizeof(double) + 1) {}
  void* get() const { return DeviceBuffer<double>::get(); }
};

constexpr Activation kActivations[] = {Activation::none, Activation::relu, Activation::hswish, Activation::hsigmoid};

// --- batch norm -------------------------------------------------------------------------------

struct BatchNormCase {
  int batch, height, width, channels, channels_max;
  float offset;  // added to x: a mean far from zero tests the shifted sums
};

inline std::vector<BatchNormCase> batch_norm_cases(bool large) {
  std::vector<BatchNormCase> cases = {{2, 5, 7, 37, 48, 0.0f},  {3, 4, 4, 40, 40, 0.0f}, {1, 1, 2, 5, 8, 0.0f},
                                      {2, 3, 5, 24, 32, 50.0f}, {4, 9, 9, 3, 3, -2.0f},  {1, 33, 3, 68, 72, 0.5f}};
  if (large) cases.insert(cases.end(), {{64, 28, 28, 120, 144, 0.0f}, {64, 7, 7, 960, 960, 1.0f}});
  return cases;
}

inline BatchNormParams random_batch_norm_params(std::int64_t channels_max) {
  return {random_tensor({channels_max}, 0.5f, 1.5f), random_tensor({channels_max}, -0.5f, 0.5f),
          random_tensor({channels_max}, -0.2f, 0.2f), random_tensor({channels_max}, 0.5f, 1.5f)};
}

template <Launcher L>
void check_batch_norm(const L& launcher, bool large, double tolerance) {
  for (const BatchNormCase& bc : batch_norm_cases(large))
    for (const Activation activation : kActivations) {
      const std::string what = "batch norm " + describe_shape(bc.batch, bc.height, bc.width, bc.channels) + " of " +
                               std::to_string(bc.channels_max) + " " + activation_name(activation);
      const long long rows = static_cast<long long>(bc.batch) * bc.height * bc.width;
      const int c = bc.channels;
      Tensor x = random_tensor({bc.batch, bc.height, bc.width, c});
      for (std::int64_t i = 0; i < x.numel(); ++i) x.f32()[i] += bc.offset;
      const BatchNormParams initial = random_batch_norm_params(bc.channels_max);
      BatchNormParams cpu{initial.gamma.clone(), initial.beta.clone(), initial.running_mean.clone(),
                          initial.running_var.clone()};
      const OnDevice dx_in(x), gamma(initial.gamma), beta(initial.beta), running_mean(initial.running_mean),
          running_var(initial.running_var);
      const BatchNormDeviceParams device{gamma.get(), beta.get(), running_mean.get(), running_var.get()};

      // Training forward: output, saved statistics, running statistics over all of [C_max].
      Tensor y = Tensor::empty(x.shape());
      BatchNormSaved saved = BatchNormSaved::for_channels(c);
      batch_norm_train_forward(x, cpu, activation, y, saved);
      const DeviceBuffer<float> dy_out(x.numel()), mean(static_cast<std::size_t>(c)), invstd(static_cast<std::size_t>(c));
      const BatchNormDeviceSaved device_saved{mean.get(), invstd.get()};
      const Workspace workspace(batch_norm_workspace_bytes(rows, c));
      batch_norm_train_forward(launcher, dx_in.get(), rows, c, device, activation, dy_out.get(), device_saved,
                               BatchNormConfig{}, workspace.get());
      expect_scaled(dy_out.to_host(), y, tolerance, what + " y");
      expect_scaled(mean.to_host(), saved.mean, tolerance, what + " saved mean");
      expect_scaled(invstd.to_host(), saved.invstd, tolerance, what + " saved invstd");
      expect_scaled(running_mean.to_host(), cpu.running_mean, tolerance, what + " running mean");
      expect_scaled(running_var.to_host(), cpu.running_var, tolerance, what + " running var");

      // Backward: dx overwritten, dgamma and dbeta accumulate into random starting values.
      const Tensor dy = random_tensor(x.shape());
      const Tensor dgamma0 = random_tensor({bc.channels_max}), dbeta0 = random_tensor({bc.channels_max});
      BatchNormGrads grads{dgamma0.clone(), dbeta0.clone()};
      Tensor dx = Tensor::empty(x.shape());
      batch_norm_backward(x, cpu, saved, activation, dy, &dx, grads);
      const OnDevice d_dy(dy), d_dgamma(dgamma0), d_dbeta(dbeta0);
      const DeviceBuffer<float> d_dx(x.numel());
      // The device's own saved statistics, as in training.
      batch_norm_backward(launcher, dx_in.get(), rows, c, device, device_saved, activation, d_dy.get(), d_dx.get(),
                          BatchNormDeviceGrads{d_dgamma.get(), d_dbeta.get()}, workspace.get());
      // dx is a difference of terms of size |dy| * gamma * invstd (nearly all of it at 2 rows).
      const double dx_terms = max_abs(dy) * max_abs(initial.gamma) * max_abs(saved.invstd);
      expect_scaled(d_dx.to_host(), dx, tolerance, what + " dx", dx_terms);
      expect_scaled(d_dgamma.to_host(), grads.gamma, tolerance, what + " dgamma");
      expect_scaled(d_dbeta.to_host(), grads.beta, tolerance, what + " dbeta");

      // Without dx only the parameter gradients change (accumulating a second time).
      batch_norm_backward(x, cpu, saved, activation, dy, nullptr, grads);
      batch_norm_backward(launcher, dx_in.get(), rows, c, device, device_saved, activation, d_dy.get(), nullptr,
                          BatchNormDeviceGrads{d_dgamma.get(), d_dbeta.get()}, workspace.get());
      expect_scaled(d_dgamma.to_host(), grads.gamma, tolerance, what + " dgamma, no dx");
      expect_scaled(d_dbeta.to_host(), grads.beta, tolerance, what + " dbeta, no dx");

      // Evaluation with the running statistics the training step left.
      batch_norm_eval_forward(x, cpu, activation, y);
      batch_norm_eval_forward(launcher, dx_in.get(), rows, c, device, activation, dy_out.get());
      expect_scaled(dy_out.to_host(), y, tolerance, what + " eval y");
    }
}

// --- activations, residual add, dropout ------------------------------------------------------

inline std::vector<long long> flat_sizes(bool large) {
  std::vector<long long> sizes = {1, 3, 4, 1001, 4096, 70003};
  if (large) sizes.push_back(64LL * 56 * 56 * 144 + 1);
  return sizes;
}

template <Launcher L>
void check_activations(const L& launcher, bool large, double tolerance) {
  for (const long long n : flat_sizes(large))
    for (const Activation activation : kActivations) {
      const std::string what = std::string(activation_name(activation)) + " n " + std::to_string(n);
      const Tensor x = random_tensor({n}, -4.0f, 4.0f), dy = random_tensor({n});
      Tensor y = Tensor::empty(x.shape()), dx = Tensor::empty(x.shape());
      activation_forward(activation, x, y);
      activation_backward(activation, x, dy, dx);
      const OnDevice d_x(x), d_dy(dy);
      const DeviceBuffer<float> d_y(static_cast<std::size_t>(n)), d_dx(static_cast<std::size_t>(n));
      activation_forward(launcher, activation, d_x.get(), n, d_y.get());
      activation_backward(launcher, activation, d_x.get(), d_dy.get(), n, d_dx.get());
      expect_scaled(d_y.to_host(), y, tolerance, what + " forward");
      expect_scaled(d_dx.to_host(), dx, tolerance, what + " backward");
      // In place, as the block's forward runs it.
      activation_forward(launcher, activation, d_x.get(), n, d_x.get());
      expect_scaled(d_x.to_host(), y, tolerance, what + " forward in place");
    }
}

template <Launcher L>
void check_residual_add(const L& launcher, bool large) {
  for (const long long n : flat_sizes(large)) {
    const Tensor a = random_tensor({n}), b = random_tensor({n});
    Tensor y = Tensor::empty(a.shape());
    residual_add_forward(a, b, y);
    const OnDevice d_a(a), d_b(b);
    const DeviceBuffer<float> d_y(static_cast<std::size_t>(n));
    residual_add_forward(launcher, d_a.get(), d_b.get(), n, d_y.get());
    expect_identical(d_y.to_host(), y, "residual add n " + std::to_string(n));
    residual_add_forward(launcher, d_a.get(), d_b.get(), n, d_a.get());
    expect_identical(d_a.to_host(), y, "residual add in place n " + std::to_string(n));
  }
}

// The mask must equal the CPU's bit for bit: one multiply per kept element, nothing to fuse.
template <Launcher L>
void check_dropout(const L& launcher, bool large) {
  for (const long long n : flat_sizes(large))
    for (const float p : {0.0f, 0.1f, 0.5f, 0.93f}) {
      const std::string what = "dropout p " + std::to_string(p) + " n " + std::to_string(n);
      const std::uint64_t seed = 1234 + std::uint64_t(n), stream = 7;
      const Tensor x = random_tensor({n}), dy = random_tensor({n});
      Tensor y = Tensor::empty(x.shape()), dx = Tensor::empty(x.shape());
      dropout_forward(x, p, seed, stream, y);
      dropout_backward(dy, p, seed, stream, dx);
      const OnDevice d_x(x), d_dy(dy);
      const DeviceBuffer<float> d_y(static_cast<std::size_t>(n)), d_dx(static_cast<std::size_t>(n));
      dropout_forward(launcher, d_x.get(), n, p, seed, stream, d_y.get());
      dropout_backward(launcher, d_dy.get(), n, p, seed, stream, d_dx.get());
      expect_identical(d_y.to_host(), y, what + " forward");
      expect_identical(d_dx.to_host(), dx, what + " backward");
    }
}

// --- pooling, channel scale, squeeze-and-excitation ------------------------------------------

struct ImageCase {
  int batch, height, width, channels;
};

inline std::vector<ImageCase> image_cases(bool large) {
  std::vector<ImageCase> cases = {{2, 5, 7, 37}, {3, 4, 4, 40}, {1, 1, 1, 5}, {2, 11, 9, 3}, {1, 2, 3, 300}};
  if (large) cases.insert(cases.end(), {{64, 56, 56, 72}, {64, 7, 7, 960}});
  return cases;
}

inline PoolShape pool_shape(const ImageCase& ic) {
  return {ic.batch, static_cast<long long>(ic.height) * ic.width, ic.channels};
}

template <Launcher L>
void check_pooling(const L& launcher, bool large, double tolerance) {
  for (const ImageCase& ic : image_cases(large)) {
    const std::string what = describe_shape(ic.batch, ic.height, ic.width, ic.channels);
    const PoolShape s = pool_shape(ic);
    const Tensor x = random_tensor({ic.batch, ic.height, ic.width, ic.channels});
    const Tensor per_image = random_tensor({ic.batch, ic.channels}), dy = random_tensor(x.shape());
    const OnDevice d_x(x), d_s(per_image), d_dy(dy);
    const Workspace workspace(pool_workspace_bytes(s));

    Tensor pooled = Tensor::empty(per_image.shape());
    global_avg_pool_forward(x, pooled);
    const DeviceBuffer<float> d_pooled(static_cast<std::size_t>(pooled.numel()));
    global_avg_pool_forward(launcher, d_x.get(), s, d_pooled.get(), workspace.get());
    expect_scaled(d_pooled.to_host(), pooled, tolerance, "global average pool " + what);

    Tensor dx = Tensor::empty(x.shape());
    global_avg_pool_backward(per_image, dx);
    const DeviceBuffer<float> d_dx(static_cast<std::size_t>(x.numel()));
    global_avg_pool_backward(launcher, d_s.get(), s, d_dx.get());
    expect_scaled(d_dx.to_host(), dx, tolerance, "global average pool backward " + what);

    Tensor y = Tensor::empty(x.shape());
    channel_scale_forward(x, per_image, y);
    const DeviceBuffer<float> d_y(static_cast<std::size_t>(x.numel()));
    channel_scale_forward(launcher, d_x.get(), d_s.get(), s, d_y.get());
    expect_scaled(d_y.to_host(), y, tolerance, "channel scale " + what);

    Tensor ds = Tensor::empty(per_image.shape());
    channel_scale_backward(x, per_image, dy, &dx, ds);
    const DeviceBuffer<float> d_ds(static_cast<std::size_t>(ds.numel()));
    channel_scale_backward(launcher, d_x.get(), d_s.get(), d_dy.get(), s, d_dx.get(), d_ds.get(), workspace.get());
    expect_scaled(d_dx.to_host(), dx, tolerance, "channel scale backward dx " + what);
    expect_scaled(d_ds.to_host(), ds, tolerance, "channel scale backward ds " + what);
    channel_scale_backward(launcher, d_x.get(), d_s.get(), d_dy.get(), s, nullptr, d_ds.get(), workspace.get());
    expect_scaled(d_ds.to_host(), ds, tolerance, "channel scale backward ds only " + what);

    const Tensor dpooled = random_tensor(per_image.shape());
    pooled_channel_scale_input_backward(dy, per_image, dpooled, dx);
    const OnDevice d_dpooled(dpooled);
    pooled_channel_scale_input_backward(launcher, d_dy.get(), d_s.get(), d_dpooled.get(), s, d_dx.get());
    expect_scaled(d_dx.to_host(), dx, tolerance, "pooled channel scale input backward " + what);
  }
}

struct SqueezeExciteCase {
  ImageCase image;
  int mid, channels_max, mid_max;
};

template <Launcher L>
void check_squeeze_excite(const L& launcher, bool large, double tolerance) {
  std::vector<SqueezeExciteCase> cases = {
      {{2, 5, 7, 37}, 9, 48, 12}, {{3, 4, 4, 40}, 10, 40, 10}, {{1, 3, 3, 5}, 1, 8, 4}, {{2, 6, 5, 64}, 33, 72, 40}};
  if (large) cases.push_back({{64, 14, 14, 480}, 120, 672, 168});
  for (const SqueezeExciteCase& sc : cases) {
    const ImageCase& ic = sc.image;
    const std::string what = "squeeze-excite " + describe_shape(ic.batch, ic.height, ic.width, ic.channels) +
                             " mid " + std::to_string(sc.mid);
    const PoolShape s = pool_shape(ic);
    const Tensor x = random_tensor({ic.batch, ic.height, ic.width, ic.channels}, -2.0f, 2.0f);
    const SqueezeExciteWeights weights{random_tensor({sc.mid_max, sc.channels_max}),
                                       random_tensor({sc.mid_max}, -0.2f, 0.5f),
                                       random_tensor({sc.channels_max, sc.mid_max}),
                                       random_tensor({sc.channels_max}, -1.0f, 1.0f)};
    Tensor y = Tensor::empty(x.shape());
    SqueezeExciteSaved saved = SqueezeExciteSaved::allocate(ic.batch, ic.channels, sc.mid);
    squeeze_excite_forward(x, weights, sc.mid, y, saved);

    const OnDevice d_x(x), rw(weights.reduce_weight), rb(weights.reduce_bias), ew(weights.expand_weight),
        eb(weights.expand_bias);
    const SqueezeExciteDeviceWeights device{rw.get(), rb.get(), ew.get(), eb.get(), sc.channels_max, sc.mid_max};
    const std::size_t per_image = std::size_t(ic.batch) * std::size_t(ic.channels);
    const DeviceBuffer<float> pooled(per_image), hidden(static_cast<std::size_t>(ic.batch) * static_cast<std::size_t>(sc.mid)),
        gate_logits(per_image), gate(per_image), d_y(static_cast<std::size_t>(x.numel()));
    const SqueezeExciteDeviceSaved device_saved{pooled.get(), hidden.get(), gate_logits.get(), gate.get()};
    const Workspace workspace(squeeze_excite_workspace_bytes(s, sc.mid));
    squeeze_excite_forward(launcher, d_x.get(), s, device, sc.mid, d_y.get(), device_saved, workspace.get());
    expect_scaled(d_y.to_host(), y, tolerance, what + " y");
    expect_scaled(pooled.to_host(), saved.pooled, tolerance, what + " pooled");
    expect_scaled(hidden.to_host(), saved.hidden, tolerance, what + " hidden");
    expect_scaled(gate_logits.to_host(), saved.gate_logits, tolerance, what + " gate logits");
    expect_scaled(gate.to_host(), saved.gate, tolerance, what + " gate");

    const Tensor dy = random_tensor(x.shape());
    const SqueezeExciteGrads initial{random_tensor(weights.reduce_weight.shape()),
                                     random_tensor(weights.reduce_bias.shape()),
                                     random_tensor(weights.expand_weight.shape()),
                                     random_tensor(weights.expand_bias.shape())};
    SqueezeExciteGrads grads{initial.reduce_weight.clone(), initial.reduce_bias.clone(),
                             initial.expand_weight.clone(), initial.expand_bias.clone()};
    Tensor dx = Tensor::empty(x.shape());
    squeeze_excite_backward(x, weights, saved, dy, &dx, grads);
    const OnDevice d_dy(dy), g_rw(initial.reduce_weight), g_rb(initial.reduce_bias), g_ew(initial.expand_weight),
        g_eb(initial.expand_bias);
    const DeviceBuffer<float> d_dx(static_cast<std::size_t>(x.numel()));
    squeeze_excite_backward(launcher, d_x.get(), s, device, sc.mid, device_saved, d_dy.get(), d_dx.get(),
                            SqueezeExciteDeviceGrads{g_rw.get(), g_rb.get(), g_ew.get(), g_eb.get()},
                            workspace.get());
    expect_scaled(d_dx.to_host(), dx, tolerance, what + " dx");
    expect_scaled(g_rw.to_host(), grads.reduce_weight, tolerance, what + " d reduce weight");
    expect_scaled(g_rb.to_host(), grads.reduce_bias, tolerance, what + " d reduce bias");
    expect_scaled(g_ew.to_host(), grads.expand_weight, tolerance, what + " d expand weight");
    expect_scaled(g_eb.to_host(), grads.expand_bias, tolerance, what + " d expand bias");
  }
}

// --- bilinear resize -------------------------------------------------------------------------

template <Launcher L>
void check_bilinear_resize(const L& launcher, bool large, double tolerance) {
  std::vector<ResizeShape> cases = {{2, 7, 9, 4, 5, 3},   {1, 5, 5, 11, 13, 4}, {2, 6, 4, 6, 4, 5},
                                    {1, 1, 1, 3, 2, 2},   {1, 9, 3, 1, 7, 1},   {3, 13, 16, 7, 16, 6},
                                    {1, 4, 6, 17, 5, 37}};
  if (large) cases.push_back({64, 224, 224, 160, 160, 3});
  for (const ResizeShape& s : cases) {
    const std::string what =
        "bilinear " + describe_shape(s.batch, s.in_h, s.in_w, s.channels) + " to " + describe_shape(s.out_h, s.out_w);
    const Tensor x = random_tensor({s.batch, s.in_h, s.in_w, s.channels});
    const Tensor dy = random_tensor({s.batch, s.out_h, s.out_w, s.channels});
    Tensor y = Tensor::empty(dy.shape()), dx = Tensor::empty(x.shape());
    bilinear_resize_forward(x, y);
    bilinear_resize_backward(dy, dx);
    const OnDevice d_x(x), d_dy(dy);
    const DeviceBuffer<float> d_y(static_cast<std::size_t>(y.numel())), d_dx(static_cast<std::size_t>(x.numel()));
    bilinear_resize_forward(launcher, d_x.get(), s, d_y.get());
    bilinear_resize_backward(launcher, d_dy.get(), s, d_dx.get());
    expect_scaled(d_y.to_host(), y, tolerance, what + " forward");
    expect_scaled(d_dx.to_host(), dx, tolerance, what + " backward");
  }
}

// --- losses and accuracy ---------------------------------------------------------------------

struct LogitsCase {
  int rows, classes, pad;  // the logits are the prefix of [rows, classes + pad]
};

inline std::vector<LogitsCase> logits_cases(bool large) {
  std::vector<LogitsCase> cases = {{3, 10, 0}, {5, 37, 3}, {1, 1, 2}, {2, 300, 1}, {4, 257, 0}};
  if (large) cases.insert(cases.end(), {{256, 1000, 0}, {64, 1000, 24}});
  return cases;
}

inline std::vector<std::int32_t> random_labels(int rows, int classes) {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(rows));
  for (std::int32_t& label : labels) label = std::int32_t(ofa::testing::random_int(0, classes - 1));
  return labels;
}

inline LogitsShape logits_shape(const LogitsCase& lc) { return {lc.rows, lc.classes, lc.classes + lc.pad}; }

inline float device_scalar(const DeviceBuffer<float>& buffer) { return buffer.to_host()[0]; }

template <Launcher L>
void check_cross_entropy(const L& launcher, bool large, double tolerance) {
  for (const LogitsCase& lc : logits_cases(large))
    for (const float smoothing : {0.0f, 0.1f, 1.0f}) {
      const std::string what = "cross-entropy " + describe_shape(lc.rows, lc.classes) + " pad " +
                               std::to_string(lc.pad) + " smoothing " + std::to_string(smoothing);
      const Tensor full = random_tensor({lc.rows, lc.classes + lc.pad}, -8.0f, 8.0f);
      const Tensor logits = full.prefix({lc.rows, lc.classes});
      const std::vector<std::int32_t> labels = random_labels(lc.rows, lc.classes);
      const float loss = cross_entropy_forward(logits, labels, smoothing);
      Tensor dfull = random_tensor(full.shape());
      const OnDevice d_logits(full), d_grad(dfull);
      Tensor dlogits = dfull.prefix({lc.rows, lc.classes});
      cross_entropy_backward(logits, labels, smoothing, 0.7f, dlogits);

      const DeviceBuffer<std::int32_t> d_labels(labels);
      const DeviceBuffer<float> d_loss(1);
      const Workspace workspace(cross_entropy_workspace_bytes(lc.rows));
      cross_entropy_forward(launcher, d_logits.get(), logits_shape(lc), d_labels.get(), smoothing, d_loss.get(),
                            workspace.get());
      EXPECT_NEAR(device_scalar(d_loss), loss, tolerance * (1.0 + std::abs(loss))) << what;
      cross_entropy_backward(launcher, d_logits.get(), logits_shape(lc), d_labels.get(), smoothing, 0.7f, d_grad.get(),
                             lc.classes + lc.pad);
      expect_scaled(d_grad.to_host(), dfull, tolerance, what + " dlogits (padding untouched)");
    }
}

template <Launcher L>
void check_distillation(const L& launcher, bool large, double tolerance) {
  for (const LogitsCase& lc : logits_cases(large))
    for (const float temperature : {1.0f, 0.5f, 4.0f}) {
      const std::string what = "distillation " + describe_shape(lc.rows, lc.classes) + " pad " +
                               std::to_string(lc.pad) + " T " + std::to_string(temperature);
      const Tensor student_full = random_tensor({lc.rows, lc.classes + lc.pad}, -6.0f, 6.0f);
      const Tensor teacher = random_tensor({lc.rows, lc.classes}, -6.0f, 6.0f);  // its own, tighter stride
      const Tensor student = student_full.prefix({lc.rows, lc.classes});
      const float loss = distillation_forward(student, teacher, temperature);
      Tensor dfull = random_tensor(student_full.shape());
      const OnDevice d_student(student_full), d_teacher(teacher), d_grad(dfull);
      Tensor dstudent = dfull.prefix({lc.rows, lc.classes});
      distillation_backward(student, teacher, temperature, 0.9f, dstudent);

      const DeviceBuffer<float> d_loss(1);
      const Workspace workspace(distillation_workspace_bytes(lc.rows));
      distillation_forward(launcher, d_student.get(), logits_shape(lc), d_teacher.get(), lc.classes, temperature,
                           d_loss.get(), workspace.get());
      EXPECT_NEAR(device_scalar(d_loss), loss, tolerance * (1.0 + std::abs(loss))) << what;
      distillation_backward(launcher, d_student.get(), logits_shape(lc), d_teacher.get(), lc.classes, temperature,
                            0.9f, d_grad.get(), lc.classes + lc.pad);
      expect_scaled(d_grad.to_host(), dfull, tolerance, what + " dstudent (padding untouched)");
    }
}

// Logits on a coarse grid so that ties with the label are common, one row's label logit NaN;
// the counts start non-zero because the kernel adds to them.
template <Launcher L>
void check_accuracy(const L& launcher, bool large) {
  for (const LogitsCase& lc : logits_cases(large))
    for (const int k : {1, 5, 2000}) {
      const std::string what = "accuracy " + describe_shape(lc.rows, lc.classes) + " k " + std::to_string(k);
      Tensor full = random_tensor({lc.rows, lc.classes + lc.pad}, 0.0f, 4.0f);
      for (std::int64_t i = 0; i < full.numel(); ++i) full.f32()[i] = std::floor(full.f32()[i]);
      const std::vector<std::int32_t> labels = random_labels(lc.rows, lc.classes);
      if (lc.rows > 2) full.at({1, labels[1]}) = NAN;
      const AccuracyCounts expected = accuracy_counts(full.prefix({lc.rows, lc.classes}), labels, k);
      const OnDevice d_logits(full);
      const DeviceBuffer<std::int32_t> d_labels(labels);
      const DeviceBuffer<unsigned long long> counts(std::vector<unsigned long long>{3, 7});
      accuracy_counts(launcher, d_logits.get(), logits_shape(lc), d_labels.get(), k, counts.get());
      const std::vector<unsigned long long> got = counts.to_host();
      EXPECT_EQ(got[0], 3 + static_cast<unsigned long long>(expected.top1)) << what;
      EXPECT_EQ(got[1], 7 + static_cast<unsigned long long>(expected.topk)) << what;
    }
}

// --- SGD ---------------------------------------------------------------------------------------

// Several steps over parameters of odd sizes with and without decay, Nesterov and plain, against
// the CPU optimiser; an empty descriptor among them must be skipped.
template <Launcher L>
void check_sgd(const L& launcher, bool large, double tolerance) {
  std::vector<std::int64_t> sizes = {1, 37, 1000, 5, 4097, 3, 1024, 2};
  if (large) sizes.insert(sizes.end(), {1280 * 1000, 960 * 160, 7});
  for (const bool nesterov : {true, false}) {
    std::vector<SgdParameter> cpu;
    std::vector<std::unique_ptr<OnDevice>> owned;  // param, grad, momentum buffer per parameter
    std::vector<SgdDeviceTensor> descriptors;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const Shape shape{sizes[i]};
      const SgdParameter p{random_tensor(shape), random_tensor(shape), random_tensor(shape, -0.1f, 0.1f), i % 3 != 1};
      cpu.push_back({p.param.clone(), p.grad.clone(), p.momentum_buffer.clone(), p.weight_decay});
      for (const Tensor* t : {&p.param, &p.grad, &p.momentum_buffer}) owned.push_back(std::make_unique<OnDevice>(*t));
      const std::size_t at = owned.size() - 3;
      descriptors.push_back({owned[at]->get(), owned[at + 1]->get(), owned[at + 2]->get(), 0, sizes[i], p.weight_decay});
      if (i == 2) descriptors.push_back({nullptr, nullptr, nullptr, 0, 0, 1});
    }
    const long long total = sgd_lay_out(descriptors);
    const DeviceBuffer<SgdDeviceTensor> d_descriptors(descriptors);
    for (const float lr : {0.1f, 0.05f, 0.3f}) {
      const SgdConfig config{lr, 0.9f, 3e-3f, nesterov};
      sgd_step(cpu, config);
      sgd_step(launcher, d_descriptors.get(), int(descriptors.size()), total, config);
    }
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const std::string what = std::string(nesterov ? "nesterov" : "plain") + " sgd parameter " + std::to_string(i);
      expect_scaled(owned[3 * i]->to_host(), cpu[i].param, tolerance, what + " param");
      expect_scaled(owned[3 * i + 2]->to_host(), cpu[i].momentum_buffer, tolerance, what + " momentum");
    }
  }
}

}  // namespace ofa::cuda::testing
