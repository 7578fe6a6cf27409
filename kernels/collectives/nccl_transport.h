#pragma once

#include <memory>

#include "kernels/collectives/gradient_transport.h"

// The GPU path of the gradient all-reduce (builds with OFA_CUDA; nccl_transport_absent.cpp
// otherwise). libnccl.so.2 is loaded at run time, as ofa links no cuDNN either, so `ofa` starts
// on machines without NCCL and needs it only for a multi-GPU run.
namespace ofa {

// A NCCL communicator over the job's ranks, set up from an ncclUniqueId that rank 0 makes and
// broadcasts through `communicator`. All-reduces run on the transport's own stream, each after
// the work the current stream had queued when it was started (the packing of its bucket), so
// they overlap whatever the current stream does next. NCCL runs non-blocking and every wait is
// polled against the communicator's timeout; past it the NCCL communicator is aborted and
// CollectiveFailure thrown.
std::unique_ptr<GradientTransport> make_nccl_transport(Communicator& communicator);

// Makes GPU (local_rank mod the number of visible GPUs) this thread's device, so that the ranks
// on one node use different GPUs; does nothing without the GPU backend or a GPU. Call before the
// first CUDA allocation.
void use_gpu_of_local_rank(int local_rank);

}  // namespace ofa
