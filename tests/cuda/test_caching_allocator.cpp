#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cuda/backend.h"
#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/emulation/runtime_api.h"
#include "kernels/cuda/stream.h"
#include "kernels/error.h"
#include "kernels/ops/linear.h"
#include "kernels/tensor.h"
#include "tests/support/test_tensors.h"

// The caching allocator on the emulated runtime, streams, and cuda tensors' copies and fills.

namespace ofa::cuda::testing {
namespace {

using ofa::testing::random_tensor;

class CachingAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override { use_backend(emulated_backend()); }
  void TearDown() override { emu::set_device_memory_limit(std::numeric_limits<std::size_t>::max()); }

  CachingAllocator allocator{emulated_backend().runtime, true};
};

TEST_F(CachingAllocatorTest, BinsRoundUpToAQuarterAtMost) {
  EXPECT_EQ(CachingAllocator::bin_size(0), 512u);
  EXPECT_EQ(CachingAllocator::bin_size(1), 512u);
  EXPECT_EQ(CachingAllocator::bin_size(513), 1024u);
  EXPECT_EQ(CachingAllocator::bin_size(1 << 20), std::size_t{1} << 20);
  EXPECT_EQ(CachingAllocator::bin_size((1 << 20) + 1), std::size_t{5} << 18);
  EXPECT_EQ(CachingAllocator::bin_size(std::size_t{3} << 21), std::size_t{3} << 21);
  EXPECT_EQ(CachingAllocator::bin_size((std::size_t{3} << 21) + 1), std::size_t{7} << 20);
}

TEST_F(CachingAllocatorTest, FreedBlocksAreReusedPerBinAndPoisoned) {
  void* a = allocator.allocate(1000, nullptr);
  static_cast<float*>(a)[0] = 1.0f;
  allocator.deallocate(a);
  void* b = allocator.allocate(1024, nullptr);  // the same 1024-byte bin
  EXPECT_EQ(b, a);
  std::uint32_t bits = 0;
  std::memcpy(&bits, b, sizeof(bits));
  EXPECT_EQ(bits, 0xFFFFFFFFu) << "a reused block must read as never written (NaN)";
  void* c = allocator.allocate(3000, nullptr);  // another bin: a new block
  EXPECT_NE(c, a);
  const AllocatorStats stats = allocator.stats();
  EXPECT_EQ(stats.requests, 3u);
  EXPECT_EQ(stats.cache_hits, 1u);
  EXPECT_EQ(stats.device_allocations, 2u);
  EXPECT_EQ(stats.bytes_in_use, 1024u + 3072u);
  EXPECT_EQ(stats.bytes_reserved, 1024u + 3072u);
  allocator.deallocate(b);
  allocator.deallocate(c);
  EXPECT_EQ(allocator.stats().bytes_in_use, 0u);
}

TEST_F(CachingAllocatorTest, BlocksAreCachedPerStream) {
  StreamHandle one = emulated_backend().runtime.create_stream();
  void* a = allocator.allocate(512, nullptr);
  allocator.deallocate(a);
  void* b = allocator.allocate(512, one);
  EXPECT_NE(b, a) << "a block freed on the default stream went to another stream unsynchronised";
  allocator.deallocate(b);
  allocator.release_stream(one);
  EXPECT_EQ(allocator.stats().device_frees, 1u);
  EXPECT_EQ(allocator.stats().bytes_reserved, 512u);
  emulated_backend().runtime.destroy_stream(one);
}

TEST_F(CachingAllocatorTest, BlocksInUseWhenTheirStreamGoesAreFreedNotCached) {
  StreamHandle one = emulated_backend().runtime.create_stream();
  void* a = allocator.allocate(512, one);
  allocator.release_stream(one);
  emulated_backend().runtime.destroy_stream(one);
  allocator.deallocate(a);
  EXPECT_EQ(allocator.stats().device_frees, 1u);
  EXPECT_EQ(allocator.stats().bytes_reserved, 0u);
}

TEST_F(CachingAllocatorTest, EmptyCacheFreesCachedBlocksOnly) {
  void* kept = allocator.allocate(5000, nullptr);
  allocator.deallocate(allocator.allocate(700, nullptr));
  allocator.deallocate(allocator.allocate(100000, nullptr));
  allocator.empty_cache();
  const AllocatorStats stats = allocator.stats();
  EXPECT_EQ(stats.device_frees, 2u);
  EXPECT_EQ(stats.bytes_reserved, CachingAllocator::bin_size(5000));
  EXPECT_TRUE(emu::is_device_range(kept, 5000));
  allocator.deallocate(kept);
}

TEST_F(CachingAllocatorTest, OutOfMemoryFreesTheCacheRetriesAndStaysUsable) {
  const std::size_t base = emu::device_memory_in_use();
  emu::set_device_memory_limit(base + (std::size_t{3} << 20));
  void* a = allocator.allocate(std::size_t{2} << 20, nullptr);
  allocator.deallocate(a);  // cached: 2 MiB reserved
  void* b = allocator.allocate(std::size_t{5} << 19, nullptr);  // 2.5 MiB: fits only once the cache is freed
  EXPECT_EQ(allocator.stats().device_frees, 1u);
  try {
    allocator.allocate(std::size_t{1} << 20, nullptr);
    FAIL() << "allocated past the device's memory";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("out of device memory allocating 1048576 bytes"), std::string::npos)
        << error.what();
  }
  allocator.deallocate(b);
  emu::set_device_memory_limit(std::numeric_limits<std::size_t>::max());
  allocator.deallocate(allocator.allocate(std::size_t{1} << 20, nullptr));
  EXPECT_EQ(allocator.stats().bytes_in_use, 0u);
}

