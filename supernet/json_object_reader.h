#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/activation.h"

// Strict reading of the project's JSON documents (search spaces, recipes, latency tables).
// An object's unknown keys are rejected first, so a misspelt key reads as "unknown key" instead
// of a missing key or a silently kept default. Every error reads "ORIGIN: FIELD: what was
// expected, got what", FIELD being the value's path in the document (e.g. "stages[2].stride").
namespace ofa {

// A value's type and its first characters, for error messages.
std::string describe_json(const nlohmann::json& value);

// An integer that fits std::int64_t (JSON readers keep large ones as unsigned).
bool is_int64(const nlohmann::json& value);

class JsonObjectReader {
 public:
  // `value` must outlive the reader. `path` is the object's own field path ("" for the document).
  JsonObjectReader(const nlohmann::json& value, std::string origin, std::string path,
                   const std::vector<std::string_view>& keys);

  const std::string& origin() const { return origin_; }
  std::string field(std::string_view key) const;

  template <class... Parts>
  [[noreturn]] void error(std::string_view key, Parts&&... parts) const {
    fail(origin_, field(key), ": ", std::forward<Parts>(parts)...);
  }

  const nlohmann::json* find(std::string_view key) const;
  const nlohmann::json& at(std::string_view key) const;

  // With a fallback a key is optional; without one it is required.
  std::int64_t integer(std::string_view key, std::optional<std::int64_t> fallback = std::nullopt) const;
  std::int64_t positive_integer(std::string_view key) const;
  std::int64_t non_negative_integer(std::string_view key) const;
  double number(std::string_view key, std::optional<double> fallback = std::nullopt) const;  // finite
  double positive_number(std::string_view key) const;
  bool boolean(std::string_view key, std::optional<bool> fallback = std::nullopt) const;
  // A required string must be non-empty; an optional one may be empty.
  std::string string(std::string_view key, std::optional<std::string> fallback = std::nullopt) const;
  Activation activation(std::string_view key) const;

 private:
  const nlohmann::json& value_;
  std::string origin_, path_;
};

}  // namespace ofa
