#include "supernet/search_space.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <string_view>
#include <utility>

#include "kernels/error.h"
#include "supernet/json_object_reader.h"

namespace ofa {

// Generated at build time from supernet/spaces/*.json (see supernet/CMakeLists.txt):
// (name, document) of every shipped space, sorted by name.
namespace builtin {
const std::vector<std::pair<std::string_view, std::string_view>>& search_space_documents();
}

namespace {

using json = nlohmann::json;

// Ratios are written as integers when they are (OFA writes "e": [6, 4, 3]).
json number_json(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) return static_cast<std::int64_t>(value);
  return value;
}

// The float widened to double would print as 0.10000000149011612; its shortest decimal form
// reads back to the same float.
double shortest_decimal(float value) {
  char text[32];
  char* end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::stod(std::string(text, end));
}

// Every reading error names the file, the field's path (e.g. "stages[2].stride") and what was
// expected.
class FieldError {
 public:
  explicit FieldError(const std::string& origin) : origin_(origin) {}
  const std::string& origin() const { return origin_; }
  template <class... Parts>
  [[noreturn]] void operator()(std::string_view field, Parts&&... parts) const {
    fail(origin_, field, ": ", std::forward<Parts>(parts)...);
  }

 private:
  const std::string& origin_;
};

std::int64_t read_integer(const json& value, std::string_view field, const FieldError& error) {
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())
    error(field, "integer out of range: ", value.dump());
  if (!value.is_number_integer()) error(field, "expected an integer, got ", describe_json(value));
  return value.get<std::int64_t>();
}

std::int64_t read_positive_integer(const json& value, std::string_view field, const FieldError& error) {
  const std::int64_t v = read_integer(value, field, error);
  if (v <= 0) error(field, "expected a positive integer, got ", v);
  return v;
}

std::int64_t read_odd_kernel(const json& value, std::string_view field, const FieldError& error) {
  const std::int64_t k = read_positive_integer(value, field, error);
  if (k % 2 == 0) error(field, "expected an odd kernel size (same padding k/2 needs one), got ", k);
  return k;
}

double read_positive_number(const json& value, std::string_view field, const FieldError& error) {
  if (!value.is_number()) error(field, "expected a number, got ", describe_json(value));
  const double v = value.get<double>();
  if (!(v > 0.0) || !std::isfinite(v)) error(field, "expected a positive number, got ", v);
  return v;
}

std::int64_t odd_kernel(const JsonObjectReader& object, std::string_view key) {
  return read_odd_kernel(object.at(key), object.field(key), FieldError(object.origin()));
}

// A list of elastic choices: non-empty, each read by `read_one`, sorted ascending (the file may
// list them in any order), duplicates rejected as the likely typo they are.
template <class T, class ReadOne>
std::vector<T> read_choices(const json& value, const std::string& field, const FieldError& error, ReadOne read_one) {
  if (!value.is_array() || value.empty()) error(field, "expected a non-empty list, got ", describe_json(value));
  std::vector<T> choices;
  for (std::size_t i = 0; i < value.size(); ++i) choices.push_back(read_one(value[i], concat(field, '[', i, ']'), error));
  std::sort(choices.begin(), choices.end());
  const auto duplicate = std::adjacent_find(choices.begin(), choices.end());
  if (duplicate != choices.end()) error(field, "the value ", *duplicate, " is listed twice");
  return choices;
}

// Either an explicit list or {"min", "max", "step"} with max - min a multiple of step.
std::vector<std::int64_t> read_resolutions(const json& value, const std::string& field, const FieldError& error) {
  if (!value.is_object()) return read_choices<std::int64_t>(value, field, error, read_positive_integer);
  const JsonObjectReader range(value, error.origin(), field, {"min", "max", "step"});
  const std::int64_t min = range.positive_integer("min");
  const std::int64_t max = range.positive_integer("max");
  const std::int64_t step = range.positive_integer("step");
  if (max < min) error(range.field("max"), "expected max >= min (", min, "), got ", max);
  if ((max - min) % step != 0)
    error(range.field("step"), "max - min = ", max - min, " is not a multiple of the step ", step);
  std::vector<std::int64_t> resolutions;
  for (std::int64_t r = min; r <= max; r += step) resolutions.push_back(r);
  return resolutions;
}

StemSpec read_stem(const json& value, const FieldError& error) {
  const JsonObjectReader stem(value, error.origin(), "stem", {"width", "kernel", "stride", "activation"});
  return {stem.positive_integer("width"), odd_kernel(stem, "kernel"), stem.positive_integer("stride"),
          stem.activation("activation")};
}

