#include "search/search_run.h"

#include <filesystem>
#include <fstream>

#include "distill/data/validation_split.h"
#include "distill/evaluation.h"
#include "distill/recipe.h"
#include "kernels/error.h"
#include "supernet/weight_file.h"

namespace ofa {

SearchRun open_search_run(const std::string& directory) {
  namespace fs = std::filesystem;
  const std::string run_json = (fs::path(directory) / "run.json").string();
  OFA_CHECK(fs::is_regular_file(run_json), directory, "is not a run directory of ofa train (no run.json)");
  nlohmann::json document;
  {
    std::ifstream in(run_json);
    try {
      document = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail(run_json, "is not valid JSON: ", e.what());
    }
  }
  SearchRun run;
  run.directory = directory;
  std::string data;
  std::int64_t validation_images = 0;
  try {
    data = document.at("data").get<std::string>();
    run.seed = document.at("seed").get<std::uint64_t>();
    run.recipe = parse_recipe(document.at("recipe"), run_json);
    validation_images = run.recipe.validation_images;
    run.calibration_images = run.recipe.bn_calibration_images;
  } catch (const nlohmann::json::exception& e) {
    fail(run_json, "is malformed: ", e.what());
  }
  const std::string weights = (fs::path(directory) / "supernet.safetensors").string();
  OFA_CHECK(fs::exists(weights), directory,
            "has no supernet.safetensors yet (the run has not finished; resume it with ofa train --resume)");

  const DataSpec spec = parse_data_spec(data);
  run.profile = data_profile(spec, run.recipe.crop_padding, run_json);
  const std::shared_ptr<const Dataset> train_full = open_dataset(spec, DataSplit::train);
  const TrainValidSplit split = split_validation(
      train_full, validation_images > 0 ? validation_images : default_validation_size(spec, train_full->size()),
      run.seed);
  run.train = split.train;
  run.valid = split.valid;
  run.test = open_dataset(spec, DataSplit::test);
  run.supernet = load_supernet(weights);
  const SearchSpace& space = run.supernet->space();
  OFA_CHECK(space.in_channels == train_full->channels() && space.num_classes == train_full->num_classes(), weights,
            "expects ", space.in_channels, " channels and ", space.num_classes, " classes; the run's data '", data,
            "' has ", train_full->channels(), " and ", train_full->num_classes());
  return run;
}

ExtractedNetwork calibrated_subnet(const SearchRun& run, const Subnet& subnet) {
  ExtractedNetwork network = extract_subnet(*run.supernet, subnet);
  recalibrate_batch_norm(*network.network, run.train, run.profile, subnet.resolution, run.calibration_images, run.seed);
  return network;
}

}  // namespace ofa
