#pragma once

#include "kernels/cuda/device_runtime.h"

namespace ofa::cuda {
struct Backend;
}

// The current stream: each host thread launches its ops' kernels, and allocates their device
// memory, on one stream of the active backend (null, the default stream, until set).

namespace ofa::cuda {

StreamHandle current_stream();

// Makes `stream` current for this thread for the guard's lifetime.
class StreamGuard {
 public:
  explicit StreamGuard(StreamHandle stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  StreamHandle previous_;
};

// A stream of the active backend, created and owned. Destruction waits for its work, returns
// its cached memory to the device and destroys it.
class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  StreamHandle handle() const { return handle_; }
  void synchronize() const;

 private:
  Backend& backend_;
  StreamHandle handle_;
};

}  // namespace ofa::cuda
