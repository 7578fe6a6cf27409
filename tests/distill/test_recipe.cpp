#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "distill/recipe.h"
#include "tests/distill/data_fixtures.h"

namespace ofa {
namespace {

using json = nlohmann::json;
using testing::expect_error;
using testing::TempDir;

json minimal_document() {
  return {{"name", "x"}, {"phases", {{{"name", "only"}, {"epochs", 2}, {"lr", 0.1}}}}};
}

std::vector<std::string> phase_names(const Recipe& recipe) {
  std::vector<std::string> names;
  for (const Phase& phase : recipe.phases) names.push_back(phase.name);
  return names;
}

TEST(RecipeTest, ShipsPsSandwichAndDemo) {
  EXPECT_EQ(builtin_recipe_names(), (std::vector<std::string>{"demo", "ps", "sandwich"}));
  for (const std::string& space_name : builtin_search_space_names()) {
    const SearchSpace space = load_search_space(space_name);
    for (const std::string& name : builtin_recipe_names()) {
      const Recipe recipe = load_recipe(name);
      EXPECT_EQ(recipe.name, name);
      EXPECT_EQ(recipe.origin, "builtin:" + name);
      EXPECT_FALSE(recipe.description.empty()) << name;
      EXPECT_NO_THROW(validate_recipe(recipe, space)) << name << " in " << space_name;
    }
  }
}

TEST(RecipeTest, PsShrinksProgressivelyWithInPlaceDistillation) {
  const Recipe ps = load_recipe("ps");
  EXPECT_EQ(phase_names(ps), (std::vector<std::string>{"teacher", "kernel", "depth-1", "depth-2", "expand-1", "expand-2"}));
  const std::vector<std::int64_t> subnets = {1, 2, 2, 2, 3, 4};
  const std::vector<std::vector<std::int64_t>> kernels = {{7}, {3, 5, 7}, {3, 5, 7}, {3, 5, 7}, {3, 5, 7}, {3, 5, 7}};
  const std::vector<std::vector<double>> expands = {{6}, {6}, {6}, {6}, {4, 6}, {3, 4, 6}};
  const std::vector<std::vector<std::int64_t>> depths = {{4}, {4}, {3, 4}, {2, 3, 4}, {2, 3, 4}, {2, 3, 4}};
  for (std::size_t p = 0; p < ps.phases.size(); ++p) {
    const Phase& phase = ps.phases[p];
    SCOPED_TRACE(phase.name);
    EXPECT_EQ(phase.subnets_per_step, subnets[p]);
    EXPECT_EQ(phase.choices.kernel_sizes, kernels[p]);
    EXPECT_EQ(phase.choices.expand_ratios, expands[p]);
    EXPECT_EQ(phase.choices.depths, depths[p]);
    EXPECT_TRUE(phase.choices.resolutions.empty());
    EXPECT_EQ(phase.largest_resolution_only, p == 0);  // the teacher at the largest, the shrinking phases at every one
    // Sandwich sampling in the shrinking phases trains the smallest subnet every step (recipe description).
    EXPECT_EQ(phase.sampling, p == 0 ? SamplingRule::random : SamplingRule::sandwich);
    EXPECT_EQ(phase.kd_ratio, p == 0 ? 0.0 : 1.0);
    EXPECT_EQ(phase.reorganize_channels, p >= 4);
    EXPECT_GT(phase.lr, 0.0);
    if (p > 0) {
      EXPECT_LT(phase.lr, ps.phases[0].lr);  // OFA fine-tunes the shrinking phases at lower rates
    }
  }
  EXPECT_EQ(ps.train_images_per_epoch, 0);
}

TEST(RecipeTest, DemoIsAShortPs) {
  const Recipe ps = load_recipe("ps");
  const Recipe demo = load_recipe("demo");
  EXPECT_EQ(phase_names(demo), phase_names(ps));
  for (std::size_t p = 0; p < ps.phases.size(); ++p) {
    EXPECT_EQ(demo.phases[p].choices.kernel_sizes, ps.phases[p].choices.kernel_sizes);
    EXPECT_EQ(demo.phases[p].choices.expand_ratios, ps.phases[p].choices.expand_ratios);
    EXPECT_EQ(demo.phases[p].choices.depths, ps.phases[p].choices.depths);
    EXPECT_EQ(demo.phases[p].reorganize_channels, ps.phases[p].reorganize_channels);
    // ps epochs cover the whole Fashion-MNIST training split, at least 50000 images after validation
    EXPECT_LT(demo.phases[p].epochs * static_cast<double>(demo.train_images_per_epoch),
              ps.phases[p].epochs * 50000)
        << demo.phases[p].name;
  }
  EXPECT_EQ(ps.train_images_per_epoch, 0);
  EXPECT_GT(demo.train_images_per_epoch, 0);
  EXPECT_LT(demo.train_images_per_epoch, 60000);
}

TEST(RecipeTest, SandwichSamplesTheWholeSpace) {
  const Recipe sandwich = load_recipe("sandwich");
  ASSERT_EQ(sandwich.phases.size(), 1u);
  const Phase& phase = sandwich.phases[0];
  EXPECT_EQ(phase.sampling, SamplingRule::sandwich);
  EXPECT_EQ(phase.subnets_per_step, 4);
  EXPECT_EQ(phase.kd_ratio, 1.0);
  const SearchSpace space = load_search_space("mbv3-small");
  const ElasticChoices all = resolve_choices(phase.choices, space);
  EXPECT_EQ(all.kernel_sizes, space.kernel_sizes);
  EXPECT_EQ(all.expand_ratios, space.expand_ratios);
  EXPECT_EQ(all.depths, space.depths);
  EXPECT_EQ(all.resolutions, space.resolutions);
}

TEST(RecipeTest, OmittedKeysTakeTheDefaults) {
  const Recipe recipe = parse_recipe(minimal_document(), "x.json");
  const Recipe defaults;
  EXPECT_EQ(recipe.name, "x");
  EXPECT_EQ(recipe.origin, "x.json");
  EXPECT_EQ(recipe.description, "");
  EXPECT_EQ(recipe.batch_size, defaults.batch_size);
  EXPECT_EQ(recipe.momentum, defaults.momentum);
  EXPECT_EQ(recipe.nesterov, defaults.nesterov);
  EXPECT_EQ(recipe.weight_decay, defaults.weight_decay);
  EXPECT_EQ(recipe.label_smoothing, defaults.label_smoothing);
  EXPECT_EQ(recipe.kd_temperature, defaults.kd_temperature);
  EXPECT_EQ(recipe.lr_warmup_start, defaults.lr_warmup_start);
  EXPECT_EQ(recipe.train_images_per_epoch, defaults.train_images_per_epoch);
  EXPECT_EQ(recipe.validation_images, defaults.validation_images);
  EXPECT_EQ(recipe.bn_calibration_images, defaults.bn_calibration_images);
  EXPECT_FALSE(recipe.crop_padding.has_value());
  EXPECT_EQ(recipe.checkpoint_every_steps, defaults.checkpoint_every_steps);
  EXPECT_EQ(recipe.log_every_steps, defaults.log_every_steps);
  ASSERT_EQ(recipe.phases.size(), 1u);
  const Phase& phase = recipe.phases[0];
  EXPECT_EQ(phase.name, "only");
  EXPECT_EQ(phase.epochs, 2.0);
  EXPECT_EQ(phase.lr, 0.1);
  EXPECT_EQ(phase.warmup_epochs, 0.0);
  EXPECT_EQ(phase.subnets_per_step, 1);
  EXPECT_EQ(phase.sampling, SamplingRule::random);
  EXPECT_EQ(phase.kd_ratio, 0.0);
  EXPECT_FALSE(phase.reorganize_channels);
  EXPECT_TRUE(phase.choices.kernel_sizes.empty());
  EXPECT_TRUE(phase.choices.expand_ratios.empty());
  EXPECT_TRUE(phase.choices.depths.empty());
  EXPECT_TRUE(phase.choices.resolutions.empty());
}

TEST(RecipeTest, ChoicesAreSortedAndEpochsMayBeFractional) {
  json document = minimal_document();
  document["phases"][0]["kernel_sizes"] = {7, 3, 5};
  document["phases"][0]["expand_ratios"] = {6, 3.5};
  document["phases"][0]["epochs"] = 0.25;
  const Recipe recipe = parse_recipe(document, "x.json");
  EXPECT_EQ(recipe.phases[0].choices.kernel_sizes, (std::vector<std::int64_t>{3, 5, 7}));
  EXPECT_EQ(recipe.phases[0].choices.expand_ratios, (std::vector<double>{3.5, 6}));
  EXPECT_EQ(recipe.phases[0].epochs, 0.25);
}

TEST(RecipeTest, CanonicalJsonReadsBackToTheSameRecipe) {
  for (const std::string& name : builtin_recipe_names()) {
    const Recipe recipe = load_recipe(name);
    const json canonical = recipe.to_json();
    EXPECT_FALSE(canonical.contains("origin"));
    const Recipe again = parse_recipe(canonical, "run.json");
    EXPECT_EQ(again.to_json(), canonical) << name;
    EXPECT_EQ(canonical["phases"][0]["sampling"], name == "sandwich" ? "sandwich" : "random");
  }
  json document = minimal_document();
  document["phases"][0]["expand_ratios"] = {3, 4.5};
  document["phases"][0]["epochs"] = 1.5;
  const json canonical = parse_recipe(document, "x.json").to_json();
  EXPECT_EQ(canonical["phases"][0]["expand_ratios"].dump(), "[3,4.5]");  // integral ratios stay integers
  EXPECT_EQ(parse_recipe(canonical, "again").to_json(), canonical);
  EXPECT_TRUE(canonical["crop_padding"].is_null());  // the dataset's

  document["crop_padding"] = 0;
  const Recipe no_crop = parse_recipe(document, "x.json");
  ASSERT_TRUE(no_crop.crop_padding.has_value());
  EXPECT_EQ(*no_crop.crop_padding, 0);
  EXPECT_EQ(parse_recipe(no_crop.to_json(), "again").crop_padding, std::optional<std::int64_t>(0));
  document["crop_padding"] = nullptr;
  EXPECT_FALSE(parse_recipe(document, "x.json").crop_padding.has_value());
}

// Each case changes one field of a valid document; the error must name the file, the field's
// path and what was expected.
struct BadRecipe {
  const char* what;
  json::json_pointer pointer;
  json value;
  std::vector<std::string> message;
};

TEST(RecipeTest, RejectsBadFieldsNamingFileAndPath) {
  const std::vector<BadRecipe> cases = {
      {"unknown key", json::json_pointer("/batchsize"), 64, {"x.json: batchsize: unknown key", "batch_size"}},
      {"zero batch", json::json_pointer("/batch_size"), 0, {"x.json: batch_size: expected a positive integer, got 0"}},
      {"fractional batch", json::json_pointer("/batch_size"), 64.5, {"batch_size: expected an integer"}},
      {"momentum 1", json::json_pointer("/momentum"), 1.0, {"momentum: expected a value in [0, 1)"}},
      {"nesterov text", json::json_pointer("/nesterov"), "yes", {"nesterov: expected true or false"}},
      {"decay < 0", json::json_pointer("/weight_decay"), -1e-5, {"weight_decay: expected a value >= 0"}},
      {"smoothing 1", json::json_pointer("/label_smoothing"), 1.0, {"label_smoothing: expected a value in [0, 1)"}},
      {"temperature 0", json::json_pointer("/kd_temperature"), 0, {"kd_temperature: expected a positive temperature"}},
      {"negative subset", json::json_pointer("/train_images_per_epoch"), -5, {"train_images_per_epoch: expected an integer >= 0"}},
      {"negative padding", json::json_pointer("/crop_padding"), -1, {"x.json: crop_padding: expected an integer >= 0", "only the flip"}},
      {"fractional padding", json::json_pointer("/crop_padding"), 1.5, {"x.json: crop_padding: expected an integer"}},
      {"no calibration", json::json_pointer("/bn_calibration_images"), 0, {"bn_calibration_images: expected a positive"}},
      {"log every 0", json::json_pointer("/log_every_steps"), 0, {"log_every_steps: expected a positive"}},
      {"empty name", json::json_pointer("/name"), "", {"x.json: name: expected a non-empty string"}},
      {"no phases", json::json_pointer("/phases"), json::array(), {"x.json: phases: expected a non-empty list"}},
      {"phase not object", json::json_pointer("/phases/0"), 3, {"x.json: phases[0]: expected an object"}},
      {"unknown phase key", json::json_pointer("/phases/0/kd"), 1.0, {"x.json: phases[0].kd: unknown key", "kd_ratio"}},
      {"zero epochs", json::json_pointer("/phases/0/epochs"), 0, {"x.json: phases[0].epochs: expected a positive number"}},
      {"epochs text", json::json_pointer("/phases/0/epochs"), "3", {"phases[0].epochs: expected a number, got string"}},
      {"negative lr", json::json_pointer("/phases/0/lr"), -0.1, {"phases[0].lr: expected a learning rate >= 0"}},
      {"long warm-up", json::json_pointer("/phases/0/warmup_epochs"), 3, {"phases[0].warmup_epochs: expected a value in [0, epochs = 2]"}},
      {"no subnets", json::json_pointer("/phases/0/subnets_per_step"), 0, {"phases[0].subnets_per_step: expected 1 to"}},
      {"too many subnets", json::json_pointer("/phases/0/subnets_per_step"), 1000, {"phases[0].subnets_per_step"}},
      {"bad sampling", json::json_pointer("/phases/0/sampling"), "bignas", {"phases[0].sampling: unknown sampling rule 'bignas'", "random or sandwich"}},
      {"negative kd", json::json_pointer("/phases/0/kd_ratio"), -1, {"phases[0].kd_ratio: expected a distillation ratio >= 0"}},
      {"even kernel", json::json_pointer("/phases/0/kernel_sizes"), {3, 4}, {"phases[0].kernel_sizes: expected odd kernel sizes, got 4"}},
      {"duplicate expand", json::json_pointer("/phases/0/expand_ratios"), {4, 6, 4}, {"phases[0].expand_ratios: the value 4 is listed twice"}},
      {"zero depth", json::json_pointer("/phases/0/depths"), {0, 2}, {"phases[0].depths[0]: expected a positive integer"}},
      {"fractional depth", json::json_pointer("/phases/0/depths"), {2.5}, {"phases[0].depths[0]: expected a positive integer"}},
      {"resolutions text", json::json_pointer("/phases/0/resolutions"), "all", {"phases[0].resolutions: expected a list or \"largest\", got"}},
      {"reorganize text", json::json_pointer("/phases/0/reorganize_channels"), 1, {"phases[0].reorganize_channels: expected true or false"}},
  };
  for (const BadRecipe& bad : cases) {
    SCOPED_TRACE(bad.what);
    json document = minimal_document();
    document[bad.pointer] = bad.value;
    try {
      parse_recipe(document, "x.json");
      ADD_FAILURE() << "expected ofa::Error";
    } catch (const Error& error) {
      for (const std::string& part : bad.message)
        EXPECT_NE(std::string(error.what()).find(part), std::string::npos) << "message: " << error.what() << "\nmissing: " << part;
    }
  }
}

TEST(RecipeTest, RejectsMissingKeysAndStructuralMistakes) {
  json document = minimal_document();
  document.erase("name");
  expect_error([&] { parse_recipe(document, "x.json"); }, {"x.json: name: missing required key"});
  document = minimal_document();
  document.erase("phases");
  expect_error([&] { parse_recipe(document, "x.json"); }, {"x.json: phases: missing required key"});
  document = minimal_document();
  document["phases"][0].erase("lr");
  expect_error([&] { parse_recipe(document, "x.json"); }, {"x.json: phases[0].lr: missing required key"});
  expect_error([&] { parse_recipe(json::array(), "x.json"); }, {"x.json: document: expected an object"});

  document = minimal_document();
  document["phases"][0]["sampling"] = "sandwich";
  expect_error([&] { parse_recipe(document, "x.json"); }, {"phases[0].subnets_per_step: expected 2 to", "sandwich"});
  document["phases"][0]["subnets_per_step"] = 2;
  EXPECT_NO_THROW(parse_recipe(document, "x.json"));

  document = minimal_document();
  document["phases"].push_back(document["phases"][0]);
  expect_error([&] { parse_recipe(document, "x.json"); }, {"x.json: phases[1].name: 'only' is already"});
}

TEST(RecipeTest, ValidationNamesChoicesOutsideTheSpace) {
  const SearchSpace space = load_search_space("mbv3-small");
  json document = minimal_document();
  for (int i = 0; i < 2; ++i) document["phases"].push_back(document["phases"][0]);
  document["phases"][1]["name"] = "second";
  document["phases"][2]["name"] = "third";
  document["phases"][2]["kernel_sizes"] = {3, 9};
  expect_error([&] { validate_recipe(parse_recipe(document, "x.json"), space); },
               {"x.json: phases[2].kernel_sizes: 9 is not in the space mbv3-small (3, 5, 7)"});
  document["phases"][2].erase("kernel_sizes");
  document["phases"][1]["expand_ratios"] = {5};
  expect_error([&] { validate_recipe(parse_recipe(document, "x.json"), space); },
               {"x.json: phases[1].expand_ratios: 5 is not in the space mbv3-small (3, 4, 6)"});
  document["phases"][1].erase("expand_ratios");
  document["phases"][0]["depths"] = {1, 2};
  expect_error([&] { validate_recipe(parse_recipe(document, "x.json"), space); }, {"phases[0].depths: 1 is not in the space"});
  document["phases"][0].erase("depths");
  document["phases"][0]["resolutions"] = {28, 224};
  expect_error([&] { validate_recipe(parse_recipe(document, "x.json"), space); },
               {"phases[0].resolutions: 224 is not in the space mbv3-small (24, 28, 32)"});
  document["phases"][0]["resolutions"] = {28};
  EXPECT_NO_THROW(validate_recipe(parse_recipe(document, "x.json"), space));
}

TEST(RecipeTest, ResolvesEmptyChoicesToTheLargestAndAllResolutions) {
  const SearchSpace space = load_search_space("mbv3-small");
  const ElasticChoices fixed = resolve_choices({}, space);
  EXPECT_EQ(fixed.kernel_sizes, (std::vector<std::int64_t>{7}));
  EXPECT_EQ(fixed.expand_ratios, (std::vector<double>{6}));
  EXPECT_EQ(fixed.depths, (std::vector<std::int64_t>{4}));
  EXPECT_EQ(fixed.resolutions, space.resolutions);

  ElasticChoices explicit_choices;
  explicit_choices.kernel_sizes = {5, 3};
  explicit_choices.expand_ratios = {4, 3};
  explicit_choices.depths = {3, 2};
  explicit_choices.resolutions = {28};
  const ElasticChoices resolved = resolve_choices(explicit_choices, space);
  EXPECT_EQ(resolved.kernel_sizes, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(resolved.expand_ratios, (std::vector<double>{3, 4}));
  EXPECT_EQ(resolved.depths, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(resolved.resolutions, (std::vector<std::int64_t>{28}));
}

// Validation and the final evaluation measure the extremes of what the recipe trains: for the
// shipped recipes that is the whole space (the space's largest and smallest subnets, as before),
// for a one-subnet recipe that subnet.
TEST(RecipeTest, RecipeChoicesAreTheUnionOfItsPhases) {
  for (const std::string& space_name : builtin_search_space_names()) {
    const SearchSpace space = load_search_space(space_name);
    for (const std::string& name : builtin_recipe_names()) {
      SCOPED_TRACE(name + " in " + space_name);
      const ElasticChoices all = recipe_choices(load_recipe(name), space);
      EXPECT_EQ(all.kernel_sizes, space.kernel_sizes);
      EXPECT_EQ(all.expand_ratios, space.expand_ratios);
      EXPECT_EQ(all.depths, space.depths);
      EXPECT_EQ(all.resolutions, space.resolutions);
      EXPECT_EQ(phase_extreme_subnet(space, all, true), largest_subnet(space));
      EXPECT_EQ(phase_extreme_subnet(space, all, false), smallest_subnet(space));
      EXPECT_EQ(sample_subnet(space, all, 5, 1), sample_subnet(space, {}, 5, 1));
    }
  }

  const SearchSpace space = load_search_space("mbv3-small");
  json document = minimal_document();
  document["phases"][0]["kernel_sizes"] = {5};
  document["phases"][0]["expand_ratios"] = {4};
  document["phases"][0]["depths"] = {3};
  document["phases"][0]["resolutions"] = {28};
  const ElasticChoices one = recipe_choices(parse_recipe(document, "x.json"), space);
  const Subnet subnet = phase_extreme_subnet(space, one, true);
  EXPECT_EQ(phase_extreme_subnet(space, one, false), subnet);
  EXPECT_EQ(sample_subnet(space, one, 5, 1), subnet);
  EXPECT_EQ(subnet.kernel, std::vector<std::int64_t>(subnet.kernel.size(), 5));
  EXPECT_EQ(subnet.expand, std::vector<double>(subnet.expand.size(), 4));
  EXPECT_EQ(subnet.depth, std::vector<std::int64_t>(subnet.depth.size(), 3));
  EXPECT_EQ(subnet.resolution, 28);

  document["phases"].push_back({{"name", "second"}, {"epochs", 1}, {"lr", 0.1}, {"kernel_sizes", {3, 5}},
                                {"expand_ratios", {6}}, {"depths", {2}}, {"resolutions", "largest"}});
  const ElasticChoices two = recipe_choices(parse_recipe(document, "x.json"), space);
  EXPECT_EQ(two.kernel_sizes, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(two.expand_ratios, (std::vector<double>{4, 6}));
  EXPECT_EQ(two.depths, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(two.resolutions, (std::vector<std::int64_t>{28, 32}));
}

TEST(RecipeTest, LargestResolutionFollowsTheSpace) {
  json document = minimal_document();
  document["phases"][0]["resolutions"] = "largest";
  const Recipe recipe = parse_recipe(document, "x.json");
  EXPECT_TRUE(recipe.phases[0].largest_resolution_only);
  EXPECT_EQ(recipe.to_json()["phases"][0]["resolutions"], "largest");
  EXPECT_TRUE(parse_recipe(recipe.to_json(), "again").phases[0].largest_resolution_only);
  for (const char* name : {"mbv3-small", "mbv3-imagenet"}) {
    const SearchSpace space = load_search_space(name);
    EXPECT_NO_THROW(validate_recipe(recipe, space));
    EXPECT_EQ(phase_choices(recipe.phases[0], space).resolutions, (std::vector<std::int64_t>{space.resolutions.back()}))
        << name;
  }
  document["phases"][0]["resolutions"] = "max";
  expect_error([&] { parse_recipe(document, "x.json"); }, {"x.json: phases[0].resolutions: expected a list or \"largest\", got"});
}

TEST(RecipeTest, LoadsFilesAndNamesWhatIsWrong) {
  TempDir dir;
  const std::string path = dir / "mine.json";
  std::ofstream(path) << minimal_document().dump();
  const Recipe recipe = load_recipe(path);
  EXPECT_EQ(recipe.name, "x");
  EXPECT_EQ(recipe.origin, path);

  std::ofstream(path) << "{\"name\": \"x\", ";
  expect_error([&] { load_recipe(path); }, {path, "not valid JSON"});
  std::ofstream(path) << R"({"name": "x", "phases": [{"name": "a", "epochs": 1, "lr": 0.1, "depth": [2]}]})";
  expect_error([&] { load_recipe(path); }, {path + ": phases[0].depth: unknown key"});
  expect_error([&] { load_recipe(dir / "missing.json"); }, {dir / "missing.json", "neither a shipped recipe (demo, ps, sandwich)"});
  expect_error([&] { load_recipe("fast"); }, {"fast: neither a shipped recipe"});
}

}  // namespace
}  // namespace ofa
