#include "distill/recipe.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "kernels/error.h"
#include "supernet/json_object_reader.h"

namespace ofa {

// Generated at build time from distill/recipes/*.json (see distill/CMakeLists.txt):
// (name, document) of every shipped recipe, sorted by name.
namespace builtin {
const std::vector<std::pair<std::string_view, std::string_view>>& recipe_documents();
}

namespace {

using json = nlohmann::json;

// Ratios are written as integers when they are, as the search-space files write them.
json number_json(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) return static_cast<std::int64_t>(value);
  return value;
}

template <class T>
std::string join(const std::vector<T>& values) {
  std::string text;
  for (const T& v : values) text += concat(text.empty() ? "" : ", ", v);
  return text;
}

// A list of elastic choices; empty or absent keeps the phase's default (see resolve_choices).
// The file may list values in any order; a duplicate is rejected as the likely typo it is.
template <class T>
std::vector<T> read_choices(const JsonObjectReader& r, std::string_view key) {
  const json* value = r.find(key);
  if (value == nullptr) return {};
  if (!value->is_array()) r.error(key, "expected a list, got ", describe_json(*value));
  std::vector<T> list;
  for (std::size_t i = 0; i < value->size(); ++i) {
    const json& item = (*value)[i];
    const bool ok = std::is_integral_v<T> ? is_int64(item) : item.is_number() && std::isfinite(item.get<double>());
    if (!ok || !(item.get<double>() > 0))
      r.error(concat(key, '[', i, ']'), "expected a positive ", std::is_integral_v<T> ? "integer" : "number", ", got ",
              describe_json(item));
    list.push_back(item.get<T>());
  }
  std::sort(list.begin(), list.end());
  const auto duplicate = std::adjacent_find(list.begin(), list.end());
  if (duplicate != list.end()) r.error(key, "the value ", *duplicate, " is listed twice");
  return list;
}

SamplingRule read_sampling(const JsonObjectReader& reader) {
  const std::string name = reader.string("sampling", "random");
  if (name == "random") return SamplingRule::random;
  if (name == "sandwich") return SamplingRule::sandwich;
  reader.error("sampling", "unknown sampling rule '", name, "'; expected random or sandwich");
}

const char* sampling_name(SamplingRule rule) { return rule == SamplingRule::sandwich ? "sandwich" : "random"; }

Phase read_phase(const json& value, std::size_t index, const std::string& origin) {
  const JsonObjectReader r(value, origin, concat("phases[", index, ']'),
                       {"name", "epochs", "lr", "warmup_epochs", "subnets_per_step", "sampling", "kd_ratio",
                        "reorganize_channels", "kernel_sizes", "expand_ratios", "depths", "resolutions"});
  Phase phase;
  phase.name = r.string("name");
  phase.epochs = r.number("epochs");
  if (!(phase.epochs > 0)) r.error("epochs", "expected a positive number of epochs, got ", phase.epochs);
  phase.lr = r.number("lr");
  if (phase.lr < 0) r.error("lr", "expected a learning rate >= 0, got ", phase.lr);
  phase.warmup_epochs = r.number("warmup_epochs", 0.0);
  if (phase.warmup_epochs < 0 || phase.warmup_epochs > phase.epochs)
    r.error("warmup_epochs", "expected a value in [0, epochs = ", phase.epochs, "], got ", phase.warmup_epochs);
  phase.sampling = read_sampling(r);
  phase.subnets_per_step = r.integer("subnets_per_step", 1);
  const std::int64_t min_subnets = phase.sampling == SamplingRule::sandwich ? 2 : 1;
  if (phase.subnets_per_step < min_subnets || phase.subnets_per_step > kMaxSubnetsPerStep)
    r.error("subnets_per_step", "expected ", min_subnets, " to ", kMaxSubnetsPerStep,
            min_subnets == 2 ? " (sandwich sampling trains the largest and the smallest every step)" : "", ", got ",
            phase.subnets_per_step);
  phase.kd_ratio = r.number("kd_ratio", 0.0);
  if (phase.kd_ratio < 0) r.error("kd_ratio", "expected a distillation ratio >= 0, got ", phase.kd_ratio);
  phase.reorganize_channels = r.boolean("reorganize_channels", false);
  phase.choices.kernel_sizes = read_choices<std::int64_t>(r, "kernel_sizes");
  for (std::int64_t k : phase.choices.kernel_sizes)
    if (k % 2 == 0) r.error("kernel_sizes", "expected odd kernel sizes, got ", k);
  phase.choices.expand_ratios = read_choices<double>(r, "expand_ratios");
  phase.choices.depths = read_choices<std::int64_t>(r, "depths");
  const json* resolutions = r.find("resolutions");
  if (resolutions != nullptr && resolutions->is_string()) {
    if (resolutions->get<std::string>() != "largest")
      r.error("resolutions", "expected a list or \"largest\", got ", describe_json(*resolutions));
    phase.largest_resolution_only = true;
  } else {
    phase.choices.resolutions = read_choices<std::int64_t>(r, "resolutions");
  }
  return phase;
}

json phase_json(const Phase& phase) {
  json expand = json::array();
  for (double e : phase.choices.expand_ratios) expand.push_back(number_json(e));
  return {{"name", phase.name},
          {"epochs", number_json(phase.epochs)},
          {"lr", phase.lr},
          {"warmup_epochs", number_json(phase.warmup_epochs)},
          {"subnets_per_step", phase.subnets_per_step},
          {"sampling", sampling_name(phase.sampling)},
          {"kd_ratio", phase.kd_ratio},
          {"reorganize_channels", phase.reorganize_channels},
          {"kernel_sizes", phase.choices.kernel_sizes},
          {"expand_ratios", expand},
          {"depths", phase.choices.depths},
          {"resolutions", phase.largest_resolution_only ? json("largest") : json(phase.choices.resolutions)}};
}

// Every value of `chosen` must be one of the space's `allowed`.
template <class T>
void check_subset(const std::vector<T>& chosen, const std::vector<T>& allowed, const Recipe& recipe, std::size_t phase,
                  const char* field, const SearchSpace& space) {
  for (const T& value : chosen)
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
      fail(recipe.origin.empty() ? recipe.name : recipe.origin, "phases[", phase, "].", field, ": ", value,
           " is not in the space ", space.name, " (", join(allowed), ")");
}

Recipe parse_text(std::string_view text, const std::string& origin) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    fail(origin, "not valid JSON: ", e.what());
  }
  return parse_recipe(document, origin);
}

}  // namespace

