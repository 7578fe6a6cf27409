#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "search/accuracy_predictor.h"
#include "search/search_run.h"

// The accuracy predictor's training data: seeded random subnets of a run, each measured on the
// run's validation split after BN recalibration, cached in the run directory as JSONL
// (accuracy_samples.jsonl), one line per measurement:
//   {"seed": S, "index": I, "calibration_images": C, "validation_images": V, "subnet": {...}, "top1": A}
// Line I of a seed is sample I of supernet/subnet.h's sample_subnet(space, {}, S, I). Each
// measurement is appended and synced as soon as it is done, so an interrupted measurement
// resumes where it stopped and a larger --predictor-samples reuses what is there.
namespace ofa {

struct AccuracyDatasetOptions {
  std::int64_t samples = 500;
  std::uint64_t seed = 0;
  std::int64_t validation_images = 0;  // the first V images of the validation split; 0: all of it
};

std::string accuracy_cache_path(const std::string& run_directory);

struct CachedMeasurement {
  std::uint64_t seed = 0;
  std::int64_t index = 0;
  std::int64_t calibration_images = 0;
  std::int64_t validation_images = 0;
  AccuracySample sample;
};

// Every line of a cache file (none when it does not exist). A line that is not such a record is
// an ofa::Error naming the file and line, except an unterminated last line (a write the process
// did not live to finish), which is dropped: the file is rewritten atomically without it.
std::vector<CachedMeasurement> read_accuracy_cache(const std::string& path, const SearchSpace& space);

// Samples 0..samples-1 of the seed, from the cache where there, measured (and appended) where not.
// `progress(done, total)` is called after each subnet.
std::vector<AccuracySample> measure_accuracy_dataset(
    const SearchRun& run, const AccuracyDatasetOptions& options,
    const std::function<void(std::int64_t done, std::int64_t total)>& progress = {});

}  // namespace ofa