FirstBlockSpec read_first_block(const json& value, const FieldError& error) {
  const JsonObjectReader block(value, error.origin(), "first_block", {"width", "kernel", "expand", "activation", "squeeze_excite"});
  return {block.positive_integer("width"), odd_kernel(block, "kernel"), block.positive_number("expand"),
          block.activation("activation"), block.boolean("squeeze_excite")};
}

std::vector<StageSpec> read_stages(const json& value, const FieldError& error) {
  if (!value.is_array() || value.empty()) error("stages", "expected a non-empty list of stages, got ", describe_json(value));
  std::vector<StageSpec> stages;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const JsonObjectReader stage(value[i], error.origin(), concat("stages[", i, ']'), {"width", "stride", "activation", "squeeze_excite"});
    stages.push_back({stage.positive_integer("width"), stage.positive_integer("stride"), stage.activation("activation"),
                      stage.boolean("squeeze_excite")});
  }
  return stages;
}

HeadSpec read_head(const json& value, const FieldError& error) {
  const JsonObjectReader head(value, error.origin(), "head", {"final_expand_width", "feature_mix_width", "activation", "dropout"});
  const json& dropout = head.at("dropout");
  if (!dropout.is_number() || !(dropout.get<double>() >= 0.0 && dropout.get<double>() < 1.0))
    error(head.field("dropout"), "expected a probability in [0, 1), got ", describe_json(dropout));
  return {head.positive_integer("final_expand_width"), head.positive_integer("feature_mix_width"),
          head.activation("activation"), static_cast<float>(dropout.get<double>())};
}

void read_elastic(const json& value, SearchSpace& space, const FieldError& error) {
  const JsonObjectReader elastic(value, error.origin(), "elastic", {"kernel_sizes", "expand_ratios", "depths", "resolutions"});
  space.kernel_sizes = read_choices<std::int64_t>(elastic.at("kernel_sizes"), elastic.field("kernel_sizes"), error, read_odd_kernel);
  space.expand_ratios = read_choices<double>(elastic.at("expand_ratios"), elastic.field("expand_ratios"), error, read_positive_number);
  space.depths = read_choices<std::int64_t>(elastic.at("depths"), elastic.field("depths"), error, read_positive_integer);
  space.resolutions = read_resolutions(elastic.at("resolutions"), elastic.field("resolutions"), error);
}

// Same padding gives out = (in - 1) / stride + 1, which never reaches 0; a stride larger than
// the map it is applied to is the real mistake (there is less than one output pixel's worth of
// input), so every strided layer must see at least `stride` pixels per side at the smallest
// resolution.
void check_strides_fit(const SearchSpace& space, const FieldError& error) {
  std::int64_t side = space.min_resolution();
  const auto apply = [&](std::int64_t stride, const std::string& field) {
    if (side < stride)
      error(field, "stride ", stride, " shrinks the ", side, "x", side, " feature map below 1x1 at the smallest resolution ",
            space.min_resolution(), "; use a larger minimum resolution or fewer stride-2 stages");
    side = (side - 1) / stride + 1;
  };
  apply(space.stem.stride, "stem.stride");
  for (std::size_t s = 0; s < space.stages.size(); ++s) apply(space.stages[s].stride, concat("stages[", s, "].stride"));
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

SearchSpace parse_text(std::string_view text, const std::string& origin) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    fail(origin, "not valid JSON: ", e.what());
  }
  return parse_search_space(document, origin);
}

}  // namespace

std::int64_t make_divisible(double v, std::int64_t divisor) {
  const auto d = static_cast<double>(divisor);
  const auto rounded = static_cast<std::int64_t>(std::floor((v + d / 2.0) / d)) * divisor;
  std::int64_t result = std::max(divisor, rounded);
  if (static_cast<double>(result) < 0.9 * v) result += divisor;
  return result;
}

std::int64_t SearchSpace::stem_channels() const { return make_divisible(static_cast<double>(stem.width) * width_mult, channel_divisor); }
std::int64_t SearchSpace::first_block_channels() const {
  return make_divisible(static_cast<double>(first_block.width) * width_mult, channel_divisor);
}
std::int64_t SearchSpace::stage_channels(std::size_t stage) const {
  return make_divisible(static_cast<double>(stages.at(stage).width) * width_mult, channel_divisor);
}
std::int64_t SearchSpace::final_expand_channels() const {
  return make_divisible(static_cast<double>(head.final_expand_width) * width_mult, channel_divisor);
}
std::int64_t SearchSpace::feature_mix_channels() const {
  return make_divisible(static_cast<double>(head.feature_mix_width) * width_mult, channel_divisor);
}

