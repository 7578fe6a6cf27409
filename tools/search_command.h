#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "search/run_search.h"

// `ofa search`. Header-only like info_command.h: included by ofa_main.cpp alone.
namespace ofa {

class SearchCommand {
 public:
  explicit SearchCommand(CLI::App& app)
      : command_(app.add_subcommand("search",
                                    "Find the most accurate subnet of a trained run for each target "
                                    "budget; extract it and write the Pareto fronts")) {
    command_->add_option("--run", options_.run, "A run directory of ofa train")->required();
    command_
        ->add_option("--target", options_.targets,
                     "NAME:METRIC<=VALUE, repeatable. METRIC: macs (M), params (M), memory (KB, peak batch-1 "
                     "activations), latency@TABLE.json (ms, a table from ofa latency)")
        ->required();
    command_
        ->add_option("--out", options_.out,
                     "Output folder: NAME/{subnet.json,weights.safetensors,result.json}, "
                     "pareto_METRIC.{csv,svg}, search.json")
        ->required();
    command_->add_option("--seed", options_.seed, "Decides the measured subnets, the predictor and the searches")
        ->capture_default_str();
    command_->add_option("--generations", options_.generations, "Generations of the constrained evolution")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    command_->add_option("--pareto-generations", options_.pareto_generations, "Generations of NSGA-II per front")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    command_
        ->add_option("--predictor-samples", options_.predictor_samples,
                     "Random subnets whose validation accuracy trains the predictor (cached in the run directory)")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{10}, std::int64_t{1000000}));
    command_
        ->add_option("--validation-images", options_.validation_images,
                     "Validation images per measured subnet (0: the run's whole validation split)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    command_->add_flag("--force", options_.force, "Use latency tables measured for another device or space");
    command_->footer(
        "Quote each target: '<' is a shell redirection. Example:\n"
        "  ofa search --run runs/demo --target 'tiny:macs<=5' --target 'cpu:latency@cpu.json<=8' --out runs/demo/search");
    command_->add_option("--threads", options_.threads, "Compute threads")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
  }
  SearchCommand(const SearchCommand&) = delete;
  SearchCommand& operator=(const SearchCommand&) = delete;

  bool parsed() const { return command_->parsed(); }
  int run() const {
    run_search(options_);
    return 0;
  }

 private:
  CLI::App* command_;
  SearchOptions options_;
};

}  // namespace ofa
