#include "search/latency_measurement.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "distill/progress.h"
#include "kernels/error.h"
#include "kernels/ops/batch_norm.h"
#include "kernels/ops/dense_conv.h"
#include "kernels/ops/linear.h"
#include "kernels/ops/pointwise_conv.h"
#include "kernels/ops/pooling.h"
#include "kernels/threads.h"
#include "search/layer_key.h"
#include "supernet/extraction.h"
#include "supernet/initialization.h"
#include "supernet/mbconv_block.h"
#include "supernet/supernet.h"

namespace ofa {
namespace {

using Clock = std::chrono::steady_clock;
using Run = std::function<void()>;

// Workloads whose runs are interleaved, so that a change in the machine's load is shared out
// among them. Whole networks go in small groups: a timed run follows an untimed run of the same
// network, yet interleaved with 15 others (3-8 MB of weights each on mbv3-small) the same 8
// subnets measured 12 % slower than among themselves, and the validation of random subnets,
// measured in groups of 16 against a table calibrated on a group of 9 networks, erred by -15 to
// -22 %; in groups of 4 its error is 2.9-4.5 % (2-core development machine, OpenBLAS SkylakeX).
constexpr std::size_t kLayerGroupSize = 16;
constexpr std::size_t kNetworkGroupSize = 4;

class CpuTimer final : public LatencyTimer {
 public:
  Timing time(const std::function<void()>& work) override {
    const long switches_before = involuntary_context_switches();
    const Clock::time_point start = Clock::now();
    work();
    const Clock::time_point stop = Clock::now();
    return {std::chrono::duration<double, std::milli>(stop - start).count(),
            involuntary_context_switches() != switches_before};
  }

 private:
  // Of every thread of the process: an OpenMP worker preempted delays the whole run.
  static long involuntary_context_switches() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_nivcsw;
  }
};

// The measurement runs on the table's thread count; the caller's setting comes back afterwards.
class ThreadCountScope {
 public:
  explicit ThreadCountScope(int threads) : previous_(num_threads()) { set_num_threads(threads); }
  ~ThreadCountScope() { set_num_threads(previous_); }
  ThreadCountScope(const ThreadCountScope&) = delete;
  ThreadCountScope& operator=(const ThreadCountScope&) = delete;

 private:
  int previous_;
};

// "[########............] layers 120/226 ETA 12s", redrawn in place on a terminal at most ten
// times a second; elsewhere a line at every tenth of the work.
class MeasurementProgress {
 public:
  MeasurementProgress(std::FILE* out, std::string what, std::int64_t items, std::int64_t runs_per_item)
      : out_(out), what_(std::move(what)), items_(items), runs_per_item_(runs_per_item),
        terminal_(out != nullptr && isatty(fileno(out)) == 1) {}
  ~MeasurementProgress() {
    if (out_ != nullptr && terminal_ && drawn_) std::fputc('\n', out_);
  }
  MeasurementProgress(const MeasurementProgress&) = delete;
  MeasurementProgress& operator=(const MeasurementProgress&) = delete;

