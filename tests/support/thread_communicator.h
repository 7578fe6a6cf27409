#pragma once

#include <algorithm>
#include <barrier>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "kernels/collectives/communicator.h"

// A job of `size` ranks inside one test process: each rank is a thread with its own
// ThreadCommunicator, and the collectives meet at a shared barrier. Sums are taken in rank order,
// so every rank gets bit-identical results, as from MPI. For unit tests of code that runs
// collectives (synchronised batch norm) without mpirun.
namespace ofa::testing {

class ThreadJob {
 public:
  explicit ThreadJob(int size) : size_(size), barrier_(size), slots_(static_cast<std::size_t>(size)) {}

  int size() const { return size_; }
  std::barrier<>& barrier() { return barrier_; }
  std::vector<std::vector<std::byte>>& slots() { return slots_; }

  // Runs body(communicator) on `size` threads, one per rank, and waits for them.
  template <class Body>
  void run(Body body);

 private:
  int size_;
  std::barrier<> barrier_;
  std::vector<std::vector<std::byte>> slots_;  // one per rank: what it contributed to a collective
};

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(ThreadJob& job, int rank) : Communicator(rank, job.size()), job_(job) {}

  void allreduce_sum(std::span<float> values, std::string_view) override { sum(values); }
  void allreduce_sum(std::span<double> values, std::string_view) override { sum(values); }
  void allgather(std::span<const std::byte> mine, std::span<std::byte> all, std::string_view) override {
    publish(mine);
    for (int r = 0; r < size(); ++r)
      std::copy(job_.slots()[static_cast<std::size_t>(r)].begin(), job_.slots()[static_cast<std::size_t>(r)].end(),
                all.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(r) * mine.size()));
    job_.barrier().arrive_and_wait();
  }
  void broadcast(std::span<std::byte> bytes, int root, std::string_view) override {
    publish(bytes);
    const auto& source = job_.slots()[static_cast<std::size_t>(root)];
    std::copy(source.begin(), source.end(), bytes.begin());
    job_.barrier().arrive_and_wait();
  }
  void shut_down_after_error(bool) override {}

 private:
  // Every rank's bytes in its slot, visible to all once this returns.
  void publish(std::span<const std::byte> bytes) {
    job_.slots()[static_cast<std::size_t>(rank())].assign(bytes.begin(), bytes.end());
    job_.barrier().arrive_and_wait();
  }

  template <class T>
  void sum(std::span<T> values) {
    publish(std::as_bytes(values));
    std::vector<T> total(values.size(), T{0});
    for (int r = 0; r < size(); ++r) {
      const auto* contribution = reinterpret_cast<const T*>(job_.slots()[static_cast<std::size_t>(r)].data());
      for (std::size_t i = 0; i < values.size(); ++i) total[i] += contribution[i];
    }
    job_.barrier().arrive_and_wait();
    std::copy(total.begin(), total.end(), values.begin());
  }

  ThreadJob& job_;
};

template <class Body>
void ThreadJob::run(Body body) {
  std::vector<std::thread> threads;
  for (int r = 0; r < size_; ++r)
    threads.emplace_back([this, r, &body] {
      ThreadCommunicator communicator(*this, r);
      body(communicator);
    });
  for (std::thread& t : threads) t.join();
}

}  // namespace ofa::testing
