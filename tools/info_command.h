#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

#include "kernels/error.h"
#include "supernet/counting.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

// `ofa info`: a subnet of a search space and what it costs, as JSON on stdout. Header-only: the
// command is included by ofa_main.cpp alone, and so needs no entry in the build files.
namespace ofa {

class InfoCommand {
 public:
  // Registers the `info` subcommand and its options on `app`.
  explicit InfoCommand(CLI::App& app)
      : command_(app.add_subcommand("info", "Print a subnet of a search space with its MACs, parameters, peak "
                                            "activation memory and the size of the space, as JSON")) {
    command_->add_option("--space", space_, space_help())->required();
    command_->add_option("--subnet", subnet_, "max, min, random or a subnet JSON file ({\"ks\", \"e\", \"d\", \"r\"})")
        ->capture_default_str();
    command_->add_option("--seed", seed_, "Seed of --subnet random (sample 0 of the seeded sampler)")
        ->capture_default_str();
    command_->add_option("--in-channels", in_channels_, "Input image channels, overriding the space's (1 or 3)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{4096}));
  }
  // CLI11 writes the options into this object's members, so it stays where it was built.
  InfoCommand(const InfoCommand&) = delete;
  InfoCommand& operator=(const InfoCommand&) = delete;

  bool parsed() const { return command_->parsed(); }

  // Prints the JSON report; throws ofa::Error on a bad space or subnet.
  int run() const {
    SearchSpace space = load_search_space(space_);
    if (in_channels_ > 0) space = space.with_input_channels(in_channels_);
    const Subnet subnet = subnet_ == "random" ? sample_subnet(space, {}, seed_, 0) : load_subnet(subnet_, space);
    const SubnetCost cost = count_subnet(space, subnet);
    const double subnets = count_subnets(space);

    nlohmann::ordered_json report;
    report["space"] = space.name;
    report["in_channels"] = space.in_channels;
    report["subnet"] = subnet_to_json(subnet);
    report["resolution"] = subnet.resolution;
    report["macs"] = static_cast<std::int64_t>(cost.macs);
    report["macs_m"] = cost.macs / 1e6;
    report["params"] = cost.params;
    report["params_m"] = static_cast<double>(cost.params) / 1e6;
    report["peak_activation_bytes"] = cost.peak_activation_bytes;
    report["peak_activation_kib"] = static_cast<double>(cost.peak_activation_bytes) / 1024.0;
    report["num_subnets"] = subnets;
    report["num_resolutions"] = space.resolutions.size();
    report["num_subnets_with_resolutions"] = subnets * static_cast<double>(space.resolutions.size());
    // One field per line, each value compact, so the 20-entry "ks"/"e" lists stay on one line.
    std::string text = "{";
    for (const auto& [key, value] : report.items())
      text += concat(text.size() > 1 ? ",\n  " : "\n  ", nlohmann::json(key).dump(), ": ", value.dump());
    std::printf("%s\n}\n", text.c_str());
    return 0;
  }

 private:
  static std::string space_help() {
    std::string names;
    for (const std::string& name : builtin_search_space_names()) names += concat(names.empty() ? "" : ", ", name);
    return concat("A shipped search space (", names, ") or a search-space JSON file");
  }

  CLI::App* command_;
  std::string space_;
  std::string subnet_ = "max";
  std::uint64_t seed_ = 0;
  std::int64_t in_channels_ = 0;  // 0: the space's own
};

}  // namespace ofa
