#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/cuda/device.h"
#include "kernels/cuda/emulation/warp_rules.h"
#include "kernels/cuda/launch.h"
#include "tests/cuda/device_buffer.h"
#include "tests/cuda/thread_order.h"

// Warp shuffles and votes against CUDA's documented results, computed here independently.

namespace ofa::cuda::testing {
namespace {

enum class Shuffle : int { idx, up, down, xor_ };

template <class T>
__global__ void shuffle_kernel(T* out, Shuffle kind, int arg, int width) {
  const T value = T(1000 + int(threadIdx.x));  // names the lane it came from
  T result{};
  switch (kind) {
    case Shuffle::idx:
      result = __shfl_sync(0xffffffffu, value, arg, width);
      break;
    case Shuffle::up:
      result = __shfl_up_sync(0xffffffffu, value, unsigned(arg), width);
      break;
    case Shuffle::down:
      result = __shfl_down_sync(0xffffffffu, value, unsigned(arg), width);
      break;
    case Shuffle::xor_:
      result = __shfl_xor_sync(0xffffffffu, value, arg, width);
      break;
  }
  out[threadIdx.x] = result;
}

// The source lane by the CUDA programming guide, for arg < width.
int documented_source(Shuffle kind, int lane, int arg, int width) {
  const int in_segment = lane % width, segment = lane - in_segment;
  switch (kind) {
    case Shuffle::idx:
      return segment + arg % width;
    case Shuffle::up:
      return in_segment >= arg ? lane - arg : lane;
    case Shuffle::down:
      return in_segment + arg < width ? lane + arg : lane;
    case Shuffle::xor_:
      return lane ^ arg;
  }
  return -1;
}

template <class T>
std::vector<T> run_shuffle(Shuffle kind, int arg, int width, int threads) {
  const DeviceBuffer<T> out{std::size_t(threads)};
  EmulatedLauncher().launch(shuffle_kernel<T>, dim3(1), dim3(unsigned(threads)), 0, out.get(), kind, arg, width);
  return out.to_host();
}

class EmulatedWarp : public BothThreadOrders {};
OFA_IN_BOTH_THREAD_ORDERS(EmulatedWarp);

TEST_P(EmulatedWarp, ShufflesFollowTheDocumentedLaneRulesForEveryWidth) {
  for (const Shuffle kind : {Shuffle::idx, Shuffle::up, Shuffle::down, Shuffle::xor_})
    for (const int width : {1, 2, 4, 8, 16, 32})
      for (int arg = 0; arg < width; arg += arg < 2 ? 1 : 3) {
        const std::vector<int> got = run_shuffle<int>(kind, arg, width, 64);
        for (int thread = 0; thread < 64; ++thread) {
          const int lane = thread % 32, expected = thread - lane + documented_source(kind, lane, arg, width);
          ASSERT_EQ(got[std::size_t(thread)], 1000 + expected)
              << "shuffle " << int(kind) << " width " << width << " arg " << arg << " thread " << thread;
        }
      }
}

TEST_P(EmulatedWarp, ShufflesCarryEightByteValues) {
  const std::vector<double> doubles = run_shuffle<double>(Shuffle::down, 3, 32, 32);
  const std::vector<long long> longs = run_shuffle<long long>(Shuffle::xor_, 5, 32, 32);
  for (int lane = 0; lane < 32; ++lane) {
    EXPECT_EQ(doubles[std::size_t(lane)], 1000.0 + (lane + 3 < 32 ? lane + 3 : lane));
    EXPECT_EQ(longs[std::size_t(lane)], 1000 + (lane ^ 5));
  }
}

// PTX's rule beyond the documented range: a xor mask at least the width may reach into the
// segment below, never above.
TEST(EmulatedWarpRules, XorBeyondTheWidthFollowsPtx) {
  using emu::detail::shuffle_source;
  using emu::detail::WarpOp;
  EXPECT_EQ(shuffle_source(WarpOp::shfl_xor, 3, 8, 8), 3u);    // 11 is above its segment [0, 8)
  EXPECT_EQ(shuffle_source(WarpOp::shfl_xor, 11, 8, 8), 3u);   // 3 is below [8, 16): allowed
  EXPECT_EQ(shuffle_source(WarpOp::shfl_idx, 10, -1, 8), 15u);  // only the low bits of srcLane count
  EXPECT_EQ(shuffle_source(WarpOp::shfl_down, 30, 33, 32), 31u);  // delta 33 acts as 1
}

__global__ void half_warp_shuffle_kernel(int* out) {
  // Only lanes 0-15 take part; a lane reading outside the mask gets undefined data (here -1).
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_down_sync(0x0000ffffu, int(threadIdx.x), 8);
}

TEST_P(EmulatedWarp, ReadsFromOutsideTheMaskArePoisoned) {
  const DeviceBuffer<int> out(16);
  EmulatedLauncher().launch(half_warp_shuffle_kernel, dim3(1), dim3(32), 0, out.get());
  const std::vector<int> got = out.to_host();
  for (int lane = 0; lane < 16; ++lane) EXPECT_EQ(got[std::size_t(lane)], lane < 8 ? lane + 8 : -1) << lane;
}

// blockDim (8,4,2): threads are numbered x-fastest, so warp 0 is z == 0 and warp 1 is z == 1.
__global__ void vote_kernel(unsigned* ballots, int* any, int* all) {
  const int thread = int(threadIdx.x + 8 * threadIdx.y + 32 * threadIdx.z);
  ballots[thread] = __ballot_sync(0xffffffffu, thread % 3 == 0);
  any[thread] = __any_sync(0xffffffffu, threadIdx.z == 0 && threadIdx.x == 7 && threadIdx.y == 3);
  all[thread] = __all_sync(0xffffffffu, threadIdx.z == 1 || threadIdx.x > 0);
}

TEST_P(EmulatedWarp, VotesCoverTheLanesOfTheirWarp) {
  const DeviceBuffer<unsigned> ballots(64);
  const DeviceBuffer<int> any(64), all(64);
  EmulatedLauncher().launch(vote_kernel, dim3(1), dim3(8, 4, 2), 0, ballots.get(), any.get(), all.get());
  const std::vector<unsigned> b = ballots.to_host();
  const std::vector<int> a = any.to_host(), l = all.to_host();
  for (int thread = 0; thread < 64; ++thread) {
    unsigned expected = 0;
    for (int lane = 0; lane < 32; ++lane)
      if ((thread - thread % 32 + lane) % 3 == 0) expected |= 1u << lane;
    EXPECT_EQ(b[std::size_t(thread)], expected) << thread;
    EXPECT_EQ(a[std::size_t(thread)], thread < 32 ? 1 : 0) << thread;
    EXPECT_EQ(l[std::size_t(thread)], thread < 32 ? 0 : 1) << thread;
  }
}

// Segments of 8 lanes sum by xor-shuffles within their width, then publish through a
// __syncwarp'ed shared array: the classic warp-synchronous pattern.
__global__ void segment_sum_kernel(int* out) {
  __shared__ int sums[32];
  const unsigned lane = threadIdx.x;
  int value = int(lane);
  for (int offset = 4; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset, 8);
  if (lane % 8 == 0) sums[lane / 8] = value;
  __syncwarp();
  out[lane] = sums[lane / 8];
}

TEST_P(EmulatedWarp, SyncwarpOrdersSharedMemoryWithinTheWarp) {
  const DeviceBuffer<int> out(32);
  EmulatedLauncher().launch(segment_sum_kernel, dim3(1), dim3(32), 0, out.get());
  const std::vector<int> got = out.to_host();
  for (int lane = 0; lane < 32; ++lane) {
    const int first = lane - lane % 8;
    EXPECT_EQ(got[std::size_t(lane)], 8 * first + 28) << lane;
  }
}

}  // namespace
}  // namespace ofa::cuda::testing
