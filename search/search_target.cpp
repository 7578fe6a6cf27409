#include "search/search_target.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "kernels/error.h"
#include "supernet/counting.h"

namespace ofa {
namespace {

constexpr const char* kExpected =
    "expected NAME:METRIC<=VALUE with METRIC one of macs (M), params (M), memory (KB), latency@TABLE.json (ms), "
    "e.g. phone:latency@pixel7.json<=20 or tiny:macs<=5";

bool valid_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

}  // namespace

std::string metric_unit(const std::string& metric) {
  if (metric == "macs" || metric == "params") return "M";
  if (metric == "memory") return "KB";
  if (metric == "latency") return "ms";
  fail("metric_unit", "unknown metric '", metric, "'; expected macs, params, memory or latency");
}

SearchTarget parse_search_target(std::string_view text) {
  SearchTarget target;
  target.text = text;
  const std::string where = concat("--target '", text, "'");
  const std::size_t colon = text.find(':');
  const std::size_t bound = text.rfind("<=");
  OFA_CHECK(colon != std::string_view::npos && bound != std::string_view::npos && colon < bound, where, kExpected);
  target.name = text.substr(0, colon);
  OFA_CHECK(valid_name(target.name), where, "the name '", target.name,
            "' names the output folder: use letters, digits, '_', '-' and '.'; ", kExpected);
  const std::string metric(text.substr(colon + 1, bound - colon - 1));
  if (metric.starts_with("latency@")) {
    target.metric = "latency";
    target.latency_table = metric.substr(8);
    OFA_CHECK(!target.latency_table.empty(), where, "latency@ needs a table file (from ofa latency); ", kExpected);
  } else {
    OFA_CHECK(metric == "macs" || metric == "params" || metric == "memory", where, "unknown metric '", metric, "'; ",
              kExpected);
    target.metric = metric;
  }
  const std::string value(text.substr(bound + 2));
  char* end = nullptr;
  target.limit = std::strtod(value.c_str(), &end);
  OFA_CHECK(!value.empty() && end == value.c_str() + value.size() && std::isfinite(target.limit) && target.limit > 0,
            where, "the limit '", value, "' is not a positive number; ", kExpected);
  return target;
}

std::shared_ptr<const LatencyTable> read_target_table(const SearchTarget& target, const SearchSpace& space,
                                                      bool force) {
  auto table = std::make_shared<const LatencyTable>(read_latency_table(target.latency_table));
  check_latency_table(*table, space, force);
  return table;
}

Constraint target_constraint(const SearchTarget& target, const SearchSpace& space,
                             std::shared_ptr<const LatencyTable> table) {
  Constraint constraint{target.metric, metric_unit(target.metric), {}, target.limit};
  if (target.metric == "macs") {
    constraint.metric = [&space](const Subnet& s) { return count_subnet(space, s).macs / 1e6; };
  } else if (target.metric == "params") {
    constraint.metric = [&space](const Subnet& s) { return static_cast<double>(count_subnet(space, s).params) / 1e6; };
  } else if (target.metric == "memory") {
    constraint.metric = [&space](const Subnet& s) {
      return static_cast<double>(count_subnet(space, s).peak_activation_bytes) / 1024.0;
    };
  } else {
    OFA_CHECK(table != nullptr, concat("--target '", target.text, "'"), "a latency target needs its table");
    constraint.metric = [&space, table](const Subnet& s) { return predict_latency_ms(*table, space, s); };
  }
  return constraint;
}

}  // namespace ofa