json Recipe::to_json() const {
  json phase_list = json::array();
  for (const Phase& phase : phases) phase_list.push_back(phase_json(phase));
  return {{"name", name},
          {"description", description},
          {"batch_size", batch_size},
          {"momentum", momentum},
          {"nesterov", nesterov},
          {"weight_decay", weight_decay},
          {"label_smoothing", label_smoothing},
          {"kd_temperature", kd_temperature},
          {"lr_warmup_start", lr_warmup_start},
          {"train_images_per_epoch", train_images_per_epoch},
          {"validation_images", validation_images},
          {"bn_calibration_images", bn_calibration_images},
          {"crop_padding", crop_padding ? json(*crop_padding) : json(nullptr)},
          {"checkpoint_every_steps", checkpoint_every_steps},
          {"log_every_steps", log_every_steps},
          {"phases", phase_list}};
}

Recipe parse_recipe(const json& document, const std::string& origin) {
  const JsonObjectReader r(document, origin, "",
                       {"name", "description", "batch_size", "momentum", "nesterov", "weight_decay", "label_smoothing",
                        "kd_temperature", "lr_warmup_start", "train_images_per_epoch", "validation_images",
                        "bn_calibration_images", "crop_padding", "checkpoint_every_steps", "log_every_steps", "phases"});
  Recipe recipe;
  recipe.name = r.string("name");
  recipe.origin = origin;
  recipe.description = r.string("description", "");
  const auto positive = [&](std::string_view key, std::int64_t fallback) {
    const std::int64_t v = r.integer(key, fallback);
    if (v <= 0) r.error(key, "expected a positive integer, got ", v);
    return v;
  };
  const auto non_negative = [&](std::string_view key, std::int64_t fallback) {
    const std::int64_t v = r.integer(key, fallback);
    if (v < 0) r.error(key, "expected an integer >= 0 (0: the default), got ", v);
    return v;
  };
  recipe.batch_size = positive("batch_size", recipe.batch_size);
  recipe.momentum = r.number("momentum", recipe.momentum);
  if (recipe.momentum < 0 || recipe.momentum >= 1) r.error("momentum", "expected a value in [0, 1), got ", recipe.momentum);
  recipe.nesterov = r.boolean("nesterov", recipe.nesterov);
  recipe.weight_decay = r.number("weight_decay", recipe.weight_decay);
  if (recipe.weight_decay < 0) r.error("weight_decay", "expected a value >= 0, got ", recipe.weight_decay);
  recipe.label_smoothing = r.number("label_smoothing", recipe.label_smoothing);
  if (recipe.label_smoothing < 0 || recipe.label_smoothing >= 1)
    r.error("label_smoothing", "expected a value in [0, 1), got ", recipe.label_smoothing);
  recipe.kd_temperature = r.number("kd_temperature", recipe.kd_temperature);
  if (!(recipe.kd_temperature > 0)) r.error("kd_temperature", "expected a positive temperature, got ", recipe.kd_temperature);
  recipe.lr_warmup_start = r.number("lr_warmup_start", recipe.lr_warmup_start);
  if (recipe.lr_warmup_start < 0) r.error("lr_warmup_start", "expected a learning rate >= 0, got ", recipe.lr_warmup_start);
  recipe.train_images_per_epoch = non_negative("train_images_per_epoch", recipe.train_images_per_epoch);
  recipe.validation_images = non_negative("validation_images", recipe.validation_images);
  recipe.bn_calibration_images = positive("bn_calibration_images", recipe.bn_calibration_images);
  if (const json* padding = r.find("crop_padding"); padding != nullptr && !padding->is_null()) {
    recipe.crop_padding = r.integer("crop_padding");
    if (*recipe.crop_padding < 0)
      r.error("crop_padding", "expected an integer >= 0 (0: no crop, only the flip), got ", *recipe.crop_padding);
  }
  recipe.checkpoint_every_steps = positive("checkpoint_every_steps", recipe.checkpoint_every_steps);
  recipe.log_every_steps = positive("log_every_steps", recipe.log_every_steps);

  const json& phases = r.at("phases");
  if (!phases.is_array() || phases.empty()) r.error("phases", "expected a non-empty list of phases, got ", describe_json(phases));
  for (std::size_t i = 0; i < phases.size(); ++i) {
    Phase phase = read_phase(phases[i], i, origin);
    for (const Phase& earlier : recipe.phases)
      if (earlier.name == phase.name)
        fail(origin, "phases[", i, "].name: '", phase.name, "' is already the name of an earlier phase (the metrics log tells phases apart by name)");
    recipe.phases.push_back(std::move(phase));
  }
  return recipe;
}

