// Batch norm (training forward and backward), activations and global average pooling on the
// expanded (mid) tensors of the MBConv blocks, beside the cuDNN calls doing the same work. cuDNN
// has no h-swish (neither alone nor fused into its batch norm), so our fused batch norm + h-swish
// and h-swish alone are timed without a yardstick.

#include <benchmark/benchmark.h>
#include <cudnn.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "kernels/cuda/ops/activation.cuh"
#include "kernels/cuda/ops/batch_norm.cuh"
#include "kernels/cuda/ops/pooling.cuh"
#include "tools/bench/cuda/bench_context.h"
#include "tools/bench/cuda/cudnn_descriptors.h"
#include "tools/bench/cuda/device_array.h"
#include "tools/bench/cuda/gpu_block_shapes.h"
#include "tools/bench/cuda/gpu_timing.h"

namespace ofa::cuda::yardstick {
namespace {

// The block's expanded activation [batch, size, size, mid].
struct MidTensor {
  int batch, size, channels;
  long long rows() const { return static_cast<long long>(batch) * size * size; }
  double bytes() const { return sizeof(float) * double(rows()) * channels; }
  TensorDescriptor descriptor() const { return nhwc_tensor(batch, size, size, channels); }
};

MidTensor mid_tensor(const BlockShape& b) { return {as_int(b.batch), as_int(b.size), as_int(b.mid())}; }

// Batch-norm parameters and statistics at the block's max width, as the supernet holds them.
struct BatchNormBuffers {
  BatchNormBuffers(const NvccLauncher& launcher, const MidTensor& t, int max_channels)
      : x(random_floats(launcher, std::size_t(t.rows()) * t.channels, 10)),
        dy(random_floats(launcher, x.size(), 11)),
        y(x.size()),
        dx(x.size()),
        gamma(random_floats(launcher, std::size_t(max_channels), 12, 0.5f, 1.5f)),
        beta(random_floats(launcher, gamma.size(), 13)),
        running_mean(zero_floats(gamma.size())),
        running_var(random_floats(launcher, gamma.size(), 14, 0.5f, 1.5f)),
        saved_mean(gamma.size()),
        saved_invstd(gamma.size()),
        dgamma(zero_floats(gamma.size())),
        dbeta(zero_floats(gamma.size())) {}
  DeviceArray<float> x, dy, y, dx, gamma, beta, running_mean, running_var, saved_mean, saved_invstd, dgamma, dbeta;
};

// Forward reads x and writes y; backward reads x and dy and writes dx.
double batch_norm_bytes(const MidTensor& t, bool backward) { return t.bytes() * (backward ? 3 : 2); }

void batch_norm_ours(benchmark::State& state, const BlockShape& block, Activation activation, bool backward) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  const MidTensor t = mid_tensor(block);
  BatchNormBuffers b(launcher, t, as_int(block.max_mid()));
  DeviceArray<char> workspace(batch_norm_workspace_bytes(t.rows(), t.channels));
  const BatchNormDeviceParams params{b.gamma.get(), b.beta.get(), b.running_mean.get(), b.running_var.get()};
  const BatchNormDeviceSaved saved{b.saved_mean.get(), b.saved_invstd.get()};
  const BatchNormDeviceGrads grads{b.dgamma.get(), b.dbeta.get()};
  const auto forward = [&] {
    batch_norm_train_forward(launcher, b.x.get(), t.rows(), t.channels, params, activation, b.y.get(), saved,
                             BatchNormConfig{}, workspace.get());
  };
  if (!backward) {
    time_on_device(state, context.stream(), forward);
  } else {
    forward();
    time_on_device(state, context.stream(), [&] {
      batch_norm_backward(launcher, b.x.get(), t.rows(), t.channels, params, saved, activation, b.dy.get(), b.dx.get(),
                          grads, workspace.get());
    });
  }
  count_bytes(state, batch_norm_bytes(t, backward));
}

// cuDNN's batch norm over N*H*W per channel of an NHWC tensor through the Ex API (the one with
// cuDNN's NHWC kernels), in the plain spatial mode or the persistent one, which is faster on
// some shapes and slower on others.
class CudnnBatchNorm {
 public:
  CudnnBatchNorm(cudnnHandle_t handle, const MidTensor& t, cudnnBatchNormMode_t mode)
      : handle_(handle), mode_(mode), x_(t.descriptor()) {
    check_cudnn(cudnnDeriveBNTensorDescriptor(params_.get(), x_.get(), mode_), "cudnnDeriveBNTensorDescriptor");
    std::size_t forward_bytes = 0, backward_bytes = 0, reserve_bytes = 0;
    check_cudnn(cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize(handle_, mode_, kOps, x_.get(), nullptr,
                                                                         x_.get(), params_.get(), nullptr,
                                                                         &forward_bytes),
                "cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize");
    check_cudnn(cudnnGetBatchNormalizationBackwardExWorkspaceSize(handle_, mode_, kOps, x_.get(), x_.get(), x_.get(),
                                                                  nullptr, x_.get(), params_.get(), nullptr,
                                                                  &backward_bytes),
                "cudnnGetBatchNormalizationBackwardExWorkspaceSize");
    check_cudnn(cudnnGetBatchNormalizationTrainingExReserveSpaceSize(handle_, mode_, kOps, nullptr, x_.get(),
                                                                     &reserve_bytes),
                "cudnnGetBatchNormalizationTrainingExReserveSpaceSize");
    workspace_ = DeviceArray<char>(std::max(forward_bytes, backward_bytes));
    reserve_ = DeviceArray<char>(reserve_bytes);
  }

