// Builds without OFA_CUDA have no NCCL path: gradients on the emulated CUDA device go through MPI.
#include "kernels/collectives/nccl_transport.h"

namespace ofa {

std::unique_ptr<GradientTransport> make_nccl_transport(Communicator&) {
  fail("ofa", "gradients on a GPU need NCCL, and this build has no CUDA backend (configure with -DOFA_CUDA=ON "
              "where nvcc is found)");
}

void use_gpu_of_local_rank(int) {}

}  // namespace ofa
