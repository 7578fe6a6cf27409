#include "kernels/cuda/caching_allocator.h"

#include <algorithm>
#include <bit>

#include "kernels/error.h"

namespace ofa::cuda {
namespace {

constexpr std::size_t kSmallGranule = 512;
constexpr std::size_t kSmallLimit = std::size_t{1} << 20;

}  // namespace

std::size_t CachingAllocator::bin_size(std::size_t bytes) {
  if (bytes <= kSmallLimit) return std::max<std::size_t>(1, (bytes + kSmallGranule - 1) / kSmallGranule) * kSmallGranule;
  const std::size_t quarter = std::bit_floor(bytes - 1) / 4;
  return (bytes + quarter - 1) / quarter * quarter;
}

CachingAllocator::CachingAllocator(const DeviceRuntime& runtime, bool poison_reused_blocks)
    : runtime_(runtime), poison_reused_blocks_(poison_reused_blocks) {}

CachingAllocator::~CachingAllocator() {
  for (auto& [key, blocks] : cached_)
    for (void* block : blocks) runtime_.free(block);
}

void* CachingAllocator::allocate(std::size_t bytes, StreamHandle stream) {
  const std::size_t size = bin_size(bytes);
  const std::lock_guard lock(mutex_);
  ++stats_.requests;
  void* block = nullptr;
  const auto bin = cached_.find({stream, size});
  if (bin != cached_.end() && !bin->second.empty()) {
    block = bin->second.back();
    bin->second.pop_back();
    ++stats_.cache_hits;
    if (poison_reused_blocks_) runtime_.fill_bytes_async(block, 0xFF, size, stream);
  } else {
    block = allocate_from_device(size);
  }
  in_use_.emplace(block, Block{size, stream, true});
  stats_.bytes_in_use += size;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  return block;
}

void* CachingAllocator::allocate_from_device(std::size_t size) {
  void* block = nullptr;
  if (!runtime_.allocate(&block, size)) {
    free_cached_blocks(nullptr, true);
    if (!runtime_.allocate(&block, size))
      fail("cuda allocator", "out of device memory allocating ", size, " bytes (", stats_.bytes_in_use,
           " bytes in use by tensors and workspaces)");
  }
  ++stats_.device_allocations;
  stats_.bytes_reserved += size;
  stats_.peak_bytes_reserved = std::max(stats_.peak_bytes_reserved, stats_.bytes_reserved);
  return block;
}

void CachingAllocator::deallocate(void* pointer) {
  const std::lock_guard lock(mutex_);
  const auto found = in_use_.find(pointer);
  OFA_CHECK(found != in_use_.end(), "cuda allocator", "deallocate of ", pointer, ", which it did not allocate");
  const Block block = found->second;
  in_use_.erase(found);
  stats_.bytes_in_use -= block.size;
  if (block.stream_alive) {
    cached_[{block.stream, block.size}].push_back(pointer);
    return;
  }
  runtime_.free(pointer);
  ++stats_.device_frees;
  stats_.bytes_reserved -= block.size;
}

void CachingAllocator::free_cached_blocks(StreamHandle only_stream, bool every_stream) {
  for (auto bin = cached_.begin(); bin != cached_.end();) {
    if (!every_stream && bin->first.first != only_stream) {
      ++bin;
      continue;
    }
    for (void* block : bin->second) {
      runtime_.free(block);
      ++stats_.device_frees;
      stats_.bytes_reserved -= bin->first.second;
    }
    bin = cached_.erase(bin);
  }
}

void CachingAllocator::empty_cache() {
  const std::lock_guard lock(mutex_);
  free_cached_blocks(nullptr, true);
}

void CachingAllocator::release_stream(StreamHandle stream) {
  const std::lock_guard lock(mutex_);
  free_cached_blocks(stream, false);
  for (auto& [pointer, block] : in_use_)
    if (block.stream == stream) block.stream_alive = false;
}

AllocatorStats CachingAllocator::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace ofa::cuda