ElasticChoices resolve_choices(const ElasticChoices& choices, const SearchSpace& space) {
  ElasticChoices resolved = choices;
  if (resolved.kernel_sizes.empty()) resolved.kernel_sizes = {space.max_kernel()};
  if (resolved.expand_ratios.empty()) resolved.expand_ratios = {space.max_expand()};
  if (resolved.depths.empty()) resolved.depths = {space.max_depth()};
  if (resolved.resolutions.empty()) resolved.resolutions = space.resolutions;
  // Callers take front() and back() as the smallest and largest choice.
  std::sort(resolved.kernel_sizes.begin(), resolved.kernel_sizes.end());
  std::sort(resolved.expand_ratios.begin(), resolved.expand_ratios.end());
  std::sort(resolved.depths.begin(), resolved.depths.end());
  std::sort(resolved.resolutions.begin(), resolved.resolutions.end());
  return resolved;
}

ElasticChoices phase_choices(const Phase& phase, const SearchSpace& space) {
  ElasticChoices resolved = resolve_choices(phase.choices, space);
  if (phase.largest_resolution_only) resolved.resolutions = {resolved.resolutions.back()};
  return resolved;
}

namespace {

template <typename T>
void add_sorted_unique(std::vector<T>& to, const std::vector<T>& values) {
  to.insert(to.end(), values.begin(), values.end());
  std::sort(to.begin(), to.end());
  to.erase(std::unique(to.begin(), to.end()), to.end());
}

}  // namespace

ElasticChoices recipe_choices(const Recipe& recipe, const SearchSpace& space) {
  ElasticChoices all;
  for (const Phase& phase : recipe.phases) {
    const ElasticChoices choices = phase_choices(phase, space);
    add_sorted_unique(all.kernel_sizes, choices.kernel_sizes);
    add_sorted_unique(all.expand_ratios, choices.expand_ratios);
    add_sorted_unique(all.depths, choices.depths);
    add_sorted_unique(all.resolutions, choices.resolutions);
  }
  return all;
}

Subnet phase_extreme_subnet(const SearchSpace& space, const ElasticChoices& choices, bool largest) {
  Subnet subnet = largest ? largest_subnet(space) : smallest_subnet(space);
  for (auto& k : subnet.kernel) k = largest ? choices.kernel_sizes.back() : choices.kernel_sizes.front();
  for (auto& e : subnet.expand) e = largest ? choices.expand_ratios.back() : choices.expand_ratios.front();
  for (auto& d : subnet.depth) d = largest ? choices.depths.back() : choices.depths.front();
  subnet.resolution = largest ? choices.resolutions.back() : choices.resolutions.front();
  return subnet;
}

void validate_recipe(const Recipe& recipe, const SearchSpace& space) {
  for (std::size_t p = 0; p < recipe.phases.size(); ++p) {
    const ElasticChoices& c = recipe.phases[p].choices;
    check_subset(c.kernel_sizes, space.kernel_sizes, recipe, p, "kernel_sizes", space);
    check_subset(c.expand_ratios, space.expand_ratios, recipe, p, "expand_ratios", space);
    check_subset(c.depths, space.depths, recipe, p, "depths", space);
    check_subset(c.resolutions, space.resolutions, recipe, p, "resolutions", space);
  }
}

std::vector<std::string> builtin_recipe_names() {
  std::vector<std::string> names;
  for (const auto& [name, document] : builtin::recipe_documents()) names.emplace_back(name);
  return names;
}

Recipe load_recipe(const std::string& name_or_path) {
  for (const auto& [name, document] : builtin::recipe_documents())
    if (name == name_or_path) return parse_text(document, concat("builtin:", name));
  if (!std::filesystem::is_regular_file(name_or_path))
    fail(name_or_path, "neither a shipped recipe (", join(builtin_recipe_names()), ") nor a readable JSON file");
  std::ifstream in(name_or_path, std::ios::binary);
  if (!in) fail(name_or_path, "cannot open the file");
  return parse_text(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), name_or_path);
}

}  // namespace ofa
