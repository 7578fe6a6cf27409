#pragma once

#include <cstdint>
#include <limits>

#include "kernels/cuda/backend.h"
#include "kernels/cuda/device_scratch.h"
#include "kernels/cuda/stream.h"
#include "kernels/error.h"
#include "kernels/tensor.h"

// What the on_cuda_*.cpp files share: the kernel table and stream of this call, and checks of
// the few layouts the kernels need that the CPU ops accept.

namespace ofa::on_cuda::support {

inline const cuda::KernelTable& kernels() { return cuda::active_backend().kernels; }
inline const cuda::DeviceRuntime& runtime() { return cuda::active_backend().runtime; }
inline cuda::StreamHandle stream() { return cuda::current_stream(); }

// A size a kernel takes as int.
inline int as_int(const char* op, const char* what, std::int64_t value) {
  OFA_CHECK(value <= std::numeric_limits<int>::max(), op, what, " ", value, " exceeds what the CUDA kernels index");
  return static_cast<int>(value);
}

inline void dense_rows(const char* op, const char* name, const Tensor& t) {
  OFA_CHECK(t.rank() < 2 || t.dim(0) <= 1 || t.stride(0) == t.dim(1), op, name,
            " must have dense rows on cuda (the kernels take no row stride), got a view of row stride ", t.stride(0));
}

inline void same_row_stride(const char* op, const char* name, const Tensor& t, const Tensor& like) {
  OFA_CHECK(t.dim(0) <= 1 || t.stride(0) == like.stride(0), op, name, " must have the row stride ", like.stride(0),
            " of its parameter on cuda, got ", t.stride(0));
}

// A host value the kernels wrote into device memory; waits for it.
template <class T>
T read_back(const void* device, T host = T{}) {
  runtime().copy_async(&host, device, sizeof(T), cuda::CopyDirection::device_to_host, stream());
  runtime().synchronize_stream(stream());
  return host;
}

// Host data (labels) in device memory for the length of one call.
class Upload {
 public:
  Upload(const void* host, std::size_t bytes) : scratch_(bytes) {
    runtime().copy_async(scratch_.get(), host, bytes, cuda::CopyDirection::host_to_device, stream());
  }
  void* get() const { return scratch_.get(); }

 private:
  cuda::DeviceScratch scratch_;
};

}  // namespace ofa::on_cuda::support
