#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "kernels/error.h"

// The processes of a data-parallel job and the host-memory collectives between them. One process
// started without a launcher is a job of one (SingleProcess: every collective is the identity);
// one started by mpirun or srun joins its MPI job (mpi_communicator.h). Every collective waits at
// most timeout() seconds for the other ranks and then throws CollectiveFailure, so a rank that
// died or hangs stops the others with an error instead of a silent hang.
namespace ofa {

inline constexpr double kDefaultCollectiveTimeoutSeconds = 300;

// A collective that did not complete: another rank died or hangs, or the transport failed. The
// job cannot go on; shut_down_after_error(true) ends this rank at once.
class CollectiveFailure : public Error {
 public:
  using Error::Error;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  void set_timeout(double seconds);
  double timeout() const { return timeout_seconds_; }

  // Every rank calls the same collectives in the same order. `what` names the collective in the
  // timeout error ("gradient all-reduce of step 12").
  virtual void allreduce_sum(std::span<float> values, std::string_view what) = 0;
  virtual void allreduce_sum(std::span<double> values, std::string_view what) = 0;
  // all.size() == size() * mine.size(); rank r's `mine` lands at all[r * mine.size()].
  virtual void allgather(std::span<const std::byte> mine, std::span<std::byte> all, std::string_view what) = 0;
  virtual void broadcast(std::span<std::byte> bytes, int root, std::string_view what) = 0;

  // Ends this rank's part in the job after an error it has already reported. When every rank
  // failed at the same point (the ranks still agree), they leave together and this returns, so
  // each prints its own message; otherwise (collective_failed, or the others do not join within
  // a few seconds) the launcher is told to stop the whole job and this does not return.
  virtual void shut_down_after_error(bool collective_failed) = 0;

 protected:
  Communicator(int rank, int size) : rank_(rank), size_(size) {}

 private:
  int rank_, size_;
  double timeout_seconds_ = kDefaultCollectiveTimeoutSeconds;
};

class SingleProcess final : public Communicator {
 public:
  SingleProcess() : Communicator(0, 1) {}
  void allreduce_sum(std::span<float>, std::string_view) override {}
  void allreduce_sum(std::span<double>, std::string_view) override {}
  void allgather(std::span<const std::byte> mine, std::span<std::byte> all, std::string_view what) override;
  void broadcast(std::span<std::byte>, int root, std::string_view what) override;
  void shut_down_after_error(bool) override {}
};

// This process's job: the MPI job it was launched into (launch_environment.h), else a SingleProcess.
std::unique_ptr<Communicator> connect_processes(double timeout_seconds);

}  // namespace ofa
