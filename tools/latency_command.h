#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "kernels/error.h"
#include "search/latency_measurement.h"
#include "search/latency_table.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

// `ofa latency`: measure a latency table of a search space on this machine, optionally check it
// against whole networks, and print a JSON summary. Header-only like info_command.h.
namespace ofa {

class LatencyCommand {
 public:
  explicit LatencyCommand(CLI::App& app)
      : command_(app.add_subcommand("latency", "Measure the batch-1 latency of every layer a search space can produce "
                                               "on this machine and write a latency table")) {
    command_->add_option("--space", space_, "A shipped search space or a search-space JSON file")->required();
    command_->add_option("--device", device_, "cpu, or cuda:N (CUDA events; not available in this build yet)")
        ->capture_default_str();
    command_->add_option("--threads", threads_, "Compute threads the layers run on (part of the table's device)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
    command_->add_option("--out", out_, "The latency table to write (JSON, written atomically)")->required();
    command_->add_option("--validate", validate_,
                         "Also measure K random subnets end to end and report predicted against measured latency")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000}));
    command_->add_option("--repeats", options_.repeats, "Timed runs per layer or network (the median is kept)")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000}));
    command_->add_option("--warmup", options_.warmup, "Untimed runs before the timed ones")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000000}));
    command_->add_option("--seed", options_.seed, "Seed of the random inputs, weights and validation subnets")
        ->capture_default_str();
    command_->add_option("--in-channels", in_channels_, "Input image channels, overriding the space's (1 or 3)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{4096}));
  }
  LatencyCommand(const LatencyCommand&) = delete;
  LatencyCommand& operator=(const LatencyCommand&) = delete;

  bool parsed() const { return command_->parsed(); }

  int run() {
    SearchSpace space = load_search_space(space_);
    if (in_channels_ > 0) space = space.with_input_channels(in_channels_);
    options_.device = parse_latency_device(device_, threads_, "--device");
    options_.progress = stderr;
    // Refused before any measuring: a directory or unwritable place would otherwise fail only
    // after minutes of work.
    const std::filesystem::path out(out_);
    OFA_CHECK(!std::filesystem::is_directory(out), concat("--out ", out_), "must name a file, not a directory");
    const std::filesystem::path directory = out.parent_path().empty() ? "." : out.parent_path();
    OFA_CHECK(std::filesystem::is_directory(directory) && access(directory.c_str(), W_OK) == 0, concat("--out ", out_),
              "the directory '", directory.string(), "' does not exist or is not writable");
    describe_this_device(options_.device);  // a backend this build lacks is refused before anything else

    std::fprintf(stderr, "ofa latency: %s on %s, %d thread(s), %lld warm-up + %lld timed runs each\n",
                 space.name.c_str(), options_.device.backend.c_str(), options_.device.threads,
                 static_cast<long long>(options_.warmup), static_cast<long long>(options_.repeats));
    MeasurementNoise noise;
    const LatencyTable table = measure_latency_table(space, options_, &noise);
    write_latency_table(table, out_);

    nlohmann::ordered_json report;
    report["table"] = out_;
    report["space"] = space.name;
    report["entries"] = table.milliseconds.size();
    report["entries_by_layer"] = entries_by_layer(table);
    report["device"] = {{"backend", table.device.backend},   {"processor", table.device.processor},
                        {"threads", table.device.threads},   {"compiler", table.device.compiler},
                        {"build", table.device.build}};
    report["warmup"] = table.measurement.warmup;
    report["repeats"] = table.measurement.repeats;
    report["seconds"] = table.measurement.seconds;
    report["noise"] = noise_json(noise);
    // The range a latency budget can take on this device (budgets outside it are infeasible or
    // select the largest subnet).
    report["predicted_ms"] = {{"smallest_subnet", predict_latency_ms(table, space, smallest_subnet(space))},
                              {"largest_subnet", predict_latency_ms(table, space, largest_subnet(space))}};
    if (validate_ > 0) {
      const LatencyValidation validation = validate_latency_table(table, space, validate_, options_);
      nlohmann::ordered_json subnets = nlohmann::ordered_json::array();
      for (const LatencyValidationSample& sample : validation.samples)
        subnets.push_back({{"subnet", subnet_to_json(sample.subnet)},
                           {"predicted_ms", sample.predicted_ms},
                           {"measured_ms", sample.measured_ms},
                           {"error_percent", 100.0 * (sample.predicted_ms - sample.measured_ms) / sample.measured_ms}});
      report["validation"] = {{"subnets", validate_},
                              {"seed", options_.seed},
                              {"mape_percent", validation.mean_absolute_percentage_error},
                              {"noise", noise_json(validation.noise)},
                              {"samples", subnets}};
    }
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }

 private:
  static nlohmann::ordered_json noise_json(const MeasurementNoise& noise) {
    return {{"timed_runs", noise.runs},
            {"preempted_runs", noise.preempted_runs},
            {"entries_without_enough_undisturbed_runs", noise.disturbed_entries}};
  }

  static nlohmann::ordered_json entries_by_layer(const LatencyTable& table) {
    nlohmann::ordered_json counts;
    for (LayerKind kind : {LayerKind::stem, LayerKind::block, LayerKind::head, LayerKind::network}) {
      std::int64_t count = 0;
      for (const auto& entry : table.milliseconds) count += entry.first.kind == kind ? 1 : 0;
      counts[layer_kind_name(kind)] = count;
    }
    return counts;
  }

  CLI::App* command_;
  std::string space_;
  std::string device_ = "cpu";
  int threads_ = 1;
  std::string out_;
  std::int64_t validate_ = 0;
  std::int64_t in_channels_ = 0;  // 0: the space's own
  LatencyMeasurementOptions options_;
};

}  // namespace ofa
