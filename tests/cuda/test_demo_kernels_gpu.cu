#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cuda/demo/nvcc_instances.cuh"
#include "tests/cuda/compare.h"
#include "tests/cuda/demo_cases.h"

// The demonstration kernels on a real GPU, against the same CPU loops as the emulated tests.
// Skipped where no device is present (CI); tools run them where a GPU is lent.

namespace ofa::cuda::testing {
namespace {

bool have_gpu() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

class DemoKernelsOnGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  }
  const NvccLauncher launcher;
};

// nvcc contracts a*b+c into FMAs differently from the emulated build: tolerances, not equality.
TEST_F(DemoKernelsOnGpu, TiledGemmMatchesLoop) {
  for (const GemmShape s : {GemmShape{100, 70, 37}, GemmShape{256, 256, 256}, GemmShape{1000, 300, 129}}) {
    const std::vector<float> a = random_floats(std::size_t(s.m * s.k), 1), b = random_floats(std::size_t(s.k * s.n), 2);
    const std::vector<float> c = run_gemm(s, a, b, [&](const float* da, const float* db, float* dc) {
      demo::tiled_gemm(launcher, da, db, dc, s.m, s.n, s.k);
    });
    expect_all_close(c, reference_gemm(s, a, b), 1e-5 * s.k, 1e-5,
                     "gemm " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k));
  }
}

TEST_F(DemoKernelsOnGpu, BlockSumMatchesLoop) {
  for (const int threads : {96, 256, 1024})
    for (const int n : {1, 100003, 10000000}) {
      const std::vector<float> x = random_floats(std::size_t(n), unsigned(n), 0.0f, 1.0f);
      const float total =
          run_sum(x, [&](const float* dx, float* dsum) { demo::block_sum(launcher, dx, n, dsum, threads); });
      EXPECT_NEAR(total, reference_sum(x), 1e-5 * n) << threads << " threads, n " << n;
    }
}

TEST_F(DemoKernelsOnGpu, DepthwiseConvMatchesLoop) {
  for (const int kernel : {3, 5, 7})
    for (const int stride : {1, 2}) {
      const demo::DepthwiseShape s{4, 57, 43, 72, kernel, stride};
      const std::vector<float> x = random_floats(input_size(s), 3), w = random_floats(std::size_t(kernel * kernel * 72), 4);
      const std::vector<float> y = run_depthwise(s, x, w, [&](const float* dx, const float* dw, float* dy) {
        demo::depthwise_conv(launcher, dx, dw, dy, s);
      });
      expect_all_close(y, reference_depthwise(s, x, w), 1e-5, 1e-5,
                       "depthwise k" + std::to_string(kernel) + " s" + std::to_string(stride));
    }
}

}  // namespace
}  // namespace ofa::cuda::testing
