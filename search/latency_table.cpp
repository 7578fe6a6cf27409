#include "search/latency_table.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <vector>

#include "kernels/error.h"
#include "supernet/atomic_file.h"
#include "supernet/json_object_reader.h"

namespace ofa {
namespace {

using json = nlohmann::json;

LayerKind read_layer_kind(const JsonObjectReader& entry, std::string_view key) {
  const std::string name = entry.string(key);
  for (LayerKind kind : {LayerKind::stem, LayerKind::block, LayerKind::head, LayerKind::network})
    if (name == layer_kind_name(kind)) return kind;
  entry.error(key, "unknown layer '", name, "'; expected stem, block, head or network");
}

json entry_to_json(const LayerKey& key, double milliseconds) {
  json entry = {{"layer", layer_kind_name(key.kind)}, {"input_size", key.input_size}};
  if (key.kind != LayerKind::network) {
    entry["in_channels"] = key.in_channels;
    entry["out_channels"] = key.out_channels;
    entry["activation"] = activation_name(key.activation);
  }
  if (key.kind == LayerKind::stem || key.kind == LayerKind::block) {
    entry["kernel"] = key.kernel;
    entry["stride"] = key.stride;
  }
  if (key.kind == LayerKind::block) {
    entry["expand"] = key.expand;
    entry["mid_channels"] = key.mid_channels;
    entry["expand_conv"] = key.expand_conv;
    entry["squeeze_excite"] = key.squeeze_excite;
  }
  entry["ms"] = milliseconds;
  return entry;
}

// The keys each kind's entries carry, exactly as entry_to_json writes them.
std::vector<std::string_view> entry_fields(LayerKind kind) {
  switch (kind) {
    case LayerKind::network: return {"layer", "input_size", "ms"};
    case LayerKind::stem:
      return {"layer", "input_size", "in_channels", "out_channels", "activation", "kernel", "stride", "ms"};
    case LayerKind::head: return {"layer", "input_size", "in_channels", "out_channels", "activation", "ms"};
    case LayerKind::block: break;
  }
  return {"layer",  "input_size", "in_channels", "out_channels", "activation",     "kernel",
          "stride", "expand",     "mid_channels", "expand_conv", "squeeze_excite", "ms"};
}

std::pair<LayerKey, double> entry_from_json(const json& value, const std::string& origin, const std::string& path) {
  // A block entry has every key any kind has: read the kind against that set, then check the
  // entry against its kind's own keys.
  const LayerKind kind = read_layer_kind(JsonObjectReader(value, origin, path, entry_fields(LayerKind::block)), "layer");
  const JsonObjectReader entry(value, origin, path, entry_fields(kind));
  LayerKey key;
  key.kind = kind;
  key.input_size = entry.positive_integer("input_size");
  if (kind != LayerKind::network) {
    key.in_channels = entry.positive_integer("in_channels");
    key.out_channels = entry.positive_integer("out_channels");
    key.activation = entry.activation("activation");
  }
  if (kind == LayerKind::stem || kind == LayerKind::block) {
    key.kernel = entry.positive_integer("kernel");
    key.stride = entry.positive_integer("stride");
  }
  if (kind == LayerKind::block) {
    key.expand = entry.positive_number("expand");
    key.mid_channels = entry.positive_integer("mid_channels");
    key.expand_conv = entry.boolean("expand_conv");
    key.squeeze_excite = entry.boolean("squeeze_excite");
  }
  // The network entry is a measured difference (whole forward minus its layers) and may be
  // negative; a layer's own time may not.
  const double milliseconds = kind == LayerKind::network ? entry.number("ms") : entry.positive_number("ms");
  return {key, milliseconds};
}

DeviceDescription device_from_json(const json& value, const std::string& origin) {
  const JsonObjectReader device(value, origin, "device", {"backend", "processor", "threads", "compiler", "build"});
  DeviceDescription description;
  description.backend = device.string("backend");
  description.processor = device.string("processor");
  description.threads = static_cast<int>(std::min<std::int64_t>(device.positive_integer("threads"), 1 << 20));
  description.compiler = device.string("compiler");
  description.build = device.string("build");
  return description;
}

json device_to_json(const DeviceDescription& device) {
  return {{"backend", device.backend},   {"processor", device.processor}, {"threads", device.threads},
          {"compiler", device.compiler}, {"build", device.build}};
}

std::string space_differences(const LatencyTable& table, const SearchSpace& space) {
  if (table.space_name != space.name)
    return concat("space: table '", table.space_name, "', here '", space.name, "' (", space.origin, ")");
  if (table.space != space.to_json())
    return concat("space '", space.name, "' (", space.origin,
                  ") has the same name but not the same content as the table's (widths, choices, input channels "
                  "or head)");
  return "";
}

}  // namespace

json latency_table_to_json(const LatencyTable& table) {
  json entries = json::array();
  for (const auto& [key, milliseconds] : table.milliseconds) entries.push_back(entry_to_json(key, milliseconds));
  return {{"format", kLatencyTableFormat},
          {"space", table.space_name},
          {"search_space", table.space},
          {"device", device_to_json(table.device)},
          {"measurement",
           {{"warmup", table.measurement.warmup},
            {"repeats", table.measurement.repeats},
            {"seconds", table.measurement.seconds}}},
          {"entries", std::move(entries)}};
}

LatencyTable latency_table_from_json(const json& document, const std::string& origin) {
  const JsonObjectReader top(document, origin, "", {"format", "space", "search_space", "device", "measurement", "entries"});
  const std::string format = top.string("format");
  OFA_CHECK(format == kLatencyTableFormat, origin, "format: expected '", kLatencyTableFormat, "', got '", format,
            "' (not a latency table of this version of ofa)");
  LatencyTable table;
  table.origin = origin;
  table.space_name = top.string("space");
  // Parsed as a space so that a damaged one is reported here, and stored canonically so that
  // comparing it with the space a search runs on ignores formatting and choice order.
  table.space = parse_search_space(top.at("search_space"), origin + " search_space").to_json();
  table.device = device_from_json(top.at("device"), origin);

  const JsonObjectReader measurement(top.at("measurement"), origin, "measurement", {"warmup", "repeats", "seconds"});
  table.measurement.warmup = measurement.non_negative_integer("warmup");
  table.measurement.repeats = measurement.positive_integer("repeats");
  table.measurement.seconds = measurement.number("seconds");

  const json& entries = top.at("entries");
  OFA_CHECK(entries.is_array() && !entries.empty(), origin, "entries: expected a non-empty list, got ",
            describe_json(entries));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string path = concat("entries[", i, ']');
    const auto [key, milliseconds] = entry_from_json(entries[i], origin, path);
    OFA_CHECK(table.milliseconds.emplace(key, milliseconds).second, origin, path, ": a second entry for ",
              describe_layer(key));
  }
  return table;
}