  void forward(const BatchNormBuffers& b) const {
    const float one = 1.0f, zero = 0.0f;
    check_cudnn(cudnnBatchNormalizationForwardTrainingEx(
                    handle_, mode_, kOps, &one, &zero, x_.get(), b.x.get(), nullptr, nullptr, x_.get(), b.y.get(),
                    params_.get(), b.gamma.get(), b.beta.get(), kBatchNormMomentum, b.running_mean.get(),
                    b.running_var.get(), kBatchNormEps, b.saved_mean.get(), b.saved_invstd.get(), nullptr,
                    workspace_.get(), workspace_.bytes(), reserve_.get(), reserve_.bytes()),
                "cudnnBatchNormalizationForwardTrainingEx");
  }

  void backward(const BatchNormBuffers& b) const {
    const float one = 1.0f, zero = 0.0f;
    check_cudnn(cudnnBatchNormalizationBackwardEx(
                    handle_, mode_, kOps, &one, &zero, &one, &one, x_.get(), b.x.get(), x_.get(), b.y.get(), x_.get(),
                    b.dy.get(), nullptr, nullptr, x_.get(), b.dx.get(), params_.get(), b.gamma.get(), b.beta.get(),
                    b.dgamma.get(), b.dbeta.get(), kBatchNormEps, b.saved_mean.get(), b.saved_invstd.get(), nullptr,
                    workspace_.get(), workspace_.bytes(), reserve_.get(), reserve_.bytes()),
                "cudnnBatchNormalizationBackwardEx");
  }

