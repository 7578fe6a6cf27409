#pragma once

#include <memory>
#include <string_view>

#include "kernels/collectives/communicator.h"
#include "kernels/collectives/launch_environment.h"
#include "kernels/collectives/mpi_plugin_api.h"

namespace ofa {

// A rank of an MPI job, through libofa_mpi.so loaded at run time (mpi_plugin_api.h says why).
// Collectives are MPI's non-blocking ones, polled until done or until the timeout passes.
class MpiCommunicator final : public Communicator {
 public:
  // Loads the plugin ($OFA_MPI_PLUGIN, else libofa_mpi.so beside the executable) and joins the
  // job `launch` describes. Throws ofa::Error naming the plugin and what to do when it cannot.
  static std::unique_ptr<MpiCommunicator> join(const LaunchEnvironment& launch);
  ~MpiCommunicator() override;  // leaves the job (MPI_Finalize) unless an error already did

  void allreduce_sum(std::span<float> values, std::string_view what) override;
  void allreduce_sum(std::span<double> values, std::string_view what) override;
  void allgather(std::span<const std::byte> mine, std::span<std::byte> all, std::string_view what) override;
  void broadcast(std::span<std::byte> bytes, int root, std::string_view what) override;
  void shut_down_after_error(bool collective_failed) override;

 private:
  MpiCommunicator(const OfaMpiPlugin* plugin, int rank, int size);
  // Polls `request` until it completes; past the timeout throws CollectiveFailure naming `what`.
  void wait(OfaMpiRequestHandle request, std::string_view what, double timeout_seconds) const;

  const OfaMpiPlugin* plugin_;
  bool left_ = false;
};

}  // namespace ofa
