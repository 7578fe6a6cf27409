#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "distill/data/data_spec.h"
#include "distill/data/dataset.h"
#include "distill/recipe.h"
#include "supernet/extraction.h"
#include "supernet/supernet.h"

// A finished training run opened for search and extraction: its supernet, and the data splits
// exactly as training drew them (run.json's data, seed and recipe), so BN recalibration uses the
// training split and accuracies are measured on the same held-out validation split.
namespace ofa {

struct SearchRun {
  std::string directory;
  std::uint64_t seed = 0;
  std::int64_t calibration_images = 0;  // the recipe's bn_calibration_images
  Recipe recipe;                        // as run.json holds it
  DataProfile profile;
  std::shared_ptr<const Dataset> train;  // BN recalibration draws from it
  std::shared_ptr<const Dataset> valid;
  std::shared_ptr<const Dataset> test;
  std::unique_ptr<Supernet> supernet;

  const SearchSpace& space() const { return supernet->space(); }
};

// Throws ofa::Error naming the file: no run.json, malformed, or no supernet.safetensors yet.
SearchRun open_search_run(const std::string& directory);

// The standalone network of `subnet` with its BN statistics recalibrated (OFA's
// set_running_statistics) on the run's training split.
ExtractedNetwork calibrated_subnet(const SearchRun& run, const Subnet& subnet);

}  // namespace ofa