 private:
  static constexpr cudnnBatchNormOps_t kOps = CUDNN_BATCHNORM_OPS_BN;
  cudnnHandle_t handle_;
  cudnnBatchNormMode_t mode_;
  TensorDescriptor x_, params_;
  DeviceArray<char> workspace_{0}, reserve_{0};
};

void batch_norm_cudnn(benchmark::State& state, const BlockShape& block, cudnnBatchNormMode_t mode, bool backward) {
  const BenchContext& context = BenchContext::current();
  const MidTensor t = mid_tensor(block);
  const BatchNormBuffers b(context.launcher(), t, t.channels);
  const CudnnBatchNorm bn(context.cudnn(), t, mode);
  if (backward) {
    bn.forward(b);
    time_on_device(state, context.stream(), [&] { bn.backward(b); });
  } else {
    time_on_device(state, context.stream(), [&] { bn.forward(b); });
  }
  count_bytes(state, batch_norm_bytes(t, backward));
}

// Forward reads x and writes y; backward reads x and dy and writes dx.
double activation_bytes(const MidTensor& t, bool backward) { return t.bytes() * (backward ? 3 : 2); }

void activation_ours(benchmark::State& state, const BlockShape& block, Activation activation, bool backward) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  const MidTensor t = mid_tensor(block);
  const long long n = t.rows() * t.channels;
  const DeviceArray<float> x = random_floats(launcher, std::size_t(n), 15, -4.0f, 4.0f);
  const DeviceArray<float> dy = random_floats(launcher, std::size_t(n), 16);
  DeviceArray<float> out{std::size_t(n)};
  time_on_device(state, context.stream(), [&] {
    if (backward) {
      activation_backward(launcher, activation, x.get(), dy.get(), n, out.get());
    } else {
      activation_forward(launcher, activation, x.get(), n, out.get());
    }
  });
  count_bytes(state, activation_bytes(t, backward));
}

void relu_cudnn(benchmark::State& state, const BlockShape& block, bool backward) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  const MidTensor t = mid_tensor(block);
  const std::size_t n = std::size_t(t.rows()) * t.channels;
  const DeviceArray<float> x = random_floats(launcher, n, 15, -4.0f, 4.0f);
  const DeviceArray<float> dy = random_floats(launcher, n, 16);
  DeviceArray<float> y(n), dx(n);
  const TensorDescriptor desc = t.descriptor();
  ActivationDescriptor relu;
  check_cudnn(cudnnSetActivationDescriptor(relu.get(), CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
              "cudnnSetActivationDescriptor");
  const float one = 1.0f, zero = 0.0f;
  const auto forward = [&] {
    check_cudnn(cudnnActivationForward(context.cudnn(), relu.get(), &one, desc.get(), x.get(), &zero, desc.get(),
                                       y.get()),
                "cudnnActivationForward");
  };
  if (!backward) {
    time_on_device(state, context.stream(), forward);
  } else {
    forward();
    time_on_device(state, context.stream(), [&] {
      check_cudnn(cudnnActivationBackward(context.cudnn(), relu.get(), &one, desc.get(), y.get(), desc.get(), dy.get(),
                                          desc.get(), x.get(), &zero, desc.get(), dx.get()),
                  "cudnnActivationBackward");
    });
  }
  count_bytes(state, activation_bytes(t, backward));
}

// Forward reads x (and writes [batch, channels]); backward writes dx (reading [batch, channels]).
double pool_bytes(const MidTensor& t) { return t.bytes() + double(sizeof(float)) * t.batch * t.channels; }

void pool_ours(benchmark::State& state, const BlockShape& block, bool backward) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  const MidTensor t = mid_tensor(block);
  const PoolShape s{t.batch, static_cast<long long>(t.size) * t.size, t.channels};
  const DeviceArray<float> x = random_floats(launcher, std::size_t(s.numel()), 17);
  const DeviceArray<float> dy = random_floats(launcher, std::size_t(t.batch) * t.channels, 18);
  DeviceArray<float> y(dy.size()), dx(x.size());
  DeviceArray<char> workspace(pool_workspace_bytes(s));
  time_on_device(state, context.stream(), [&] {
    if (backward) {
      global_avg_pool_backward(launcher, dy.get(), s, dx.get());
    } else {
      global_avg_pool_forward(launcher, x.get(), s, y.get(), workspace.get());
    }
  });
  count_bytes(state, pool_bytes(t));
}

