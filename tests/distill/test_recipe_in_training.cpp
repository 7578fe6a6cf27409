#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "distill/trainer.h"
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

}  // namespace
}  // namespace ofa
