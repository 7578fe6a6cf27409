#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "distill/recipe.h"
#include "supernet/search_space.h"
#include "supernet/supernet.h"
#include "supernet/weight_file.h"
#include "tests/support/perturbed_weights.h"

namespace ofa::testing {

// A run directory as `ofa train` leaves one (run.json, supernet.safetensors) on Fashion-MNIST with
// the resume test's tiny recipe, but with a freshly initialised supernet whose constant-initialised
// tensors are perturbed (perturbed_weights.h): for commands whose checks need no trained accuracy,
// in a fraction of a second instead of training.
inline void write_untrained_run(const std::filesystem::path& dir, const std::string& space_name, std::uint64_t seed) {
  const std::filesystem::path resume =
      std::filesystem::path(__FILE__).parent_path().parent_path() / "distill" / "resume";
  const Recipe recipe = load_recipe((resume / "tiny_recipe.json").string());
  const SearchSpace space = load_search_space(space_name);
  Supernet supernet(space, seed);
  perturb_constant_initialised(supernet.network().parameters(), seed);
  std::filesystem::create_directories(dir);
  const nlohmann::json identity = {
      {"space", space.to_json()}, {"recipe", recipe.to_json()}, {"data", "fashion-mnist"}, {"seed", seed}};
  std::ofstream(dir / "run.json") << identity.dump(2) << "\n";
  save_supernet((dir / "supernet.safetensors").string(), supernet);
}

// The resume test's tiny space (tests/distill/resume/tiny_space.json).
inline std::string tiny_space_file() {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "distill" / "resume" / "tiny_space.json")
      .string();
}

}  // namespace ofa::testing
