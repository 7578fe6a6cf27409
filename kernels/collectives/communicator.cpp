#include "kernels/collectives/communicator.h"

#include <algorithm>
#include <cmath>

#include "kernels/collectives/mpi_communicator.h"
#include "kernels/collectives/nccl_transport.h"

namespace ofa {

void Communicator::set_timeout(double seconds) {
  OFA_CHECK(std::isfinite(seconds) && seconds > 0, "--collective-timeout", seconds, " s, expected a positive number");
  timeout_seconds_ = seconds;
}

void SingleProcess::allgather(std::span<const std::byte> mine, std::span<std::byte> all, std::string_view what) {
  OFA_CHECK(all.size() == mine.size(), "allgather", what, ": ", all.size(), " bytes for one rank of ", mine.size());
  std::copy(mine.begin(), mine.end(), all.begin());
}

void SingleProcess::broadcast(std::span<std::byte>, int root, std::string_view what) {
  OFA_CHECK(root == 0, "broadcast", what, ": root ", root, " in a job of one rank");
}

std::unique_ptr<Communicator> connect_processes(double timeout_seconds) {
  std::unique_ptr<Communicator> communicator;
  if (const std::optional<LaunchEnvironment> launch = mpi_launch_environment()) {
    communicator = MpiCommunicator::join(*launch);
    if (communicator->size() > 1) use_gpu_of_local_rank(local_rank());
  } else {
    communicator = std::make_unique<SingleProcess>();
  }
  communicator->set_timeout(timeout_seconds);
  return communicator;
}

}  // namespace ofa
