#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "search/device_description.h"
#include "search/latency_table.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

// Measuring a latency table on this machine, and checking it against whole networks.
//
// Every timing, of a layer or of a network, is taken the same way: batch 1, inference (eval
// mode), `warmup` untimed runs and then `repeats` timed runs whose median is the result.
//
// The timed runs of a group of layers (or networks) are interleaved, one per workload per round,
// so a change in the machine's load (a busy sibling hyperthread, a frequency change) shifts
// every entry of the group alike instead of a few. Each timed run directly follows an untimed
// run of the same workload: a deployed network runs over and over, so its weights are as warm
// as those of one layer run twice in a row, not as cold as after the rest of the group.
//
// On a shared machine the scheduler takes the CPU away in the middle of some runs, for a whole
// time slice (several milliseconds, far longer than a layer). Such a run measures the other
// processes, and how often it happens depends on how long the run is, so it would bias long
// networks against their short layers. A run during which this process was preempted
// (involuntary context switches, getrusage) is therefore not a sample: it is repeated, up to
// kMaxAttemptsPerSample times the requested repeats; an entry that still lacks enough
// undisturbed runs falls back to the median of all its runs and is counted as disturbed.
namespace ofa {

// One timed run: its time, and whether the device was taken away from it meanwhile.
struct Timing {
  double milliseconds = 0.0;
  bool preempted = false;
};

// Times one run of some work on the measured backend. On the CPU: the wall clock around the
// call, and the process's involuntary context switches. A CUDA backend records events around
// the launches and synchronises on the last one (never preempted in this sense).
class LatencyTimer {
 public:
  virtual ~LatencyTimer() = default;
  virtual Timing time(const std::function<void()>& work) = 0;
};

// Throws ofa::Error for a backend this build cannot time.
std::unique_ptr<LatencyTimer> make_latency_timer(const LatencyDevice& device);

inline constexpr std::int64_t kMaxAttemptsPerSample = 8;

// How clean a measurement was: runs thrown away because of preemption, and entries (layers or
// networks) that fell back to the median of disturbed runs.
struct MeasurementNoise {
  std::int64_t runs = 0, preempted_runs = 0;
  std::int64_t entries = 0, disturbed_entries = 0;
};

struct LatencyMeasurementOptions {
  LatencyDevice device;
  std::int64_t warmup = 5;
  std::int64_t repeats = 30;
  std::uint64_t seed = 0;           // inputs and weights (values do not change the cost), validation subnets
  std::FILE* progress = nullptr;    // where the progress bar goes; nullptr: silent
};

// Every distinct layer of `space` (layer_key.h) built from the network's own code and timed,
// plus a per-resolution network entry: the median over calibration subnets (smallest, middle and
// largest at that resolution) of their measured end-to-end time minus the sum of their layers'
// entries. Runs on options.device.threads threads.
LatencyTable measure_latency_table(const SearchSpace& space, const LatencyMeasurementOptions& options,
                                   MeasurementNoise* noise = nullptr);

// End-to-end medians of extracted networks of `subnets` (weights from a supernet seeded with
// options.seed), measured as the table's entries are.
std::vector<double> measure_subnets_ms(const SearchSpace& space, const std::vector<Subnet>& subnets,
                                       const LatencyMeasurementOptions& options, MeasurementNoise* noise = nullptr);

struct LatencyValidationSample {
  Subnet subnet;
  double predicted_ms = 0.0, measured_ms = 0.0;
};

struct LatencyValidation {
  std::vector<LatencyValidationSample> samples;
  double mean_absolute_percentage_error = 0.0;  // in percent
  MeasurementNoise noise;
};

// `count` subnets sampled uniformly with options.seed, predicted from `table` and measured.
LatencyValidation validate_latency_table(const LatencyTable& table, const SearchSpace& space, std::int64_t count,
                                         const LatencyMeasurementOptions& options);

}  // namespace ofa
