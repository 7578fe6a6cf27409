#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/cuda/compare.h"
#include "tests/cuda/demo_cases.h"
#include "tests/cuda/planted_bugs.cuh"
#include "tests/cuda/thread_order.h"

// Bugs planted on purpose: a test of the emulator is that each one turns red.

namespace ofa::cuda::testing {
namespace {

const EmulatedLauncher launcher;

std::vector<float> gemm_with_missing_barrier(const GemmShape& s, const std::vector<float>& a,
                                             const std::vector<float>& b) {
  return run_gemm(s, a, b, [&](const float* da, const float* db, float* dc) {
    planted::gemm_missing_barrier(launcher, da, db, dc, s.m, s.n, s.k);
  });
}

std::vector<float> neighbour_sums(const std::vector<float>& x, int threads) {
  const DeviceBuffer<float> dx(x), dy(x.size());
  launcher.launch(planted::neighbour_sum_missing_barrier_kernel<float>, dim3(unsigned(int(x.size()) / threads)),
                  dim3(unsigned(threads)), threads * sizeof(float), dx.get(), dy.get());
  return dy.to_host();
}

std::vector<double> reference_neighbour_sums(const std::vector<float>& x, int threads) {
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = double(x[i]) + (i % std::size_t(threads) ? double(x[i - 1]) : 0.0);
  return y;
}

// A missing barrier is a race; the emulator makes it show as a wrong result in at least one
// thread order (the suites run every test in both).
TEST(PlantedMissingBarrier, TiledGemmGoesWrongInBothOrders) {
  const GemmShape s{100, 70, 37};
  const std::vector<float> a = random_floats(std::size_t(s.m * s.k), 1), b = random_floats(std::size_t(s.k * s.n), 2);
  const std::vector<double> reference = reference_gemm(s, a, b);
  for (const emu::ThreadOrder order : {emu::ThreadOrder::forward, emu::ThreadOrder::reverse}) {
    emu::set_thread_order(order);
    EXPECT_GT(count_mismatches(gemm_with_missing_barrier(s, a, b), reference, 1e-5 * s.k, 1e-5), 0u)
        << (order == emu::ThreadOrder::forward ? "forward" : "reverse");
  }
  emu::set_thread_order(emu::ThreadOrder::forward);
}

TEST(PlantedMissingBarrier, NeighbourReadHidesInForwardOrderAndShowsInReverse) {
  const std::vector<float> x = random_floats(4 * 96, 5);
  const std::vector<double> reference = reference_neighbour_sums(x, 96);
  emu::set_thread_order(emu::ThreadOrder::forward);
  EXPECT_EQ(count_mismatches(neighbour_sums(x, 96), reference, 1e-6, 1e-6), 0u);
  emu::set_thread_order(emu::ThreadOrder::reverse);
  EXPECT_EQ(count_mismatches(neighbour_sums(x, 96), reference, 1e-6, 1e-6), 4u * 95u);  // all but the first of a block
  emu::set_thread_order(emu::ThreadOrder::forward);
}

class PlantedBug : public BothThreadOrders {
 protected:
  void SetUp() override {
    BothThreadOrders::SetUp();
    GTEST_FLAG_SET(death_test_style, "threadsafe");  // the grid's OpenMP threads exist
  }
};
OFA_IN_BOTH_THREAD_ORDERS(PlantedBug);

TEST_P(PlantedBug, NeverWrittenDynamicSharedMemoryReadsAsNaN) {
  const std::vector<float> x = random_floats(2 * 64, 6);
  const DeviceBuffer<float> dx(x), dy(x.size());
  launcher.launch(planted::reverse_short_staging_kernel<float>, dim3(2), dim3(64), 64 * sizeof(float), dx.get(), dy.get());
  const std::vector<float> y = dy.to_host();
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (i % 64 == 0) {
      EXPECT_TRUE(std::isnan(y[i])) << i;
    } else {
      EXPECT_EQ(y[i], x[i - i % 64 + 63 - i % 64]) << i;
    }
  }
}

TEST_P(PlantedBug, DivergentBarriersAbortNamingBothThreads) {
  const DeviceBuffer<int> y(64);
  EXPECT_DEATH(launcher.launch(planted::divergent_barrier_kernel<int>, dim3(1), dim3(64), 0, y.get()),
               "divergent __syncthreads: thread \\([0-9]+,0,0\\) of block \\(0,0,0\\) waits at .*planted_bugs.cuh");
}

TEST_P(PlantedBug, ReturningBeforeABarrierOthersWaitAtAborts) {
  const DeviceBuffer<int> y(64);
  EXPECT_DEATH(launcher.launch(planted::early_return_kernel<int>, dim3(1), dim3(64), 0, y.get(), 40),
               "every thread of a block must reach every barrier");
}

TEST_P(PlantedBug, FullMaskInAPartialWarpAborts) {
  const DeviceBuffer<int> y(100);
  EXPECT_DEATH(launcher.launch(planted::full_mask_in_partial_warp_kernel<int>, dim3(1), dim3(100), 0, y.get()),
               "the block has 100 threads and its last warp is partial");
}

TEST_P(PlantedBug, ShuffleAgainstABarrierIsADeadlock) {
  const DeviceBuffer<int> y(32);
  EXPECT_DEATH(launcher.launch(planted::barrier_against_shuffle_kernel<int>, dim3(1), dim3(32), 0, y.get()),
               "deadlock: thread .* __syncthreads");
}

TEST_P(PlantedBug, ShuffleWithAnExitedLaneAborts) {
  const DeviceBuffer<int> y(32);
  EXPECT_DEATH(launcher.launch(planted::exited_lane_shuffle_kernel<int>, dim3(1), dim3(32), 0, y.get()),
               "thread \\(0,0,0\\) of block \\(0,0,0\\) (has returned|returned while)");
}

TEST_P(PlantedBug, MismatchedShufflesAbort) {
  const DeviceBuffer<int> y(32);
  EXPECT_DEATH(launcher.launch(planted::mismatched_shuffles_kernel<int>, dim3(1), dim3(32), 0, y.get()),
               "mismatched warp operations: .*__shfl_(xor|down)_sync");
}

TEST_P(PlantedBug, MaskLeavingOutTheCallerAborts) {
  const DeviceBuffer<int> y(32);
  EXPECT_DEATH(launcher.launch(planted::mask_without_caller_kernel<int>, dim3(1), dim3(32), 0, y.get()),
               "with mask 0x00000001, which leaves out its own lane");
}

// A wrong index reads past an array. AddressSanitizer (the sanitizer build) reports it at the
// kernel's line; the plain build cannot see it.
class PlantedOverrun : public PlantedBug {
 protected:
  void SetUp() override {
    PlantedBug::SetUp();
    if (!OFA_EMU_ASAN) GTEST_SKIP() << "needs the AddressSanitizer build";
  }
};
OFA_IN_BOTH_THREAD_ORDERS(PlantedOverrun);

TEST_P(PlantedOverrun, GlobalMemoryOverrunIsReported) {
  const DeviceBuffer<int> x(32), y(32);
  EXPECT_DEATH(launcher.launch(planted::global_overrun_kernel<int>, dim3(1), dim3(32), 0, x.get(), y.get()),
               "heap-buffer-overflow.*\n.*\n.*global_overrun_kernel");
}

TEST_P(PlantedOverrun, DynamicSharedMemoryOverrunIsReported) {
  const DeviceBuffer<int> y(32);
  EXPECT_DEATH(launcher.launch(planted::dynamic_shared_overrun_kernel<int>, dim3(1), dim3(32), 32 * sizeof(int), y.get()),
               "heap-buffer-overflow.*\n.*\n.*dynamic_shared_overrun_kernel");
}

TEST_P(PlantedOverrun, StaticSharedMemoryOverrunIsReported) {
  const DeviceBuffer<int> y(32);
  // UBSan's bounds check sees the fixed-size array first; ASan's redzone would catch it next.
  EXPECT_DEATH(launcher.launch(planted::static_shared_overrun_kernel<int>, dim3(1), dim3(32), 0, y.get()),
               "planted_bugs.cuh:[0-9:]+ runtime error: index 32 out of bounds|global-buffer-overflow");
}

__attribute__((noinline)) int recurse(int depth) {
  volatile char frame[512];
  frame[0] = char(depth);
  return depth == 0 ? frame[0] : recurse(depth - 1) + frame[0];
}

__global__ void stack_overflow_kernel(int* y, int depth) { y[threadIdx.x] = recurse(depth); }

TEST_P(PlantedBug, StackOverflowHitsTheGuardPage) {
  const DeviceBuffer<int> y(32);
  EXPECT_DEATH(launcher.launch(stack_overflow_kernel, dim3(1), dim3(32), 0, y.get(), 100000), "");
}

}  // namespace
}  // namespace ofa::cuda::testing
