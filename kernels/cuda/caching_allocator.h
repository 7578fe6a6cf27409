#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kernels/cuda/device_runtime.h"

namespace ofa::cuda {

struct AllocatorStats {
  std::uint64_t requests = 0;            // allocate() calls
  std::uint64_t cache_hits = 0;          // requests served by a cached block
  std::uint64_t device_allocations = 0;  // cudaMalloc calls that succeeded
  std::uint64_t device_frees = 0;        // cudaFree calls
  std::size_t bytes_reserved = 0;        // held from the device: in use plus cached
  std::size_t bytes_in_use = 0;          // handed out, at the rounded sizes
  std::size_t peak_bytes_reserved = 0;
  std::size_t peak_bytes_in_use = 0;
};

// Device memory for tensors and kernel workspaces without a cudaMalloc or cudaFree (both
// synchronise the host with the device) once a workload has run: a freed block goes back to a
// cache, binned by its rounded size and by the stream it was allocated on, and the next request
// of that bin on that stream takes it. Reuse on the same stream needs no synchronisation, since
// the stream orders the new user's kernels after the old one's; using a block on another stream
// than its own is the caller's to synchronise. Because bins are exact, a workload that repeats
// the same sequence of requests allocates nothing from the device after its first round: each
// bin's cache then holds as many blocks as were ever live at once.
//
// When the device is out of memory, every cached block is freed and the request retried once;
// if it still fails, allocate throws ofa::Error and the allocator stays usable.
class CachingAllocator {
 public:
  // poison_reused_blocks fills a cached block with 0xFF bytes before handing it out again, as
  // the emulation's cudaMalloc does, so a kernel reading memory nobody wrote sees NaN either way.
  CachingAllocator(const DeviceRuntime& runtime, bool poison_reused_blocks);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(std::size_t bytes, StreamHandle stream);
  // Returns the block to its stream's cache. Throws ofa::Error for a pointer it did not allocate.
  void deallocate(void* pointer);
  // Frees every cached block (blocks in use stay).
  void empty_cache();
  // For a stream about to be destroyed: frees its cached blocks, and its blocks still in use go
  // back to the device, not to a cache, when they are deallocated.
  void release_stream(StreamHandle stream);

  AllocatorStats stats() const;
  const DeviceRuntime& runtime() const { return runtime_; }

  // The bin a request falls in: multiples of 512 bytes up to 1 MiB, then four bins per power of
  // two (at most a quarter wasted).
  static std::size_t bin_size(std::size_t bytes);

 private:
  struct Block {
    std::size_t size;
    StreamHandle stream;
    bool stream_alive;
  };
  using BinKey = std::pair<StreamHandle, std::size_t>;

  void* allocate_from_device(std::size_t size);
  void free_cached_blocks(StreamHandle only_stream, bool every_stream);

  const DeviceRuntime& runtime_;
  const bool poison_reused_blocks_;
  mutable std::mutex mutex_;
  std::unordered_map<void*, Block> in_use_;
  std::map<BinKey, std::vector<void*>> cached_;
  AllocatorStats stats_;
};

}  // namespace ofa::cuda