LatencyTable read_latency_table(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the latency table: ", std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  json document;
  try {
    document = json::parse(text.str());
  } catch (const json::parse_error& e) {
    fail(path, "not a valid JSON latency table (", e.what(), "); measure it again with `ofa latency`");
  }
  return latency_table_from_json(document, path);
}

void write_latency_table(const LatencyTable& table, const std::string& path) {
  const std::string text = latency_table_to_json(table).dump(1) + "\n";
  write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

void check_latency_table(const LatencyTable& table, const SearchSpace& space, const DeviceDescription& here,
                         bool force) {
  if (force) return;
  std::string differences = space_differences(table, space);
  const std::string device = device_differences(table.device, here);
  if (!device.empty()) differences += concat(differences.empty() ? "" : "; ", device);
  OFA_CHECK(differences.empty(), table.origin.empty() ? "latency table" : table.origin, "measured for something else (", differences,
            "); measure a table here with `ofa latency`, or pass --force to use it anyway");
}

void check_latency_table(const LatencyTable& table, const SearchSpace& space, bool force) {
  if (force) return;
  DeviceDescription here;
  try {
    here = describe_this_device({table.device.backend, table.device.threads});
  } catch (const Error& e) {
    here = table.device;
    here.backend = concat("none (", e.what(), ")");
  }
  check_latency_table(table, space, here, force);
}

double predict_latency_ms(const LatencyTable& table, const SearchSpace& space, const Subnet& subnet) {
  double milliseconds = 0.0;
  for (const PlannedLayer& layer : subnet_layers(space, subnet)) {
    const auto entry = table.milliseconds.find(layer.key);
    OFA_CHECK(entry != table.milliseconds.end(), table.origin.empty() ? "latency table" : table.origin, "no entry for ", describe_layer(layer.key),
              " (space '", space.name, "'); the table does not cover this subnet: measure it again with `ofa latency`");
    milliseconds += entry->second;
  }
  return milliseconds;
}

}  // namespace ofa
