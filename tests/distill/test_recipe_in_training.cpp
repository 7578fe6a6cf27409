#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "distill/trainer.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"
#include "tests/distill/micro_run.h"

// The recipe's data settings must reach the training loop, not only the recipe parser: the
// trainer once built its augmentation before it had read the recipe, and every run cropped with
// the dataset's padding whatever the recipe said.
namespace ofa {
namespace {

TEST_F(MicroRun, TrainingCropsWithTheRecipesPadding) {
  const auto weights_after = [&](const std::string& name, const nlohmann::json& crop_padding) {
    nlohmann::json recipe = nlohmann::json::parse(kMicroRecipe);
    recipe["crop_padding"] = crop_padding;
    write_text(dir / (name + ".json"), recipe.dump());
    TrainOptions o = options(name, Device::cpu);
    o.recipe = dir / (name + ".json");
    train(o);
    return dir / (name + "/supernet.safetensors");
  };
  const std::string datasets = weights_after("datasets", nullptr);
  const std::string same_as_datasets = weights_after("padding-2", 2);  // Fashion-MNIST's own padding
  const std::string flip_only = weights_after("padding-0", 0);
  EXPECT_EQ(max_relative_difference(same_as_datasets, datasets), 0.0);
  const double changed = max_relative_difference(flip_only, datasets);
  RecordProperty("max_relative_weight_difference_without_crop", concat(changed));
  EXPECT_GT(changed, 1e-3);
}

// A from-scratch baseline trains one subnet: its validation and final evaluation must measure
// that subnet, not the space's largest and smallest, which it never trains.
TEST_F(MicroRun, OneSubnetRecipeIsValidatedOnItsSubnet) {
  nlohmann::json recipe = nlohmann::json::parse(kMicroRecipe);
  recipe["phases"] = {{{"name", "scratch"}, {"epochs", 2}, {"lr", 0.05}, {"kernel_sizes", {5}},
                       {"expand_ratios", {3}}, {"depths", {1}}, {"resolutions", {12}}}};
  write_text(dir / "scratch.json", recipe.dump());
  TrainOptions o = options("scratch", Device::cpu);
  o.recipe = dir / "scratch.json";
  const nlohmann::json results = train(o);

  const SearchSpace space = load_search_space(dir / "space.json");
  Subnet trained = smallest_subnet(space);
  for (auto& k : trained.kernel) k = 5;
  ASSERT_NE(trained, largest_subnet(space));
  ASSERT_NE(trained, smallest_subnet(space));
  EXPECT_EQ(results.at("largest").at("subnet"), subnet_to_json(trained));
  EXPECT_EQ(results.at("smallest").at("subnet"), subnet_to_json(trained));
  EXPECT_EQ(results.at("largest").at("test_top1"), results.at("smallest").at("test_top1"));

  const std::vector<nlohmann::json> validations = records(dir / "scratch/metrics.jsonl", "validation");
  ASSERT_EQ(validations.size(), 2u);
  for (const nlohmann::json& v : validations)
    for (const char* name : {"largest", "smallest", "random0", "random1"}) {
      SCOPED_TRACE(name);
      EXPECT_EQ(v.at(name).at("resolution"), 12);
      EXPECT_EQ(v.at(name), v.at("largest"));
    }
}

}  // namespace
}  // namespace ofa
