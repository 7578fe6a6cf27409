#include <gtest/gtest.h>

#include "kernels/cuda/backend.h"
#include "kernels/error.h"
#include "tests/supernet/device_training.h"

// The emulated device-training test's steps on a real GPU (the gpu backend) against the cpu.
// Skipped without a device; tools/scripts/gpu-check.sh runs it where a GPU is lent.
namespace ofa {
namespace {

class SupernetTrainingOnGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda::gpu_backend() == nullptr) GTEST_SKIP() << "no CUDA device (or a build without the gpu backend)";
    cuda::use_backend(*cuda::gpu_backend());
  }
  void TearDown() override {
    if (cuda::gpu_backend() == nullptr) return;
    EXPECT_EQ(cuda::gpu_backend()->allocator.stats().bytes_in_use, 0u) << "a cuda tensor outlived the test";
    cuda::use_backend(cuda::emulated_backend());
  }
};

// As on the emulated backend, but nvcc contracts multiply-adds into FMAs, so the tolerance is
// looser (1e-4 of each tensor's scale after six steps).
TEST_F(SupernetTrainingOnGpu, TrainingStepsMatchTheCpuWithoutAllocating) {
  const testing::TrainingComparison result = testing::train_on_both();
  EXPECT_EQ(result.repeated_cycle_allocations, 0u) << "a step after warm-up called cudaMalloc";
  EXPECT_NEAR(result.on_device.loss, result.on_cpu.loss, 1e-4 * result.on_cpu.loss);
  RecordProperty("max_relative_weight_difference", concat(result.weights));
  RecordProperty("max_relative_momentum_difference", concat(result.momentum));
  EXPECT_LE(result.weights, 1e-4);
  EXPECT_LE(result.momentum, 1e-4);
}

}  // namespace
}  // namespace ofa
