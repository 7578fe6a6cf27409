#include "distill/run_evaluation.h"

#include <filesystem>
#include <fstream>
#include <optional>

#include "distill/data/data_spec.h"
#include "distill/data/validation_split.h"
#include "distill/evaluation.h"
#include "distill/recipe.h"
#include "kernels/error.h"
#include "kernels/threads.h"
#include "supernet/counting.h"
#include "supernet/safetensors.h"
#include "supernet/weight_file.h"

namespace ofa {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  OFA_CHECK(in.good(), path, "cannot be read");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(path, "is not valid JSON: ", e.what());
  }
}

}  // namespace

nlohmann::json evaluate_run(const EvalOptions& options) {
  OFA_CHECK(options.run.empty() != options.weights.empty(), "ofa eval", "give exactly one of --run DIR and --weights FILE");
  OFA_CHECK(options.split == "valid" || options.split == "test", "ofa eval", "--split is '", options.split,
            "', expected valid or test");
  set_num_threads(options.threads);

  std::string data = options.data, weights = options.weights;
  std::uint64_t seed = options.seed;
  std::int64_t validation_images = 0;
  std::optional<std::int64_t> crop_padding;
  std::string recipe_origin;
  if (!options.run.empty()) {
    const std::string run_json = (std::filesystem::path(options.run) / "run.json").string();
    const nlohmann::json run = read_json(run_json);
    try {
      data = run.at("data").get<std::string>();
      seed = run.at("seed").get<std::uint64_t>();
      const Recipe recipe = parse_recipe(run.at("recipe"), run_json);
      validation_images = recipe.validation_images;
      crop_padding = recipe.crop_padding;
      recipe_origin = run_json;
    } catch (const nlohmann::json::exception& e) {
      fail(run_json, "is malformed: ", e.what());
    }
    weights = (std::filesystem::path(options.run) / "supernet.safetensors").string();
    OFA_CHECK(std::filesystem::exists(weights), options.run,
              "has no supernet.safetensors yet (the run has not finished; resume it with ofa train --resume)");
  }

  const DataSpec spec = parse_data_spec(data);
  const DataProfile profile = data_profile(spec, crop_padding, recipe_origin);
  const std::shared_ptr<const Dataset> train_full = open_dataset(spec, DataSplit::train);
  const TrainValidSplit split = split_validation(
      train_full, validation_images > 0 ? validation_images : default_validation_size(spec, train_full->size()), seed);
  const std::shared_ptr<const Dataset> target = options.split == "valid"
                                                    ? std::shared_ptr<const Dataset>(split.valid)
                                                    : open_dataset(spec, DataSplit::test);

  const SafetensorsFile header = load_safetensors(weights);
  ExtractedNetwork network;
  if (header.metadata_at("format") == "ofa-subnet-v1") {
    network = load_extracted(weights, options.device);
  } else {
    const std::unique_ptr<Supernet> supernet = load_supernet(weights, options.device);
    const Subnet subnet = load_subnet(options.subnet, supernet->space());
    network = extract_subnet(*supernet, subnet);
  }
  OFA_CHECK(network.space.in_channels == train_full->channels() && network.space.num_classes == train_full->num_classes(),
            weights, "expects ", network.space.in_channels, " channels and ", network.space.num_classes,
            " classes; the data '", data, "' has ", train_full->channels(), " and ", train_full->num_classes());
  recalibrate_batch_norm(*network.network, split.train, profile, network.subnet.resolution, options.calibration_images,
                         seed);
  const EvalResult r = evaluate(*network.network, target, profile, network.subnet.resolution);
  const SubnetCost cost = count_subnet(network.space, network.subnet);
  return {{"weights", weights},           {"subnet", subnet_to_json(network.subnet)},
          {"device", device_name(options.device)},
          {"split", options.split},       {"images", r.images},
          {"top1", r.top1},               {"top5", r.top5},
          {"loss", r.loss},               {"macs_m", cost.macs / 1e6},
          {"params_m", static_cast<double>(cost.params) / 1e6}};
}

}  // namespace ofa
