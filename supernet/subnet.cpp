#include "supernet/subnet.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>

#include "kernels/error.h"
#include "kernels/random.h"

namespace ofa {
namespace {

using json = nlohmann::json;

template <class T>
std::string list_text(const std::vector<T>& values) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
  out << ']';
  return out.str();
}

template <class T>
bool contains(const std::vector<T>& values, T value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Expand ratios are written as integers when they are, as OFA writes them ("e": [6, 4, 3]).
json number_json(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) return static_cast<std::int64_t>(value);
  return value;
}

template <class T>
void check_choices(const std::vector<T>& values, std::size_t expected_size, const std::vector<T>& allowed,
                   std::string_view key, std::string_view what, const std::string& origin) {
  if (values.size() != expected_size)
    fail(origin, key, ": expected ", expected_size, " entries (", what, "), got ", values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!contains(allowed, values[i]))
      fail(origin, key, '[', i, "]: ", values[i], " is not in the space; allowed: ", list_text(allowed));
}

std::int64_t read_integer(const json& value, const std::string& field, const std::string& origin) {
  if (!value.is_number_integer()) fail(origin, field, ": expected an integer, got ", value.dump());
  return value.get<std::int64_t>();
}

double read_number(const json& value, const std::string& field, const std::string& origin) {
  if (!value.is_number()) fail(origin, field, ": expected a number, got ", value.dump());
  return value.get<double>();
}

template <class T, class ReadOne>
std::vector<T> read_list(const json& document, const std::string& key, const std::string& origin, ReadOne read_one) {
  const auto it = document.find(key);
  if (it == document.end()) fail(origin, key, ": missing required key");
  if (!it->is_array()) fail(origin, key, ": expected a list, got ", it->dump());
  std::vector<T> values;
  for (std::size_t i = 0; i < it->size(); ++i) values.push_back(read_one((*it)[i], concat(key, '[', i, ']'), origin));
  return values;
}

// OFA writes the resolution as an integer or as a one-element list ("r": [224]).
std::int64_t read_resolution(const json& document, const std::string& origin) {
  const auto it = document.find("r");
  if (it == document.end()) fail(origin, "r: missing required key");
  if (it->is_array()) {
    if (it->size() != 1) fail(origin, "r: expected an integer or a one-element list, got ", it->dump());
    return read_integer((*it)[0], "r[0]", origin);
  }
  return read_integer(*it, "r", origin);
}

// The draw for one choice: uniform over `allowed`, from the 24-bit uniform01 as an integer
// (m * n) >> 24, so float rounding can never yield n itself.
template <class T>
T pick(const std::vector<T>& allowed, std::uint64_t seed, std::uint64_t index, std::uint64_t draw) {
  const auto bits = static_cast<std::uint64_t>(uniform01(seed, index, draw) * 16777216.0f);
  return allowed[(bits * allowed.size()) >> 24];
}

// A progressive-shrinking phase's subset, or the whole list when empty.
template <class T>
std::vector<T> restrict_choices(const std::vector<T>& subset, const std::vector<T>& all, std::string_view what) {
  for (const T& value : subset)
    if (!contains(all, value))
      fail("sample_subnet", what, " ", value, " is not in the space; allowed: ", list_text(all));
  return subset.empty() ? all : subset;
}

// Draw numbers of each dimension, far apart so that one dimension's draws never depend on the
// number of slots of another.
constexpr std::uint64_t kKernelDraws = 0, kExpandDraws = 1ULL << 32, kDepthDraws = 2ULL << 32,
                        kResolutionDraws = 3ULL << 32;

}  // namespace

void validate_subnet(const SearchSpace& space, const Subnet& subnet, const std::string& origin) {
  const auto slots = static_cast<std::size_t>(space.num_block_slots());
  const std::string slot_text = concat(space.stages.size(), " stages x ", space.max_depth(), " blocks");
  check_choices(subnet.kernel, slots, space.kernel_sizes, "ks", slot_text, origin);
  check_choices(subnet.expand, slots, space.expand_ratios, "e", slot_text, origin);
  check_choices(subnet.depth, space.stages.size(), space.depths, "d", "one per stage", origin);
  if (!contains(space.resolutions, subnet.resolution))
    fail(origin, "r: ", subnet.resolution, " is not in the space; allowed: ", list_text(space.resolutions));
}

