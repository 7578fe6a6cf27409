#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "distill/allreduce_volume.h"
#include "kernels/collectives/communicator.h"
#include "kernels/error.h"
#include "supernet/search_space.h"

// `ofa bench distributed`: the bytes the data-parallel gradient all-reduce sends per step in a
// search space, and what a ring all-reduce of them costs on N GPUs at a given bus bandwidth
// (2(N-1)/N x bytes / bandwidth + 2(N-1) x latency). Under mpirun it also times the host (MPI)
// all-reduce of those volumes between the job's ranks. The throughput of real training ranks on
// this machine is measured by tools/scripts/bench-distributed.sh, which also runs this.
// Header-only, included by ofa_main.cpp alone.
namespace ofa {

class BenchDistributedCommand {
 public:
  explicit BenchDistributedCommand(CLI::App& bench)
      : command_(bench.add_subcommand("distributed", "Bytes all-reduced per data-parallel step in a search space, "
                                                     "and the ring all-reduce time they imply on N GPUs")) {
    command_->add_option("--space", space_, "A shipped search space or a search-space JSON file")->capture_default_str();
    command_->add_option("--samples", samples_, "Random subnets (and steps) averaged")->capture_default_str()->check(
        CLI::PositiveNumber);
    command_->add_option("--subnets-per-step", subnets_per_step_,
                         "Subnets sampled per step for the per-step figure (OFA's last phases: 4)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    command_->add_option("--gpus", gpus_, "GPU counts of the estimate")->capture_default_str();
    command_->add_option("--bus-bandwidth", bandwidths_, "NCCL ring bus bandwidth in GB/s, one per --gpus entry")
        ->capture_default_str();
    command_->add_option("--latency-us", latency_us_, "Latency of one ring step in microseconds")
        ->capture_default_str();
  }
  BenchDistributedCommand(const BenchDistributedCommand&) = delete;
  BenchDistributedCommand& operator=(const BenchDistributedCommand&) = delete;

  bool parsed() const { return command_->parsed(); }

  int run() const {
    OFA_CHECK(gpus_.size() == bandwidths_.size(), "--bus-bandwidth", "has ", bandwidths_.size(),
              " entries, expected one per --gpus entry (", gpus_.size(), ")");
    const std::unique_ptr<Communicator> job = connect_processes(kDefaultCollectiveTimeoutSeconds);
    const SearchSpace space = load_search_space(space_);
    const AllreduceVolume v = measure_allreduce_volume(space, samples_, subnets_per_step_, 0);
    std::vector<double> measured_ms;
    if (job->size() > 1)
      for (const double bytes : {static_cast<double>(v.largest), v.mean_subnet, v.mean_step})
        measured_ms.push_back(time_allreduce(*job, static_cast<std::size_t>(bytes / sizeof(float))));
    if (job->rank() != 0) return 0;
    const auto mb = [](double bytes) { return bytes / 1e6; };
    std::printf("gradient all-reduce per step, %s (float32; only the prefixes the step's subnets wrote)\n",
                space.name.c_str());
    std::printf("  %-46s %9.2f MB\n", "every parameter (reducing whole tensors)", mb(static_cast<double>(v.all_parameters)));
    std::printf("  %-46s %9.2f MB\n", "largest subnet", mb(static_cast<double>(v.largest)));
    std::printf("  %-46s %9.2f MB\n", "smallest subnet", mb(static_cast<double>(v.smallest)));
    std::printf("  %-46s %9.2f MB\n", concat("random subnet (mean of ", v.samples, ")").c_str(), mb(v.mean_subnet));
    std::printf("  %-46s %9.2f MB\n", concat("step of ", v.subnets_per_step, " random subnets (mean of ", v.samples, ")").c_str(),
                mb(v.mean_step));
    std::printf("ring all-reduce estimate, 2(N-1)/N x bytes / bus bandwidth + 2(N-1) x %.1f us:\n", latency_us_);
    std::printf("  %5s %10s %12s %12s %12s\n", "GPUs", "bus GB/s", "largest ms", "random ms",
                concat(v.subnets_per_step, "-subnet ms").c_str());
    for (std::size_t i = 0; i < gpus_.size(); ++i) {
      const auto n = static_cast<double>(gpus_[i]);
      const auto ms = [&](double bytes) {
        return 1e3 * (2 * (n - 1) / n * bytes / (bandwidths_[i] * 1e9) + 2 * (n - 1) * latency_us_ * 1e-6);
      };
      std::printf("  %5d %10.0f %12.3f %12.3f %12.3f\n", gpus_[i], bandwidths_[i], ms(static_cast<double>(v.largest)),
                  ms(v.mean_subnet), ms(v.mean_step));
    }
    if (!measured_ms.empty())
      std::printf("measured here: MPI all-reduce over %d ranks (median of %d) %12.3f %12.3f %12.3f ms\n", job->size(),
                  kRepetitions, measured_ms[0], measured_ms[1], measured_ms[2]);
    return 0;
  }

 private:
  static constexpr int kRepetitions = 15;

  // Median milliseconds of an all-reduce of `count` floats over the job, after one warm-up.
  static double time_allreduce(Communicator& job, std::size_t count) {
    std::vector<float> buffer(count, 1.0f);
    job.allreduce_sum(std::span(buffer), "the benchmark all-reduce");
    std::vector<double> ms;
    for (int r = 0; r < kRepetitions; ++r) {
      const auto start = std::chrono::steady_clock::now();
      job.allreduce_sum(std::span(buffer), "the benchmark all-reduce");
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::nth_element(ms.begin(), ms.begin() + kRepetitions / 2, ms.end());
    return ms[kRepetitions / 2];
  }

  CLI::App* command_;
  std::string space_ = "mbv3-imagenet";
  int samples_ = 200;
  int subnets_per_step_ = 4;
  std::vector<int> gpus_ = {8, 64, 64};
  std::vector<double> bandwidths_ = {370, 368, 46};
  double latency_us_ = 5;
};

}  // namespace ofa
