#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

#include "search/device_description.h"
#include "search/layer_key.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

// Measured batch-1 latencies of every layer a search space can produce, on one device. A
// subnet's predicted latency is the sum over the layers it runs plus the table's per-network
// overhead at its resolution (layer_key.h).
//
// File (JSON): {"format": "ofa-latency-table-v1", "space": NAME, "search_space": {the space},
// "device": {backend, processor, threads, compiler, build}, "measurement": {warmup, repeats,
// seconds}, "entries": [{"layer": KIND, ...the key's fields for that kind..., "ms": median}]}.
namespace ofa {

inline constexpr const char* kLatencyTableFormat = "ofa-latency-table-v1";

struct LatencyMeasurementSettings {
  std::int64_t warmup = 0;   // untimed runs before the timed ones
  std::int64_t repeats = 0;  // timed runs; an entry is their median
  double seconds = 0.0;      // wall time of the whole measurement
};

struct LatencyTable {
  std::string origin;  // the file it was read from, for messages; not stored
  std::string space_name;
  nlohmann::json space;  // the space's canonical JSON (SearchSpace::to_json)
  DeviceDescription device;
  LatencyMeasurementSettings measurement;
  std::map<LayerKey, double> milliseconds;
};

// Throws ofa::Error naming `path`, the field and what was expected; never returns a partial table.
LatencyTable read_latency_table(const std::string& path);
// Atomic (supernet/atomic_file.h): `path` holds the old table or the new one, never a mix.
void write_latency_table(const LatencyTable& table, const std::string& path);

nlohmann::json latency_table_to_json(const LatencyTable& table);
LatencyTable latency_table_from_json(const nlohmann::json& document, const std::string& origin);

// Refuses (ofa::Error saying what differs and that --force overrides) a table measured for
// another space (name or content) or on another device description than this machine's for the
// table's backend; the thread count is the table's own setting and is not compared. With
// `force` it returns without checking.
void check_latency_table(const LatencyTable& table, const SearchSpace& space, bool force);
// The same against an explicit description of the device the table is meant for.
void check_latency_table(const LatencyTable& table, const SearchSpace& space, const DeviceDescription& here,
                         bool force);

// Sum of the entries of the layers `subnet` runs (validated against `space`). Throws ofa::Error
// naming the first layer the table has no entry for.
double predict_latency_ms(const LatencyTable& table, const SearchSpace& space, const Subnet& subnet);

}  // namespace ofa
