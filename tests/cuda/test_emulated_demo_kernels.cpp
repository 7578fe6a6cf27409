#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cuda/demo/block_sum.cuh"
#include "kernels/cuda/demo/depthwise_conv.cuh"
#include "kernels/cuda/demo/tiled_gemm.cuh"
#include "tests/cuda/compare.h"
#include "tests/cuda/demo_cases.h"
#include "tests/cuda/thread_order.h"

// The demonstration kernels' real source, run by the emulator and compared with CPU loops.

namespace ofa::cuda::testing {
namespace {

class EmulatedDemoKernels : public BothThreadOrders {};
OFA_IN_BOTH_THREAD_ORDERS(EmulatedDemoKernels);

const EmulatedLauncher launcher;

TEST_P(EmulatedDemoKernels, TiledGemmMatchesLoopOnRaggedAndTiledShapes) {
  for (const GemmShape s : {GemmShape{100, 70, 37}, GemmShape{1, 1, 1}, GemmShape{17, 33, 16}, GemmShape{256, 256, 256}}) {
    const std::vector<float> a = random_floats(std::size_t(s.m * s.k), 1), b = random_floats(std::size_t(s.k * s.n), 2);
    const std::vector<float> c = run_gemm(s, a, b, [&](const float* da, const float* db, float* dc) {
      demo::tiled_gemm(launcher, da, db, dc, s.m, s.n, s.k);
    });
    expect_all_close(c, reference_gemm(s, a, b), 1e-5 * s.k, 1e-5,
                     "gemm " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k));
  }
}

TEST_P(EmulatedDemoKernels, BlockSumMatchesLoopForEveryBlockSize) {
  for (const int threads : {96, 256, 1024})
    for (const int n : {1, 1000, 100003}) {
      const std::vector<float> x = random_floats(std::size_t(n), unsigned(n), 0.0f, 1.0f);
      const float total =
          run_sum(x, [&](const float* dx, float* dsum) { demo::block_sum(launcher, dx, n, dsum, threads); });
      EXPECT_NEAR(total, reference_sum(x), 1e-5 * n) << threads << " threads, n " << n;
    }
}

TEST_P(EmulatedDemoKernels, DepthwiseConvMatchesLoopForEveryKernelAndStride) {
  for (const int kernel : {3, 5, 7})
    for (const int stride : {1, 2}) {
      // 40 channels: a full group of 32 and a partial one; 13 x 11: partial output tiles.
      const demo::DepthwiseShape s{2, 13, 11, 40, kernel, stride};
      const std::vector<float> x = random_floats(input_size(s), 3), w = random_floats(std::size_t(kernel * kernel * 40), 4);
      const std::vector<float> y = run_depthwise(s, x, w, [&](const float* dx, const float* dw, float* dy) {
        demo::depthwise_conv(launcher, dx, dw, dy, s);
      });
      expect_all_close(y, reference_depthwise(s, x, w), 1e-5, 1e-5,
                       "depthwise k" + std::to_string(kernel) + " s" + std::to_string(stride));
    }
}

}  // namespace
}  // namespace ofa::cuda::testing
