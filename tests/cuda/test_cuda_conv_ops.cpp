#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/error.h"
#include "tests/cuda/conv_op_cases.h"
#include "tests/cuda/thread_order.h"

// The convolution-family CUDA kernels' real source, run by the emulator in both thread orders
// and compared with the CPU op library: random shapes with odd sizes and sizes that are not
// multiples of the tiles, every kernel size and stride, active prefixes of max-size weights, and
// shapes big enough that every reduction runs in several chunks.

namespace ofa::cuda::testing {
namespace {

class EmulatedConvOps : public BothThreadOrders {};
OFA_IN_BOTH_THREAD_ORDERS(EmulatedConvOps);

const EmulatedLauncher launcher;
constexpr double kTolerance = 1e-5;

TEST_P(EmulatedConvOps, LinearMatchesCpuOnRaggedPrefixes) {
  std::vector<LinearCase> cases = {
      {1, 1, 1, 1, 1, true, true},
      {64, 64, 64, 64, 64, false, true},       // whole tiles
      {100, 70, 37, 75, 40, true, true},       // ragged tiles in every dimension
      {1000, 20, 10, 33, 12, true, false},     // dweight in several k slices, dbias in several chunks
      {300, 130, 3, 130, 7, false, false},
  };
  std::mt19937 rng(11);
  for (int i = 0; i < 3; ++i) {
    const int in = draw(rng, 1, 90), out = draw(rng, 1, 90);
    cases.push_back({draw(rng, 1, 200), in, out, in + draw(rng, 0, 7), out + draw(rng, 0, 7), i % 2 == 0, true});
  }
  for (std::size_t i = 0; i < cases.size(); ++i) expect_linear_matches_cpu(launcher, cases[i], kTolerance, unsigned(i));
}

TEST_P(EmulatedConvOps, PointwiseConvMatchesCpuOnRaggedPrefixes) {
  std::vector<PointwiseCase> cases = {{2, 5, 7, 13, 9, 16, 12}, {1, 1, 1, 1, 1, 1, 1}};
  std::mt19937 rng(12);
  for (int i = 0; i < 2; ++i) {
    const int in = draw(rng, 1, 80), out = draw(rng, 1, 80);
    cases.push_back(
        {draw(rng, 1, 3), draw(rng, 1, 9), draw(rng, 1, 9), in, out, in + draw(rng, 0, 9), out + draw(rng, 0, 9)});
  }
  for (std::size_t i = 0; i < cases.size(); ++i)
    expect_pointwise_conv_matches_cpu(launcher, cases[i], kTolerance, unsigned(i));
}

TEST_P(EmulatedConvOps, DenseConvMatchesCpuForEveryKernelAndStride) {
  std::mt19937 rng(13);
  for (const int kernel : {1, 3, 5})
    for (const int stride : {1, 2}) {
      const int out = draw(rng, 1, 12);
      const DenseCase c{draw(rng, 1, 2), draw(rng, 3, 14), draw(rng, 3, 14), draw(rng, 1, 4), out,
                        out + draw(rng, 0, 4), kernel, stride};
      expect_dense_conv_matches_cpu(launcher, c, kTolerance, unsigned(kernel * 10 + stride));
    }
}

TEST_P(EmulatedConvOps, DepthwiseConvMatchesCpuForEveryKernelAndStride) {
  std::mt19937 rng(14);
  for (const int kernel : {3, 5, 7})
    for (const int stride : {1, 2}) {
      const int channels = draw(rng, 1, 70);
      const DepthwiseCase c{draw(rng, 1, 2), draw(rng, 4, 15), draw(rng, 4, 15), channels, channels + draw(rng, 0, 9),
                            kernel, stride, kernel != 5};
      expect_depthwise_conv_matches_cpu(launcher, c, kTolerance, unsigned(kernel * 10 + stride));
    }
}

// 17 channel groups leave each kernel-gradient block at most 30 chunks, fewer than the 32
// output tiles of two 25 x 25 images: some blocks sum two tiles before writing their partials.
TEST_P(EmulatedConvOps, DepthwiseKernelGradientSumsSeveralTilesPerChunk) {
  expect_depthwise_conv_matches_cpu(launcher, {2, 25, 25, 520, 530, 7, 1, true}, kTolerance, 1);
  expect_depthwise_conv_matches_cpu(launcher, {2, 25, 25, 520, 520, 3, 2, true}, kTolerance, 2);
}

TEST_P(EmulatedConvOps, ElasticKernelMatchesCpuForEverySizeList) {
  using Sizes = std::vector<std::int64_t>;
  std::mt19937 rng(15);
  for (const Sizes& sizes : {Sizes{7, 5, 3}, Sizes{7, 3}, Sizes{5, 3}, Sizes{7}, Sizes{9, 7, 5, 3}})
    for (const std::int64_t kernel : sizes) {
      const int channels = draw(rng, 1, 70);
      expect_elastic_kernel_matches_cpu(launcher, {sizes, int(kernel), channels, channels + draw(rng, 0, 9)},
                                        kTolerance, unsigned(kernel));
    }
}

TEST_P(EmulatedConvOps, ElasticDepthwiseConvMatchesCpuForEveryKernelAndStride) {
  std::mt19937 rng(16);
  for (const int kernel : {7, 5, 3})
    for (const int stride : {1, 2}) {
      const int channels = draw(rng, 1, 40);
      const ElasticDepthwiseCase c{
          {{7, 5, 3}, kernel, channels, channels + draw(rng, 0, 9)}, 2, draw(rng, 3, 12), draw(rng, 3, 12), stride};
      expect_elastic_depthwise_conv_matches_cpu(launcher, c, kTolerance, unsigned(kernel * 10 + stride));
    }
}

// The host wrappers refuse what their kernels cannot run before touching memory.
TEST(EmulatedConvOpsChecks, RejectShapesTheKernelsCannotRun) {
  const DeviceBuffer<float> buffer(4);
  float* const p = buffer.get();
  EXPECT_THROW(depthwise_conv_forward(launcher, p, p, 9, p, DepthwiseConvShape{1, 4, 4, 9, 9, 1}), Error);
  EXPECT_THROW(depthwise_conv_forward(launcher, p, p, 8, p, DepthwiseConvShape{1, 4, 4, 9, 3, 1}), Error);
  EXPECT_THROW(depthwise_conv_forward(launcher, p, p, 9, p, DepthwiseConvShape{1, 4, 4, 9, 3, 3}), Error);
  EXPECT_THROW(linear_forward(launcher, p, p, nullptr, p, LinearShape{4, 5, 2, 4}), Error);
  EXPECT_THROW(dense_conv_forward(launcher, p, p, p, DenseConvShape{1, 4, 4, 3, 8, 4, 1}), Error);
  const std::vector<std::int64_t> sizes = {7, 5, 3};
  EXPECT_THROW(elastic_kernel_shape(sizes, 1, 4, 4), Error);
  EXPECT_THROW(elastic_kernel_shape(sizes, 3, 5, 4), Error);
}

}  // namespace
}  // namespace ofa::cuda::testing
