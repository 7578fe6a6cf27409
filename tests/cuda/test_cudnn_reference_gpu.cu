#include <gtest/gtest.h>

// Our convolution and batch-norm kernels against cuDNN on the same device buffers (cuDNN's weight
// layout differs only for the depthwise kernel, transposed on the host). cuDNN runs in strict
// FP32 (CUDNN_FMA_MATH); both sides sum in different orders, so an entry matches when it is
// within kRelative of the largest |cuDNN| entry of its tensor plus kRelative of itself.
// Skipped without a device, and without cuDNN at configure time.

#ifdef OFA_WITH_CUDNN

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "kernels/cuda/ops/batch_norm.cuh"
#include "kernels/cuda/ops/conv_instances.cuh"
#include "tests/cuda/compare.h"
#include "tests/cuda/demo_cases.h"
#include "tests/cuda/device_buffer.h"
#include "tools/bench/cuda/cudnn_convolution.h"
#include "tools/bench/cuda/cudnn_descriptors.h"

namespace ofa::cuda::testing {
namespace {

using yardstick::ConvolutionGeometry;
using yardstick::CudnnConvolution;
using yardstick::CudnnHandle;

constexpr double kRelative = 1e-4;

bool have_gpu() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

void expect_matches_cudnn(const std::vector<float>& ours, const std::vector<float>& cudnn, const std::string& what) {
  double largest = 0.0;
  for (const float v : cudnn) largest = std::max(largest, double(std::abs(v)));
  expect_all_close(ours, std::vector<double>(cudnn.begin(), cudnn.end()), kRelative * largest, kRelative, what);
}

std::vector<float> zeros(std::size_t count) { return std::vector<float>(count, 0.0f); }

class CudnnReference : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
    cudnn.emplace();
  }
  const NvccLauncher launcher;
  std::optional<CudnnHandle> cudnn;
};

std::string conv_name(const char* op, int kernel, int stride) {
  return std::string(op) + " k" + std::to_string(kernel) + " s" + std::to_string(stride);
}

TEST_F(CudnnReference, DenseConvMatchesCudnn) {
  std::vector<DenseConvShape> shapes = {{8, 64, 64, 3, 16, 3, 2}};  // the stem
  for (const int kernel : {1, 3, 5})
    for (const int stride : {1, 2}) shapes.push_back({4, 23, 19, 5, 12, kernel, stride});
  for (const DenseConvShape& s : shapes) {
    const std::string name = conv_name("dense", s.kernel, s.stride) + " cin " + std::to_string(s.in_channels);
    const std::size_t x_count = std::size_t(s.batch) * s.height * s.width * s.in_channels;
    const std::size_t y_count = std::size_t(s.output_pixels()) * s.out_channels;
    const std::size_t w_count = std::size_t(s.out_channels) * s.filter_size();
    const DeviceBuffer<float> x(random_floats(x_count, 1)), w(random_floats(w_count, 2)), dy(random_floats(y_count, 3));
    const DeviceBuffer<float> y(y_count), dx(x_count), dw(zeros(w_count)), workspace(dense_conv_backward_workspace(s));
    const DeviceBuffer<float> y_ref(y_count), dx_ref(x_count), dw_ref(w_count);
    dense_conv_forward(launcher, x.get(), w.get(), y.get(), s);
    dense_conv_backward(launcher, x.get(), w.get(), dy.get(), dx.get(), dw.get(), workspace.get(), s);

    const CudnnConvolution conv(cudnn->get(), {s.batch, s.height, s.width, s.in_channels, s.out_channels, s.kernel,
                                               s.stride, 1});
    const DeviceBuffer<char> cudnn_workspace(conv.workspace_bytes());
    conv.forward(x.get(), w.get(), y_ref.get(), cudnn_workspace.get());
    conv.backward_data(w.get(), dy.get(), dx_ref.get(), cudnn_workspace.get());
    conv.backward_filter(x.get(), dy.get(), dw_ref.get(), cudnn_workspace.get(), 0.0f);

    expect_matches_cudnn(y.to_host(), y_ref.to_host(), name + " forward");
    expect_matches_cudnn(dx.to_host(), dx_ref.to_host(), name + " input gradient");
    expect_matches_cudnn(dw.to_host(), dw_ref.to_host(), name + " weight gradient");
  }
}

// Ours [k][k][C] <-> cuDNN's grouped filter [C][k][k][1].
std::vector<float> taps_by_channel(const std::vector<float>& taps_first, int taps, int channels) {
  std::vector<float> out(taps_first.size());
  for (int t = 0; t < taps; ++t)
    for (int c = 0; c < channels; ++c) out[std::size_t(c) * taps + t] = taps_first[std::size_t(t) * channels + c];
  return out;
}

