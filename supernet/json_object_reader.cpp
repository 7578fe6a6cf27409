#include "supernet/json_object_reader.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ofa {

using json = nlohmann::json;

std::string describe_json(const json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return concat(value.type_name(), ' ', text);
}

bool is_int64(const json& value) {
  return value.is_number_integer() &&
         !(value.is_number_unsigned() && value.get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max());
}

JsonObjectReader::JsonObjectReader(const json& value, std::string origin, std::string path,
                                   const std::vector<std::string_view>& keys)
    : value_(value), origin_(std::move(origin)), path_(std::move(path)) {
  if (!value_.is_object()) fail(origin_, path_.empty() ? "document" : path_, ": expected an object, got ", describe_json(value_));
  for (const auto& item : value_.items()) {
    if (std::find(keys.begin(), keys.end(), item.key()) != keys.end()) continue;
    std::string known;
    for (std::string_view key : keys) known += concat(known.empty() ? "" : ", ", key);
    error(item.key(), "unknown key; expected only ", known);
  }
}

std::string JsonObjectReader::field(std::string_view key) const {
  return path_.empty() ? std::string(key) : concat(path_, '.', key);
}

const json* JsonObjectReader::find(std::string_view key) const {
  const auto it = value_.find(key);
  return it == value_.end() ? nullptr : &*it;
}

const json& JsonObjectReader::at(std::string_view key) const {
  const json* value = find(key);
  if (value == nullptr) error(key, "missing required key");
  return *value;
}

std::int64_t JsonObjectReader::integer(std::string_view key, std::optional<std::int64_t> fallback) const {
  if (fallback && find(key) == nullptr) return *fallback;
  const json& value = at(key);
  if (!is_int64(value)) error(key, "expected an integer, got ", describe_json(value));
  return value.get<std::int64_t>();
}

std::int64_t JsonObjectReader::positive_integer(std::string_view key) const {
  const std::int64_t v = integer(key);
  if (v <= 0) error(key, "expected a positive integer, got ", v);
  return v;
}

std::int64_t JsonObjectReader::non_negative_integer(std::string_view key) const {
  const std::int64_t v = integer(key);
  if (v < 0) error(key, "expected a non-negative integer, got ", v);
  return v;
}

double JsonObjectReader::number(std::string_view key, std::optional<double> fallback) const {
  if (fallback && find(key) == nullptr) return *fallback;
  const json& value = at(key);
  if (!value.is_number() || !std::isfinite(value.get<double>())) error(key, "expected a number, got ", describe_json(value));
  return value.get<double>();
}

double JsonObjectReader::positive_number(std::string_view key) const {
  const double v = number(key);
  if (!(v > 0.0)) error(key, "expected a positive number, got ", v);
  return v;
}

bool JsonObjectReader::boolean(std::string_view key, std::optional<bool> fallback) const {
  if (fallback && find(key) == nullptr) return *fallback;
  const json& value = at(key);
  if (!value.is_boolean()) error(key, "expected true or false, got ", describe_json(value));
  return value.get<bool>();
}

std::string JsonObjectReader::string(std::string_view key, std::optional<std::string> fallback) const {
  if (fallback && find(key) == nullptr) return *fallback;
  const json& value = at(key);
  if (!value.is_string() || (!fallback && value.get<std::string>().empty()))
    error(key, "expected a", fallback ? "" : " non-empty", " string, got ", describe_json(value));
  return value.get<std::string>();
}

Activation JsonObjectReader::activation(std::string_view key) const {
  const std::string name = string(key);
  try {
    return activation_from_name(name);
  } catch (const Error&) {
    error(key, "unknown activation '", name, "'; expected relu, h_swish, h_sigmoid or none");
  }
}

}  // namespace ofa
