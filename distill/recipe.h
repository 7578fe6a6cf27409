#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "supernet/search_space.h"
#include "supernet/subnet.h"

// A training recipe as data: global optimisation settings and a list of phases, each with the
// elastic choices it samples from. OFA's progressive shrinking is one recipe (`ps`), BigNAS-style
// sandwich sampling another (`sandwich`), and `demo` a short `ps` for a 2-core CPU.
namespace ofa {

enum class SamplingRule : std::uint8_t {
  random,    // subnets_per_step uniformly random subnets from the phase's choices (OFA)
  sandwich,  // the largest, the smallest and subnets_per_step - 2 random ones; in-place KD from the largest
};

// The trainer gives every step a fixed block of counter-based random streams (one per sampled
// subnet, plus its own); this bound keeps a recipe inside that block.
inline constexpr std::int64_t kMaxSubnetsPerStep = 32;

struct Phase {
  std::string name;               // e.g. "teacher", "kernel", "depth-1"
  ElasticChoices choices;         // empty lists: see `fixed_to_largest`
  double epochs = 1;              // may be fractional (a fraction of an epoch of steps)
  double lr = 0.0;                // peak learning rate, scaled by batch_size / 256 is NOT applied
  double warmup_epochs = 0;       // linear warm-up from lr_warmup_start to lr, then cosine to 0
  std::int64_t subnets_per_step = 1;
  SamplingRule sampling = SamplingRule::random;
  double kd_ratio = 0.0;          // weight of the distillation loss against the teacher
  bool reorganize_channels = false;  // OFA re-sorts expanded channels before expand phases
  // "resolutions": "largest" in the file: only the space's largest resolution, whatever the space.
  bool largest_resolution_only = false;
};

struct Recipe {
  std::string name;
  std::string origin;       // the file (or "builtin:NAME") it was read from, for error messages
  std::string description;  // free text: what the recipe is for and why its budget
  std::int64_t batch_size = 64;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 3e-5;
  double label_smoothing = 0.1;
  double kd_temperature = 1.0;
  double lr_warmup_start = 0.0;     // learning rate at the start of a warm-up
  std::int64_t train_images_per_epoch = 0;  // 0: the whole training split; else a seeded subset per epoch
  std::int64_t validation_images = 0;       // 0: the dataset's default held-out size
  std::int64_t bn_calibration_images = 2000;
  // Pixels the training crop of small images may move (data_profile); unset: the dataset's.
  std::optional<std::int64_t> crop_padding;
  std::int64_t checkpoint_every_steps = 200;
  std::int64_t log_every_steps = 20;
  std::vector<Phase> phases;

  // The canonical document (the file's schema, every key present, `origin` left out), which
  // parse_recipe reads back to the same recipe; a run directory's identity.
  nlohmann::json to_json() const;
};

// In a phase, a dimension whose choice list is empty in the file is fixed at the space's
// largest value for that dimension (kernel 7, expand 6, depth 4) except resolutions, where
// empty means all of the space's resolutions. `resolve_choices` returns the explicit lists.
ElasticChoices resolve_choices(const ElasticChoices& choices, const SearchSpace& space);
// resolve_choices for a phase, with its largest_resolution_only applied.
ElasticChoices phase_choices(const Phase& phase, const SearchSpace& space);
// Every choice some phase trains (the union of the phases' resolved choices, sorted): what the
// run's validation and final evaluation measure, so that a recipe training one subnet (a
// from-scratch baseline) is measured on that subnet, not on the space's untrained extremes.
ElasticChoices recipe_choices(const Recipe& recipe, const SearchSpace& space);
// The largest or smallest subnet of a phase's choices (resolved: explicit, sorted lists).
Subnet phase_extreme_subnet(const SearchSpace& space, const ElasticChoices& choices, bool largest);

// Strict parsing (unknown keys are errors naming the file and key).
Recipe parse_recipe(const nlohmann::json& document, const std::string& origin);
// A shipped name ("ps", "sandwich", "demo") or a path to a JSON file.
Recipe load_recipe(const std::string& name_or_path);
std::vector<std::string> builtin_recipe_names();
// Every phase's choices must be subsets of the space's (error names the recipe file, the phase and
// the field, e.g. "demo: phases[2].kernel_sizes: 9 is not in the space mbv3-small (3, 5, 7)").
void validate_recipe(const Recipe& recipe, const SearchSpace& space);

}  // namespace ofa