Subnet parse_subnet(const json& document, const SearchSpace& space, const std::string& origin) {
  if (!document.is_object()) fail(origin, "expected a subnet object {\"ks\", \"e\", \"d\", \"r\"}, got ", document.dump());
  for (const auto& item : document.items()) {
    // OFA's search results carry "wid": null (no elastic width multiplier); accept it so they paste in.
    if (item.key() == "wid" && item.value().is_null()) continue;
    if (item.key() != "ks" && item.key() != "e" && item.key() != "d" && item.key() != "r")
      fail(origin, item.key(), ": unknown key; expected only ks, e, d, r");
  }
  Subnet subnet;
  subnet.kernel = read_list<std::int64_t>(document, "ks", origin, read_integer);
  subnet.expand = read_list<double>(document, "e", origin, read_number);
  subnet.depth = read_list<std::int64_t>(document, "d", origin, read_integer);
  subnet.resolution = read_resolution(document, origin);
  validate_subnet(space, subnet, origin);
  return subnet;
}

json subnet_to_json(const Subnet& subnet) {
  json expand = json::array();
  for (double e : subnet.expand) expand.push_back(number_json(e));
  return {{"ks", subnet.kernel}, {"e", expand}, {"d", subnet.depth}, {"r", subnet.resolution}};
}

Subnet load_subnet(const std::string& max_min_or_path, const SearchSpace& space) {
  if (max_min_or_path == "max") return largest_subnet(space);
  if (max_min_or_path == "min") return smallest_subnet(space);
  if (!std::filesystem::is_regular_file(max_min_or_path))
    fail(max_min_or_path, "neither max, min nor a readable subnet JSON file");
  std::ifstream in(max_min_or_path, std::ios::binary);
  if (!in) fail(max_min_or_path, "cannot open the file");
  json document;
  try {
    document = json::parse(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  } catch (const json::parse_error& e) {
    fail(max_min_or_path, "not valid JSON: ", e.what());
  }
  return parse_subnet(document, space, max_min_or_path);
}

Subnet largest_subnet(const SearchSpace& space) {
  const auto slots = static_cast<std::size_t>(space.num_block_slots());
  return {std::vector<std::int64_t>(slots, space.max_kernel()), std::vector<double>(slots, space.max_expand()),
          std::vector<std::int64_t>(space.stages.size(), space.max_depth()), space.max_resolution()};
}

Subnet smallest_subnet(const SearchSpace& space) {
  const auto slots = static_cast<std::size_t>(space.num_block_slots());
  return {std::vector<std::int64_t>(slots, space.kernel_sizes.front()),
          std::vector<double>(slots, space.expand_ratios.front()),
          std::vector<std::int64_t>(space.stages.size(), space.depths.front()), space.min_resolution()};
}

Subnet sample_subnet(const SearchSpace& space, const ElasticChoices& choices, std::uint64_t seed, std::uint64_t index) {
  const auto kernels = restrict_choices(choices.kernel_sizes, space.kernel_sizes, "kernel size");
  const auto expands = restrict_choices(choices.expand_ratios, space.expand_ratios, "expand ratio");
  const auto depths = restrict_choices(choices.depths, space.depths, "depth");
  const auto resolutions = restrict_choices(choices.resolutions, space.resolutions, "resolution");
  Subnet subnet;
  for (std::uint64_t slot = 0; slot < static_cast<std::uint64_t>(space.num_block_slots()); ++slot) {
    subnet.kernel.push_back(pick(kernels, seed, index, kKernelDraws + slot));
    subnet.expand.push_back(pick(expands, seed, index, kExpandDraws + slot));
  }
  for (std::uint64_t stage = 0; stage < space.stages.size(); ++stage)
    subnet.depth.push_back(pick(depths, seed, index, kDepthDraws + stage));
  subnet.resolution = pick(resolutions, seed, index, kResolutionDraws);
  return subnet;
}

// Per stage: a depth d has (|ks| * |e|)^d distinct block settings (slots beyond d do not run);
// stages multiply. OFA-MobileNetV3: (9^2 + 9^3 + 9^4)^5 ~ 2.2e19.
double count_subnets(const SearchSpace& space) {
  const auto per_block = static_cast<double>(space.kernel_sizes.size() * space.expand_ratios.size());
  double per_stage = 0.0;
  for (std::int64_t d : space.depths) per_stage += std::pow(per_block, static_cast<double>(d));
  return std::pow(per_stage, static_cast<double>(space.stages.size()));
}

}  // namespace ofa
