#include "kernels/cuda/stream.h"

#include "kernels/cuda/backend.h"

namespace ofa::cuda {
namespace {

thread_local StreamHandle current = nullptr;

}  // namespace

StreamHandle current_stream() { return current; }

StreamGuard::StreamGuard(StreamHandle stream) : previous_(current) { current = stream; }

StreamGuard::~StreamGuard() { current = previous_; }

Stream::Stream() : backend_(active_backend()), handle_(backend_.runtime.create_stream()) {}

Stream::~Stream() {
  backend_.runtime.synchronize_stream(handle_);
  backend_.allocator.release_stream(handle_);
  backend_.runtime.destroy_stream(handle_);
}

void Stream::synchronize() const { backend_.runtime.synchronize_stream(handle_); }

}  // namespace ofa::cuda
