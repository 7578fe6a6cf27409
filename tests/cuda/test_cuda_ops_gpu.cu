#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/cuda/nvcc_launcher.cuh"
#include "tests/cuda/conv_op_cases.h"
#include "tests/cuda/norm_loss_cases.h"

// Every op kernel on a real GPU against the CPU op library: the emulated tests' cases plus
// MobileNetV3-sized shapes (`large`) that only a GPU runs quickly. Skipped without a device;
// tools/scripts/gpu-check.sh runs them where a GPU is lent.

namespace ofa::cuda::testing {
namespace {

bool have_gpu() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

class OpKernelsOnGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  }
  const NvccLauncher launcher;
};

// nvcc contracts multiply-adds and the kernels sum in other orders than the CPU ops.
constexpr double kTolerance = 2e-5;
constexpr bool kLarge = true;

TEST_F(OpKernelsOnGpu, BatchNormMatchesCpu) { check_batch_norm(launcher, kLarge, kTolerance); }
TEST_F(OpKernelsOnGpu, ActivationsMatchCpu) { check_activations(launcher, kLarge, kTolerance); }
TEST_F(OpKernelsOnGpu, ResidualAddMatchesCpu) { check_residual_add(launcher, kLarge); }
TEST_F(OpKernelsOnGpu, DropoutMaskEqualsCpu) { check_dropout(launcher, kLarge); }
TEST_F(OpKernelsOnGpu, PoolingAndChannelScaleMatchCpu) { check_pooling(launcher, kLarge, kTolerance); }
TEST_F(OpKernelsOnGpu, SqueezeExciteMatchesCpu) { check_squeeze_excite(launcher, kLarge, kTolerance); }
TEST_F(OpKernelsOnGpu, BilinearResizeMatchesCpu) { check_bilinear_resize(launcher, kLarge, kTolerance); }
TEST_F(OpKernelsOnGpu, CrossEntropyMatchesCpu) { check_cross_entropy(launcher, kLarge, kTolerance); }
TEST_F(OpKernelsOnGpu, DistillationMatchesCpu) { check_distillation(launcher, kLarge, kTolerance); }
TEST_F(OpKernelsOnGpu, AccuracyCountsEqualCpu) { check_accuracy(launcher, kLarge); }
TEST_F(OpKernelsOnGpu, SgdMatchesCpu) { check_sgd(launcher, kLarge, kTolerance); }

TEST_F(OpKernelsOnGpu, LinearMatchesCpu) {
  const LinearCase cases[] = {{64, 1280, 10, 1280, 10, true, true}, {100, 70, 37, 75, 40, true, true},
                              {4096, 960, 1280, 960, 1280, false, true}};
  for (unsigned i = 0; i < std::size(cases); ++i) expect_linear_matches_cpu(launcher, cases[i], 1e-4, i);
}

TEST_F(OpKernelsOnGpu, PointwiseConvMatchesCpu) {
  const PointwiseCase cases[] = {{64, 28, 28, 40, 240, 40, 240}, {64, 14, 14, 160, 93, 160, 120},
                                 {3, 9, 11, 13, 7, 16, 12}};
  for (unsigned i = 0; i < std::size(cases); ++i) expect_pointwise_conv_matches_cpu(launcher, cases[i], 1e-4, i);
}

TEST_F(OpKernelsOnGpu, DenseConvMatchesCpu) {
  for (const int kernel : {1, 3, 5})
    for (const int stride : {1, 2})
      expect_dense_conv_matches_cpu(launcher, {16, 57, 43, 3, 16, 16, kernel, stride}, 1e-4,
                                    unsigned(kernel * 10 + stride));
}

TEST_F(OpKernelsOnGpu, DepthwiseConvMatchesCpu) {
  for (const int kernel : {3, 5, 7})
    for (const int stride : {1, 2})
      expect_depthwise_conv_matches_cpu(launcher, {16, 29, 31, 200, 240, kernel, stride, true}, 1e-4,
                                        unsigned(kernel * 10 + stride));
}

TEST_F(OpKernelsOnGpu, ElasticDepthwiseConvMatchesCpu) {
  for (const int kernel : {7, 5, 3})
    for (const int stride : {1, 2}) {
      const ElasticDepthwiseCase c{{{7, 5, 3}, kernel, 150, 160}, 16, 28, 28, stride};
      expect_elastic_depthwise_conv_matches_cpu(launcher, c, 1e-4, unsigned(kernel * 10 + stride));
    }
}

}  // namespace
}  // namespace ofa::cuda::testing