std::vector<float> taps_first(const std::vector<float>& by_channel, int taps, int channels) {
  std::vector<float> out(by_channel.size());
  for (int t = 0; t < taps; ++t)
    for (int c = 0; c < channels; ++c) out[std::size_t(t) * channels + c] = by_channel[std::size_t(c) * taps + t];
  return out;
}

TEST_F(CudnnReference, DepthwiseConvMatchesCudnnGroupedConv) {
  for (const int kernel : {3, 5, 7})
    for (const int stride : {1, 2}) {
      const DepthwiseConvShape s{4, 29, 31, 40, kernel, stride};
      const std::string name = conv_name("depthwise", kernel, stride);
      const int taps = kernel * kernel;
      const std::size_t x_count = std::size_t(s.batch) * s.height * s.width * s.channels;
      const std::size_t y_count = std::size_t(s.batch) * s.out_height() * s.out_width() * s.channels;
      const std::vector<float> w_host = random_floats(std::size_t(taps) * s.channels, 5);
      const DeviceBuffer<float> x(random_floats(x_count, 4)), dy(random_floats(y_count, 6)), w(w_host);
      const DeviceBuffer<float> w_ref(taps_by_channel(w_host, taps, s.channels));
      const DeviceBuffer<float> y(y_count), dx(x_count), dw(zeros(w_host.size()));
      const DeviceBuffer<float> workspace(depthwise_conv_backward_workspace(s));
      const DeviceBuffer<float> y_ref(y_count), dx_ref(x_count), dw_ref(w_host.size());
      depthwise_conv_forward(launcher, x.get(), w.get(), s.channels, y.get(), s);
      depthwise_conv_backward(launcher, x.get(), w.get(), s.channels, dy.get(), dx.get(), dw.get(), workspace.get(), s);

      const CudnnConvolution conv(cudnn->get(), {s.batch, s.height, s.width, s.channels, s.channels, kernel, stride,
                                                 s.channels});
      const DeviceBuffer<char> cudnn_workspace(conv.workspace_bytes());
      conv.forward(x.get(), w_ref.get(), y_ref.get(), cudnn_workspace.get());
      conv.backward_data(w_ref.get(), dy.get(), dx_ref.get(), cudnn_workspace.get());
      conv.backward_filter(x.get(), dy.get(), dw_ref.get(), cudnn_workspace.get(), 0.0f);

      expect_matches_cudnn(y.to_host(), y_ref.to_host(), name + " forward");
      expect_matches_cudnn(dx.to_host(), dx_ref.to_host(), name + " input gradient");
      expect_matches_cudnn(dw.to_host(), taps_first(dw_ref.to_host(), taps, s.channels), name + " kernel gradient");
    }
}

TEST_F(CudnnReference, PointwiseConvMatchesCudnn1x1Conv) {
  for (const PointwiseConvShape& s : {PointwiseConvShape{4, 9, 11, 40, 72, 40}, PointwiseConvShape{4, 14, 14, 144, 24, 144},
                                      PointwiseConvShape{3, 5, 7, 13, 7, 13}}) {
    const std::string name = "pointwise " + std::to_string(s.in) + " -> " + std::to_string(s.out);
    const std::size_t pixels = std::size_t(s.batch) * s.height * s.width;
    const std::size_t w_count = std::size_t(s.out) * s.in;
    const DeviceBuffer<float> x(random_floats(pixels * s.in, 7)), w(random_floats(w_count, 8));
    const DeviceBuffer<float> dy(random_floats(pixels * s.out, 9));
    const DeviceBuffer<float> y(pixels * s.out), dx(pixels * s.in), dw(zeros(w_count));
    const DeviceBuffer<float> workspace(pointwise_conv_backward_workspace(s));
    const DeviceBuffer<float> y_ref(pixels * s.out), dx_ref(pixels * s.in), dw_ref(w_count);
    pointwise_conv_forward(launcher, x.get(), w.get(), y.get(), s);
    pointwise_conv_backward(launcher, x.get(), w.get(), dy.get(), dx.get(), dw.get(), workspace.get(), s);

    const CudnnConvolution conv(cudnn->get(), {s.batch, s.height, s.width, s.in, s.out, 1, 1, 1});
    const DeviceBuffer<char> cudnn_workspace(conv.workspace_bytes());
    conv.forward(x.get(), w.get(), y_ref.get(), cudnn_workspace.get());
    conv.backward_data(w.get(), dy.get(), dx_ref.get(), cudnn_workspace.get());
    conv.backward_filter(x.get(), dy.get(), dw_ref.get(), cudnn_workspace.get(), 0.0f);

    expect_matches_cudnn(y.to_host(), y_ref.to_host(), name + " forward");
    expect_matches_cudnn(dx.to_host(), dx_ref.to_host(), name + " input gradient");
    expect_matches_cudnn(dw.to_host(), dw_ref.to_host(), name + " weight gradient");
  }
}