// std::nearbyint rounds half to even, as Python's round() in OFA's DynamicMBConvLayer does.
std::int64_t SearchSpace::mid_channels(std::int64_t in, double expand) const {
  return make_divisible(std::nearbyint(static_cast<double>(in) * expand), channel_divisor);
}

// OFA's DynamicSE: make_divisible(mid // reduction, divisor), integer division first.
std::int64_t SearchSpace::se_channels(std::int64_t mid) const {
  return make_divisible(static_cast<double>(mid / se_reduction), channel_divisor);
}

std::int64_t SearchSpace::num_block_slots() const { return static_cast<std::int64_t>(stages.size()) * max_depth(); }

SearchSpace SearchSpace::with_input_channels(std::int64_t channels) const {
  OFA_CHECK(channels > 0, origin, "input channels must be positive, got ", channels);
  SearchSpace copy = *this;
  copy.in_channels = channels;
  return copy;
}

json SearchSpace::to_json() const {
  json expand = json::array();
  for (double e : expand_ratios) expand.push_back(number_json(e));
  json stage_list = json::array();
  for (const StageSpec& stage : stages)
    stage_list.push_back({{"width", stage.width},
                          {"stride", stage.stride},
                          {"activation", activation_name(stage.activation)},
                          {"squeeze_excite", stage.squeeze_excite}});
  return {{"name", name},
          {"in_channels", in_channels},
          {"num_classes", num_classes},
          {"width_mult", width_mult},
          {"channel_divisor", channel_divisor},
          {"stem",
           {{"width", stem.width}, {"kernel", stem.kernel}, {"stride", stem.stride}, {"activation", activation_name(stem.activation)}}},
          {"first_block",
           {{"width", first_block.width},
            {"kernel", first_block.kernel},
            {"expand", number_json(first_block.expand)},
            {"activation", activation_name(first_block.activation)},
            {"squeeze_excite", first_block.squeeze_excite}}},
          {"stages", stage_list},
          {"elastic", {{"kernel_sizes", kernel_sizes}, {"expand_ratios", expand}, {"depths", depths}, {"resolutions", resolutions}}},
          {"se_reduction", se_reduction},
          {"head",
           {{"final_expand_width", head.final_expand_width},
            {"feature_mix_width", head.feature_mix_width},
            {"activation", activation_name(head.activation)},
            {"dropout", shortest_decimal(head.dropout)}}}};
}

SearchSpace parse_search_space(const json& document, const std::string& origin) {
  const FieldError error(origin);
  const JsonObjectReader root(document, origin, "",
                          {"name", "in_channels", "num_classes", "width_mult", "channel_divisor", "stem", "first_block",
                           "stages", "elastic", "se_reduction", "head"});
  SearchSpace space;
  space.name = root.string("name");
  space.origin = origin;
  space.in_channels = root.positive_integer("in_channels");
  space.num_classes = root.positive_integer("num_classes");
  space.width_mult = root.positive_number("width_mult");
  space.channel_divisor = root.positive_integer("channel_divisor");
  space.stem = read_stem(root.at("stem"), error);
  space.first_block = read_first_block(root.at("first_block"), error);
  space.stages = read_stages(root.at("stages"), error);
  read_elastic(root.at("elastic"), space, error);
  space.se_reduction = root.positive_integer("se_reduction");
  space.head = read_head(root.at("head"), error);
  check_strides_fit(space, error);
  return space;
}

std::vector<std::string> builtin_search_space_names() {
  std::vector<std::string> names;
  for (const auto& [name, document] : builtin::search_space_documents()) names.emplace_back(name);
  return names;
}

SearchSpace load_search_space(const std::string& name_or_path) {
  for (const auto& [name, document] : builtin::search_space_documents())
    if (name == name_or_path) return parse_text(document, concat("builtin:", name));
  if (!std::filesystem::is_regular_file(name_or_path)) {
    std::string names;
    for (const std::string& name : builtin_search_space_names()) names += concat(names.empty() ? "" : ", ", name);
    fail(name_or_path, "neither a shipped search space (", names, ") nor a readable JSON file");
  }
  return parse_text(read_text_file(name_or_path), name_or_path);
}

}  // namespace ofa
