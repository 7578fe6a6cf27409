#pragma once

#include <cstddef>

#include "kernels/cuda/backend.h"
#include "kernels/cuda/stream.h"

namespace ofa::cuda {

// Device memory for one op call (a kernel workspace, labels copied from the host), from the
// caching allocator on the current stream: released at the end of the call, reused by the
// next, and never a cudaMalloc once the workload has run.
class DeviceScratch {
 public:
  explicit DeviceScratch(std::size_t bytes)
      : allocator_(active_backend().allocator), data_(allocator_.allocate(bytes, current_stream())) {}
  ~DeviceScratch() { allocator_.deallocate(data_); }
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;

  void* get() const { return data_; }
  float* floats() const { return static_cast<float*>(data_); }

 private:
  CachingAllocator& allocator_;
  void* data_;
};

}  // namespace ofa::cuda