TEST_F(CachingAllocatorTest, ForeignPointersAreRejected) {
  int on_host = 0;
  EXPECT_THROW(allocator.deallocate(&on_host), Error);
}

// One training-like step: forward and backward of a linear layer on fresh cuda tensors, with
// the workspaces the backward takes.
void linear_step(const Tensor& x, const Tensor& weight, Tensor& dweight) {
  Tensor y = Tensor::empty({x.dim(0), weight.dim(0)}, DType::f32, Device::cuda);
  linear_forward(x, weight, nullptr, weight.dim(0), y);
  Tensor dx = Tensor::empty(x.shape(), DType::f32, Device::cuda);
  linear_backward(x, weight, y, &dx, dweight, nullptr);
}

TEST_F(CachingAllocatorTest, ARepeatedWorkloadAllocatesNothingAfterItsFirstStep) {
  CachingAllocator& shared = emulated_backend().allocator;
  const Tensor x = random_tensor({37, 21}).to(Device::cuda), weight = random_tensor({13, 21}).to(Device::cuda);
  Tensor dweight = Tensor::zeros(weight.shape(), DType::f32, Device::cuda);
  linear_step(x, weight, dweight);
  const AllocatorStats after_first = shared.stats();
  for (int step = 0; step < 3; ++step) linear_step(x, weight, dweight);
  const AllocatorStats after_more = shared.stats();
  EXPECT_EQ(after_more.device_allocations, after_first.device_allocations);
  EXPECT_EQ(after_more.device_frees, after_first.device_frees);
  EXPECT_GT(after_more.cache_hits, after_first.cache_hits);
  EXPECT_EQ(after_more.bytes_reserved, after_first.bytes_reserved);
  std::printf("[ stats    ] after step 1: %llu requests, %llu cudaMalloc, %llu hits, %zu B reserved; after 4: "
              "%llu requests, %llu cudaMalloc, %llu hits, %zu B reserved, %zu B in use\n",
              static_cast<unsigned long long>(after_first.requests),
              static_cast<unsigned long long>(after_first.device_allocations),
              static_cast<unsigned long long>(after_first.cache_hits), after_first.bytes_reserved,
              static_cast<unsigned long long>(after_more.requests),
              static_cast<unsigned long long>(after_more.device_allocations),
              static_cast<unsigned long long>(after_more.cache_hits), after_more.bytes_reserved,
              after_more.bytes_in_use);
}

TEST_F(CachingAllocatorTest, TensorsOnAStreamAllocateThere) {
  CachingAllocator& shared = emulated_backend().allocator;
  const std::uint64_t before = shared.stats().device_allocations;
  {
    const Stream stream;
    const StreamGuard on_stream(stream.handle());
    EXPECT_EQ(current_stream(), stream.handle());
    const Tensor x = random_tensor({4, 3}).to(Device::cuda);
    const Tensor y = x.clone();
    ofa::testing::expect_close(y.to(Device::cpu), x.to(Device::cpu), 0.0, 0.0, "a copy on a stream");
  }
  EXPECT_EQ(current_stream(), nullptr);
  EXPECT_GT(shared.stats().device_allocations, before);
  EXPECT_EQ(shared.stats().bytes_in_use, 0u);
}

TEST_F(CachingAllocatorTest, SwitchingBackendsWithMemoryInUseIsRefused) {
  const Tensor held = Tensor::zeros({3}, DType::f32, Device::cuda);
  Backend* gpu = gpu_backend();
  if (gpu == nullptr) GTEST_SKIP() << "no GPU backend here";
  EXPECT_THROW(use_backend(*gpu), Error);
}

// Copies and fills of strided views in every direction.
TEST_F(CachingAllocatorTest, CudaTensorsCopyAndFillStridedViews) {
  const Tensor host = random_tensor({4, 6, 5});
  const Tensor device = host.to(Device::cuda);
  EXPECT_EQ(device.device(), Device::cuda);
  EXPECT_THROW(device.at({0, 0, 0}), Error);
  const Shape active{3, 4, 2};
  ofa::testing::expect_close(device.prefix(active).to(Device::cpu), host.prefix(active), 0.0, 0.0, "strided to host");
  Tensor target = Tensor::zeros({4, 6, 5}, DType::f32, Device::cuda);
  Tensor target_prefix = target.prefix(active);
  target_prefix.copy_from(host.prefix(active));
  Tensor expected = Tensor::zeros({4, 6, 5});
  Tensor expected_prefix = expected.prefix(active);
  expected_prefix.copy_from(host.prefix(active));
  ofa::testing::expect_close(target.to(Device::cpu), expected, 0.0, 0.0, "host into a strided device view");
  target_prefix.fill(2.5f);
  expected_prefix.fill(2.5f);
  ofa::testing::expect_close(target.to(Device::cpu), expected, 0.0, 0.0, "fill of a strided device view");
  Tensor on_device_prefix = Tensor::zeros({4, 6, 5}, DType::f32, Device::cuda);
  Tensor view = on_device_prefix.prefix(active);
  view.copy_from(device.prefix(active));
  ofa::testing::expect_close(view.to(Device::cpu), host.prefix(active), 0.0, 0.0, "device view into device view");
  Tensor host_view = Tensor::zeros({4, 6, 5});
  Tensor host_prefix = host_view.prefix(active);
  host_prefix.copy_from(device.prefix(active));
  ofa::testing::expect_close(host_prefix, host.prefix(active), 0.0, 0.0, "device view into a host view");
}

}  // namespace
}  // namespace ofa::cuda::testing