void pool_cudnn(benchmark::State& state, const BlockShape& block, bool backward) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  const MidTensor t = mid_tensor(block);
  const std::size_t n = std::size_t(t.rows()) * t.channels;
  const DeviceArray<float> x = random_floats(launcher, n, 17);
  const DeviceArray<float> dy = random_floats(launcher, std::size_t(t.batch) * t.channels, 18);
  DeviceArray<float> y(dy.size()), dx(n);
  const TensorDescriptor x_desc = t.descriptor(), y_desc = nhwc_tensor(t.batch, 1, 1, t.channels);
  PoolingDescriptor pool;
  check_cudnn(cudnnSetPooling2dDescriptor(pool.get(), CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                                          CUDNN_NOT_PROPAGATE_NAN, t.size, t.size, 0, 0, t.size, t.size),
              "cudnnSetPooling2dDescriptor");
  const float one = 1.0f, zero = 0.0f;
  const auto forward = [&] {
    check_cudnn(cudnnPoolingForward(context.cudnn(), pool.get(), &one, x_desc.get(), x.get(), &zero, y_desc.get(),
                                    y.get()),
                "cudnnPoolingForward");
  };
  if (!backward) {
    time_on_device(state, context.stream(), forward);
  } else {
    forward();
    time_on_device(state, context.stream(), [&] {
      check_cudnn(cudnnPoolingBackward(context.cudnn(), pool.get(), &one, y_desc.get(), y.get(), y_desc.get(), dy.get(),
                                       x_desc.get(), x.get(), &zero, x_desc.get(), dx.get()),
                  "cudnnPoolingBackward");
    });
  }
  count_bytes(state, pool_bytes(t));
}

// Pooled: the squeeze of stage 2's SE (240 channels at 28x28) and of stage 5's, which is also the
// head's pool (960 channels at 7x7).
bool pooled(const BlockShape& b) { return b.stride == 1 && (b.channels == 40 || b.channels == 160); }

int register_norm_cases() {
  for (const BlockShape& block : kGpuBlockShapes)
    for (const bool backward : {false, true}) {
      const std::string direction = backward ? "_bwd" : "_fwd";
      register_case("BatchNorm_train" + direction, block.name, kOurs, [block, backward](benchmark::State& state) {
        batch_norm_ours(state, block, Activation::none, backward);
      });
      register_case("BatchNorm_train" + direction, block.name, "cudnn", [block, backward](benchmark::State& state) {
        batch_norm_cudnn(state, block, CUDNN_BATCHNORM_SPATIAL, backward);
      });
      register_case("BatchNorm_train" + direction, block.name, "cudnn_persistent",
                    [block, backward](benchmark::State& state) {
                      batch_norm_cudnn(state, block, CUDNN_BATCHNORM_SPATIAL_PERSISTENT, backward);
                    });
      register_case("BatchNormHswish_train" + direction, block.name, kOurs, [block, backward](benchmark::State& state) {
        batch_norm_ours(state, block, Activation::hswish, backward);
      });
      if (block.stride != 1 || block.expand != block.max_expand) continue;
      register_case("Relu" + direction, block.name, kOurs, [block, backward](benchmark::State& state) {
        activation_ours(state, block, Activation::relu, backward);
      });
      register_case("Relu" + direction, block.name, "cudnn",
                    [block, backward](benchmark::State& state) { relu_cudnn(state, block, backward); });
      register_case("Hswish" + direction, block.name, kOurs, [block, backward](benchmark::State& state) {
        activation_ours(state, block, Activation::hswish, backward);
      });
      if (!pooled(block)) continue;
      register_case("GlobalAvgPool" + direction, block.name, kOurs,
                    [block, backward](benchmark::State& state) { pool_ours(state, block, backward); });
      register_case("GlobalAvgPool" + direction, block.name, "cudnn",
                    [block, backward](benchmark::State& state) { pool_cudnn(state, block, backward); });
    }
  return 0;
}

[[maybe_unused]] const int norm_cases_registered = register_norm_cases();

}  // namespace
}  // namespace ofa::cuda::yardstick
