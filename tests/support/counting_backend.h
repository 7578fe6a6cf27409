#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/backend.h"

// The emulated backend with every runtime call after which a host waits for a GPU counted:
// stream and device synchronisations, and copies to the host (they return once the data is
// there). The emulation itself runs everything at once, so only counting shows that a loop's
// steps would not wait on a GPU. Copies to the device are counted too (uploads).
namespace ofa::testing {

struct RuntimeCounts {
  std::uint64_t synchronizations = 0;
  std::uint64_t copies_to_host = 0;
  std::uint64_t copies_to_device = 0;

  std::uint64_t host_waits() const { return synchronizations + copies_to_host; }
};

inline RuntimeCounts& runtime_counts() {
  static RuntimeCounts counts;
  return counts;
}

// Switch to it with cuda::use_backend (no cuda memory may be in use), and back likewise.
inline cuda::Backend& counting_backend() {
  static cuda::Backend* backend = [] {
    cuda::DeviceRuntime runtime = cuda::emulated_backend().runtime;
    runtime.copy_async = [](void* dst, const void* src, std::size_t bytes, cuda::CopyDirection direction,
                            cuda::StreamHandle stream) {
      if (direction == cuda::CopyDirection::device_to_host) ++runtime_counts().copies_to_host;
      if (direction == cuda::CopyDirection::host_to_device) ++runtime_counts().copies_to_device;
      cuda::emulated_backend().runtime.copy_async(dst, src, bytes, direction, stream);
    };
    runtime.synchronize_stream = [](cuda::StreamHandle stream) {
      ++runtime_counts().synchronizations;
      cuda::emulated_backend().runtime.synchronize_stream(stream);
    };
    runtime.synchronize_device = [] {
      ++runtime_counts().synchronizations;
      cuda::emulated_backend().runtime.synchronize_device();
    };
    // Never destroyed, as the real backends: tensors may outlive a test's statics.
    return new cuda::Backend("counting", runtime, cuda::emulated_backend().kernels, true);
  }();
  return *backend;
}

}  // namespace ofa::testing