  void runs_done(std::int64_t runs) {
    runs_ += runs;
    if (out_ == nullptr) return;
    const std::int64_t total = items_ * runs_per_item_;
    const auto now = Clock::now();
    if (terminal_) {
      if (drawn_ && runs_ < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
      std::fprintf(out_, "\r%s\x1b[K", line(total, now).c_str());
    } else {
      const std::int64_t tenth = runs_ * 10 / std::max<std::int64_t>(total, 1);
      if (tenth == last_tenth_) return;
      last_tenth_ = tenth;
      std::fprintf(out_, "%s\n", line(total, now).c_str());
    }
    std::fflush(out_);
    last_draw_ = now;
    drawn_ = true;
  }

 private:
  std::string line(std::int64_t total, Clock::time_point now) const {
    constexpr std::int64_t cells = 20;
    const std::int64_t filled = std::clamp<std::int64_t>(runs_ * cells / std::max<std::int64_t>(total, 1), 0, cells);
    std::string bar(cells + 2, '.');
    bar.front() = '[';
    bar.back() = ']';
    std::fill_n(bar.begin() + 1, filled, '#');
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double eta = runs_ > 0 ? elapsed * static_cast<double>(total - runs_) / static_cast<double>(runs_) : NAN;
    return concat(bar, ' ', what_, ' ', std::min(runs_ / runs_per_item_, items_), '/', items_, " ETA ",
                  format_duration(eta));
  }

  std::FILE* out_;
  std::string what_;
  std::int64_t items_, runs_per_item_, runs_ = 0, last_tenth_ = -1;
  bool terminal_, drawn_ = false;
  Clock::time_point start_ = Clock::now(), last_draw_{};
};

double median(std::vector<double> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  if (values.size() % 2 == 1) return *middle;
  return 0.5 * (*middle + *std::max_element(values.begin(), middle));
}

Tensor random_tensor(const Shape& shape, std::uint64_t seed, std::uint64_t stream) {
  Tensor t = Tensor::empty(shape);
  init_normal(t, 1.0f, seed, stream);
  return t;
}

BatchNormParams batch_norm_params(std::int64_t channels) {
  return {Tensor::full({channels}, 1.0f), Tensor::zeros({channels}), Tensor::zeros({channels}),
          Tensor::full({channels}, 1.0f)};
}

// The ops Network::forward runs for its stem, in eval mode.
Run stem_run(const LayerKey& key, std::uint64_t seed) {
  struct Stem {
    Tensor images, weight, pre, out;
    BatchNormParams bn;
  };
  const std::int64_t side = (key.input_size - 1) / key.stride + 1;
  auto stem = std::make_shared<Stem>(Stem{random_tensor({1, key.input_size, key.input_size, key.in_channels}, seed, 0),
                                          random_tensor({key.out_channels, key.kernel, key.kernel, key.in_channels}, seed, 1),
                                          Tensor::empty({1, side, side, key.out_channels}),
                                          Tensor::empty({1, side, side, key.out_channels}), batch_norm_params(key.out_channels)});
  return [stem, key] {
    dense_conv_forward(stem->images, stem->weight, key.out_channels, key.stride, stem->pre);
    batch_norm_eval_forward(stem->pre, stem->bn, key.activation, stem->out);
  };
}

// One MBConvBlock, built from the plan the extracted network builds it from, in eval mode.
Run block_run(const PlannedLayer& layer, std::uint64_t seed) {
  struct Block {
    MBConvBlock block;
    Tensor input;
    ActiveBlock active;
  };
  const BlockPlan& plan = layer.block;
  auto block = std::make_shared<Block>(Block{MBConvBlock(plan, seed, 16),
                                             random_tensor({1, layer.key.input_size, layer.key.input_size, plan.in_channels}, seed, 0),
                                             {plan.max_kernel(), plan.max_mid_channels, plan.max_se_channels}});
  return [block] { block->block.forward(block->input, block->active, false, BatchNormConfig{}); };
}

// The ops Network::forward runs for its head, in eval mode (no dropout).
Run head_run(const SearchSpace& space, const LayerKey& key, std::uint64_t seed) {
  struct Head {
    Tensor input, final_expand, final_pre, final_out, pooled, feature_mix, mix_pre, mix_out, classifier, bias, logits;
    BatchNormParams final_bn;
  };
  const std::int64_t final = space.final_expand_channels(), mix = space.feature_mix_channels();
  const std::int64_t side = key.input_size, classes = key.out_channels;
  auto head = std::make_shared<Head>(Head{random_tensor({1, side, side, key.in_channels}, seed, 0),
                                          random_tensor({final, key.in_channels}, seed, 1),
                                          Tensor::empty({1, side, side, final}),
                                          Tensor::empty({1, side, side, final}),
                                          Tensor::empty({1, final}),
                                          random_tensor({mix, final}, seed, 2),
                                          Tensor::empty({1, mix}),
                                          Tensor::empty({1, mix}),
                                          random_tensor({classes, mix}, seed, 3),
                                          Tensor::zeros({classes}),
                                          Tensor::empty({1, classes}),
                                          batch_norm_params(final)});
  return [head, key, final, mix, classes] {
    pointwise_conv_forward(head->input, head->final_expand, final, head->final_pre);
    batch_norm_eval_forward(head->final_pre, head->final_bn, key.activation, head->final_out);
    global_avg_pool_forward(head->final_out, head->pooled);
    linear_forward(head->pooled, head->feature_mix, nullptr, mix, head->mix_pre);
    activation_forward(key.activation, head->mix_pre, head->mix_out);
    linear_forward(head->mix_out, head->classifier, &head->bias, classes, head->logits);
  };
}

Run layer_run(const SearchSpace& space, const PlannedLayer& layer, std::uint64_t seed) {
  switch (layer.key.kind) {
    case LayerKind::stem: return stem_run(layer.key, seed);
    case LayerKind::block: return block_run(layer, seed);
    case LayerKind::head: return head_run(space, layer.key, seed);
    case LayerKind::network: break;
  }
  fail("measure_latency_table", "the network entry is derived from whole networks, not timed as a layer");
}

// The extracted network of `subnet` on one random image, in eval mode.
Run network_run(const Supernet& supernet, const Subnet& subnet, std::uint64_t seed) {
  struct Extracted {
    ExtractedNetwork extracted;
    Tensor images;
  };
  const std::int64_t r = subnet.resolution;
  auto network = std::make_shared<Extracted>(
      Extracted{extract_subnet(supernet, subnet), random_tensor({1, r, r, supernet.space().in_channels}, seed, 0)});
  return [network] { network->extracted.network->forward(network->images, false); };
}

// Medians of `count` workloads built by make_run(i), `group_size` at a time: warm-up runs of each,
// then rounds that visit every workload still short of `repeats` undisturbed samples (header).
std::vector<double> measure_interleaved(std::size_t count, std::size_t group_size,
                                        const std::function<Run(std::size_t)>& make_run, LatencyTimer& timer,
                                        const LatencyMeasurementOptions& options, MeasurementProgress& progress,
                                        MeasurementNoise& noise) {
  const auto wanted = static_cast<std::size_t>(options.repeats);
  const std::int64_t max_attempts = kMaxAttemptsPerSample * options.repeats;
  std::vector<double> medians;
  for (std::size_t begin = 0; begin < count; begin += group_size) {
    std::vector<Run> runs;
    for (std::size_t i = begin; i < std::min(count, begin + group_size); ++i) runs.push_back(make_run(i));
    for (Run& run : runs) {
      for (std::int64_t w = 0; w < options.warmup; ++w) run();
      progress.runs_done(options.warmup);
    }
    std::vector<std::vector<double>> clean(runs.size()), all(runs.size());
    for (std::int64_t attempt = 0; attempt < max_attempts; ++attempt) {
      bool more = false;
      for (std::size_t i = 0; i < runs.size(); ++i) {
        if (clean[i].size() >= wanted) continue;
        runs[i]();  // the other workloads of the round have just evicted this one's data
        const Timing timing = timer.time(runs[i]);
        ++noise.runs;
        all[i].push_back(timing.milliseconds);
        if (timing.preempted) {
          ++noise.preempted_runs;
        } else {
          clean[i].push_back(timing.milliseconds);
          progress.runs_done(1);
        }
        more = more || clean[i].size() < wanted;
      }
      if (!more) break;
    }
    for (std::size_t i = 0; i < runs.size(); ++i) {
      ++noise.entries;
      if (clean[i].size() < wanted) {
        ++noise.disturbed_entries;
        progress.runs_done(static_cast<std::int64_t>(wanted - clean[i].size()));
      }
      medians.push_back(median(clean[i].empty() ? all[i] : clean[i]));
    }
  }
  return medians;
}

void check_options(const LatencyMeasurementOptions& options) {
  OFA_CHECK(options.warmup >= 0, "latency measurement", "warm-up runs must be >= 0, got ", options.warmup);
  OFA_CHECK(options.repeats >= 1, "latency measurement", "repeats must be >= 1, got ", options.repeats);
}

Subnet uniform_subnet(const SearchSpace& space, std::size_t choice_of_three, std::int64_t resolution) {
  const auto pick = [choice_of_three](const auto& choices) {
    return choices[(choices.size() - 1) * choice_of_three / 2];
  };
  const auto slots = static_cast<std::size_t>(space.num_block_slots());
  return {std::vector<std::int64_t>(slots, pick(space.kernel_sizes)), std::vector<double>(slots, pick(space.expand_ratios)),
          std::vector<std::int64_t>(space.stages.size(), pick(space.depths)), resolution};
}

double sum_of_layers(const LatencyTable& table, const SearchSpace& space, const Subnet& subnet) {
  double milliseconds = 0.0;
  for (const PlannedLayer& layer : subnet_layers(space, subnet))
    if (layer.key.kind != LayerKind::network) milliseconds += table.milliseconds.at(layer.key);
  return milliseconds;
}

std::vector<double> measure_networks(const SearchSpace& space, const std::vector<Subnet>& subnets,
                                     LatencyTimer& timer, const LatencyMeasurementOptions& options,
                                     MeasurementProgress& progress, MeasurementNoise& noise) {
  const Supernet supernet(space, options.seed);
  return measure_interleaved(
      subnets.size(), kNetworkGroupSize,
      [&](std::size_t i) { return network_run(supernet, subnets[i], options.seed + 1 + i); }, timer, options, progress,
      noise);
}

}  // namespace

std::unique_ptr<LatencyTimer> make_latency_timer(const LatencyDevice& device) {
  describe_this_device(device);  // throws for a backend this build cannot time
  return std::make_unique<CpuTimer>();
}

LatencyTable measure_latency_table(const SearchSpace& space, const LatencyMeasurementOptions& options,
                                   MeasurementNoise* noise) {
  check_options(options);
  MeasurementNoise own_noise;
  MeasurementNoise& counted = noise != nullptr ? *noise : own_noise;
  const Clock::time_point start = Clock::now();
  LatencyTable table;
  table.space_name = space.name;
  table.space = space.to_json();
  table.device = describe_this_device(options.device);
  table.measurement.warmup = options.warmup;
  table.measurement.repeats = options.repeats;
  const std::unique_ptr<LatencyTimer> timer = make_latency_timer(options.device);
  const ThreadCountScope threads(options.device.threads);

  std::vector<PlannedLayer> layers;
  for (auto& [key, layer] : space_layers(space))
    if (key.kind != LayerKind::network) layers.push_back(layer);
  std::vector<Subnet> calibration;
  for (std::int64_t resolution : space.resolutions)
    for (std::size_t choice = 0; choice < 3; ++choice) calibration.push_back(uniform_subnet(space, choice, resolution));

  const std::int64_t runs_per_item = options.warmup + options.repeats;
  {
    MeasurementProgress progress(options.progress, "layers", static_cast<std::int64_t>(layers.size()), runs_per_item);
    const std::vector<double> medians = measure_interleaved(
        layers.size(), kLayerGroupSize, [&](std::size_t i) { return layer_run(space, layers[i], options.seed); },
        *timer, options, progress, counted);
    for (std::size_t i = 0; i < layers.size(); ++i) table.milliseconds[layers[i].key] = medians[i];
  }
  {
    MeasurementProgress progress(options.progress, "calibration networks", static_cast<std::int64_t>(calibration.size()),
                                 runs_per_item);
    const std::vector<double> measured = measure_networks(space, calibration, *timer, options, progress, counted);
    for (std::size_t r = 0; r < space.resolutions.size(); ++r) {
      std::vector<double> residuals;
      for (std::size_t c = 3 * r; c < 3 * r + 3; ++c)
        residuals.push_back(measured[c] - sum_of_layers(table, space, calibration[c]));
      LayerKey network;
      network.kind = LayerKind::network;
      network.input_size = space.resolutions[r];
      table.milliseconds[network] = median(residuals);
    }
  }
  table.measurement.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return table;
}

std::vector<double> measure_subnets_ms(const SearchSpace& space, const std::vector<Subnet>& subnets,
                                       const LatencyMeasurementOptions& options, MeasurementNoise* noise) {
  check_options(options);
  MeasurementNoise own_noise;
  const std::unique_ptr<LatencyTimer> timer = make_latency_timer(options.device);
  const ThreadCountScope threads(options.device.threads);
  MeasurementProgress progress(options.progress, "networks", static_cast<std::int64_t>(subnets.size()),
                               options.warmup + options.repeats);
  return measure_networks(space, subnets, *timer, options, progress, noise != nullptr ? *noise : own_noise);
}

LatencyValidation validate_latency_table(const LatencyTable& table, const SearchSpace& space, std::int64_t count,
                                         const LatencyMeasurementOptions& options) {
  OFA_CHECK(count >= 1, "latency validation", "the number of subnets must be >= 1, got ", count);
  std::vector<Subnet> subnets;
  for (std::int64_t i = 0; i < count; ++i) subnets.push_back(sample_subnet(space, {}, options.seed, static_cast<std::uint64_t>(i)));
  LatencyValidation validation;
  const std::vector<double> measured = measure_subnets_ms(space, subnets, options, &validation.noise);
  double total_error = 0.0;
  for (std::size_t i = 0; i < subnets.size(); ++i) {
    const double predicted = predict_latency_ms(table, space, subnets[i]);
    validation.samples.push_back({subnets[i], predicted, measured[i]});
    total_error += std::abs(predicted - measured[i]) / measured[i];
  }
  validation.mean_absolute_percentage_error = 100.0 * total_error / static_cast<double>(subnets.size());
  return validation;
}

}  // namespace ofa
