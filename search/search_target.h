#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "search/evolution.h"
#include "search/latency_table.h"
#include "supernet/search_space.h"

// What `ofa search --target NAME:METRIC<=VALUE` asks for, and the metric functions behind it:
//   macs    multiply-accumulates of one image, millions (supernet/counting.h)
//   params  learnable parameters, millions
//   memory  peak batch-1 activation memory, KB of 1024 bytes
//   latency@TABLE.json  predicted from a latency table measured on the device, ms
namespace ofa {

struct SearchTarget {
  std::string text;           // as given, for messages
  std::string name;           // the output subdirectory: letters, digits, '_', '-', '.'
  std::string metric;         // macs, params, memory or latency
  std::string latency_table;  // the table's path, for latency
  double limit = 0;
};

// Throws ofa::Error "--target 'TEXT': ..." naming what is wrong and the expected form.
SearchTarget parse_search_target(std::string_view text);

// A latency target's table, read and checked against `space` and this device (refused unless
// `force`; see search/latency_table.h).
std::shared_ptr<const LatencyTable> read_target_table(const SearchTarget& target, const SearchSpace& space, bool force);

// The metric of a target as a constraint (limit included); it refers to `space`, which must
// outlive it. A latency target needs its table.
Constraint target_constraint(const SearchTarget& target, const SearchSpace& space,
                             std::shared_ptr<const LatencyTable> table = nullptr);

// The metric's unit ("M", "KB", "ms").
std::string metric_unit(const std::string& metric);

}  // namespace ofa