// Training-mode batch norm (no activation: cuDNN has no h-swish) with cuDNN's spatial mode:
// output, saved mean and inverse standard deviation, running statistics (cuDNN's exponential
// average factor is our momentum; both update the running variance with the unbiased one), and
// the input, gamma and beta gradients.
TEST_F(CudnnReference, BatchNormMatchesCudnn) {
  for (const int channels : {72, 40, 7}) {
    const int batch = 8, size = 15;
    const long long rows = static_cast<long long>(batch) * size * size;
    const std::string name = "batch norm " + std::to_string(channels) + " channels";
    const std::size_t n = std::size_t(rows) * channels, c = std::size_t(channels);
    const BatchNormConfig config{};
    const std::vector<float> gamma_host = random_floats(c, 12, 0.5f, 1.5f), beta_host = random_floats(c, 13);
    const DeviceBuffer<float> x(random_floats(n, 10, 1.0f, 3.0f)), dy(random_floats(n, 11));
    const DeviceBuffer<float> gamma(gamma_host), beta(beta_host);
    const DeviceBuffer<float> y(n), dx(n), mean(c), invstd(c), dgamma(zeros(c)), dbeta(zeros(c));
    const DeviceBuffer<float> running_mean(zeros(c)), running_var(std::vector<float>(c, 1.0f));
    const DeviceBuffer<char> workspace(batch_norm_workspace_bytes(rows, channels));
    const BatchNormDeviceParams params{gamma.get(), beta.get(), running_mean.get(), running_var.get()};
    const BatchNormDeviceSaved saved{mean.get(), invstd.get()};
    batch_norm_train_forward(launcher, x.get(), rows, channels, params, Activation::none, y.get(), saved, config,
                             workspace.get());
    batch_norm_backward(launcher, x.get(), rows, channels, params, saved, Activation::none, dy.get(), dx.get(),
                        BatchNormDeviceGrads{dgamma.get(), dbeta.get()}, workspace.get());

    const DeviceBuffer<float> y_ref(n), dx_ref(n), mean_ref(c), invstd_ref(c), dgamma_ref(c), dbeta_ref(c);
    const DeviceBuffer<float> running_mean_ref(zeros(c)), running_var_ref(std::vector<float>(c, 1.0f));
    const yardstick::TensorDescriptor x_desc = yardstick::nhwc_tensor(batch, size, size, channels);
    yardstick::TensorDescriptor param_desc;
    yardstick::check_cudnn(cudnnDeriveBNTensorDescriptor(param_desc.get(), x_desc.get(), CUDNN_BATCHNORM_SPATIAL),
                           "cudnnDeriveBNTensorDescriptor");
    const float one = 1.0f, zero = 0.0f;
    yardstick::check_cudnn(
        cudnnBatchNormalizationForwardTraining(cudnn->get(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, x_desc.get(), x.get(),
                                               x_desc.get(), y_ref.get(), param_desc.get(), gamma.get(), beta.get(),
                                               config.momentum, running_mean_ref.get(), running_var_ref.get(),
                                               config.eps, mean_ref.get(), invstd_ref.get()),
        "cudnnBatchNormalizationForwardTraining");
    yardstick::check_cudnn(
        cudnnBatchNormalizationBackward(cudnn->get(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, x_desc.get(),
                                        x.get(), x_desc.get(), dy.get(), x_desc.get(), dx_ref.get(), param_desc.get(),
                                        gamma.get(), dgamma_ref.get(), dbeta_ref.get(), config.eps, mean_ref.get(),
                                        invstd_ref.get()),
        "cudnnBatchNormalizationBackward");

    expect_matches_cudnn(y.to_host(), y_ref.to_host(), name + " output");
    expect_matches_cudnn(mean.to_host(), mean_ref.to_host(), name + " batch mean");
    expect_matches_cudnn(invstd.to_host(), invstd_ref.to_host(), name + " inverse standard deviation");
    expect_matches_cudnn(running_mean.to_host(), running_mean_ref.to_host(), name + " running mean");
    expect_matches_cudnn(running_var.to_host(), running_var_ref.to_host(), name + " running variance");
    expect_matches_cudnn(dx.to_host(), dx_ref.to_host(), name + " input gradient");
    expect_matches_cudnn(dgamma.to_host(), dgamma_ref.to_host(), name + " gamma gradient");
    expect_matches_cudnn(dbeta.to_host(), dbeta_ref.to_host(), name + " beta gradient");
  }
}

}  // namespace
}  // namespace ofa::cuda::testing

#else

TEST(CudnnReference, NeedsCudnn) { GTEST_SKIP() << "built without cuDNN (not found at configure time)"; }

#endif
