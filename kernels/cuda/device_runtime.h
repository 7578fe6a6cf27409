#pragma once

#include <cstddef>

namespace ofa::cuda {

// A stream of the backend that made it: CUDA's cudaStream_t or the emulation's, null for the
// default stream. Host-compiled code that serves both backends passes streams around as this.
using StreamHandle = void*;

enum class CopyDirection { host_to_device, device_to_host, device_to_device };

// The CUDA runtime calls that host code around kernels makes, as plain function pointers.
// backend_tables.inl defines them once against the CUDA runtime's names; the host compiler
// builds that against the emulation and nvcc against CUDA, so one program can hold both and
// choose at run time (backend.h). Every call but allocate throws ofa::Error naming the call
// and CUDA's error.
struct DeviceRuntime {
  // False when the device has no memory left (CUDA's sticky error is cleared).
  bool (*allocate)(void** pointer, std::size_t bytes);
  void (*free)(void* pointer);
  void (*copy_async)(void* dst, const void* src, std::size_t bytes, CopyDirection direction, StreamHandle stream);
  void (*fill_bytes_async)(void* pointer, int value, std::size_t bytes, StreamHandle stream);
  StreamHandle (*create_stream)();
  void (*destroy_stream)(StreamHandle stream);
  void (*synchronize_stream)(StreamHandle stream);
  void (*synchronize_device)();
};

}  // namespace ofa::cuda
