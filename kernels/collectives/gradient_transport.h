#pragma once

#include <memory>
#include <string_view>

#include "kernels/collectives/communicator.h"
#include "kernels/tensor.h"

// Sums flat buffers of gradients over the ranks of a job, in place. A caller starts buffers while
// its backward pass is still producing later ones, in the same order on every rank, and then
// waits for all of them at once.
namespace ofa {

class GradientTransport {
 public:
  virtual ~GradientTransport() = default;
  // buffer: contiguous float32 [n] on the transport's device; it must stay untouched until finish().
  virtual void start(const Tensor& buffer, std::string_view what) = 0;
  // Returns when every started buffer holds the sum over the ranks; throws CollectiveFailure past
  // the communicator's timeout.
  virtual void finish() = 0;
};

// For gradients on `device`: NCCL on its own stream for a GPU (nccl_transport.h), MPI through
// host memory otherwise (CPU tensors; the emulated CUDA device, staged through the host).
std::unique_ptr<GradientTransport> make_gradient_transport(Communicator& communicator, Device device);

}  // namespace ofa
