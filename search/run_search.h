#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

// `ofa search` and `ofa extract` over a trained run directory.
//
// search: measures (or reuses) the accuracies of seeded random subnets, trains the accuracy
// predictor (or reuses it), runs the constrained evolution once per target and NSGA-II once per
// metric, and writes into OUT:
//   NAME/subnet.json, NAME/weights.safetensors (extracted, BN recalibrated), NAME/result.json
//   pareto_METRIC.csv, pareto_METRIC.svg (the chosen subnets marked), search.json (all results)
// Every target is parsed and checked for feasibility before anything is measured or written.
namespace ofa {

struct SearchOptions {
  std::string run;
  std::vector<std::string> targets;  // NAME:METRIC<=VALUE
  std::string out;
  std::uint64_t seed = 0;
  std::int64_t generations = 500;
  std::int64_t pareto_generations = 200;
  std::int64_t predictor_samples = 500;
  std::int64_t validation_images = 0;  // per predictor sample; 0: the run's whole validation split
  bool force = false;                  // accept latency tables from another device or space
  int threads = 2;
};

// Returns what search.json holds; prints progress to stderr and the results table to stdout.
nlohmann::json run_search(const SearchOptions& options);

struct ExtractOptions {
  std::string run;
  std::string subnet = "max";  // max, min or a subnet JSON file
  std::string out;             // the extracted network's safetensors file
  std::string onnx;            // also an ONNX model of it (supernet/onnx_export.h), unless empty
  int threads = 2;
};

// Extracts, recalibrates BN and writes the subnet's weights (and ONNX model) atomically; returns
// a summary. The model is built before either file is written, so a failure writes neither.
nlohmann::json run_extract(const ExtractOptions& options);

}  // namespace ofa
