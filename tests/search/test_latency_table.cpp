#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "search/latency_table.h"
#include "search/layer_key.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"
#include "tests/support/expect_error.h"

namespace ofa {
namespace {

using json = nlohmann::json;
using testing::expect_error_naming;

DeviceDescription test_device() { return {"cpu", "Test CPU 3000", 1, "GCC test", "optimized NDEBUG avx2"}; }

// A table of `space` whose entries have known values: 1000 for the network entry, 100 for the
// head, 10 for the stem, and a block's kernel size for each block.
LatencyTable hand_built_table(const SearchSpace& space) {
  LatencyTable table;
  table.space_name = space.name;
  table.space = space.to_json();
  table.device = test_device();
  table.measurement = {2, 5, 1.5};
  for (const auto& [key, layer] : space_layers(space)) {
    switch (key.kind) {
      case LayerKind::network: table.milliseconds[key] = 1000.0; break;
      case LayerKind::head: table.milliseconds[key] = 100.0; break;
      case LayerKind::stem: table.milliseconds[key] = 10.0; break;
      case LayerKind::block: table.milliseconds[key] = static_cast<double>(key.kernel); break;
    }
  }
  return table;
}

class TemporaryDirectory {
 public:
  TemporaryDirectory()
      : path_(std::filesystem::temp_directory_path() / ("ofa_latency_test_" + std::to_string(getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(LatencyLayers, EnumerationCoversEveryLayerOfRandomSubnets) {
  for (const char* name : {"mbv3-small", "mbv3-imagenet"}) {
    const SearchSpace space = load_search_space(name);
    const auto layers = space_layers(space);
    std::set<LayerKey> used;
    for (std::uint64_t i = 0; i < 200; ++i)
      for (const PlannedLayer& layer : subnet_layers(space, sample_subnet(space, {}, 7, i))) {
        EXPECT_TRUE(layers.contains(layer.key)) << name << ": " << describe_layer(layer.key);
        used.insert(layer.key);
      }
    EXPECT_GT(used.size(), layers.size() / 4) << name;
  }
}

// mbv3-small: resolutions 24/28/32, stem stride 2, stage strides 1,2,2,1,2. Each elastic stage
// has a first block (input sizes by resolution) and later blocks, each at 3 kernels x 3 ratios:
// stage 1 at 12/14/16 (27 + 27), stage 2 from 12/14/16 to 6/7/8 (27 + 27), stage 3 from 6/7/8
// to 3/4 (27 + 18), stage 4 at 3/4 (18 + 18), stage 5 from 3/4 to 2 (18 + 9): 216, plus the first
// block at 3 sizes, 3 stems, 1 head (the last map is 2x2 at every resolution), 3 network entries.
TEST(LatencyLayers, CountsTheDistinctLayersOfMbv3Small) {
  const auto layers = space_layers(load_search_space("mbv3-small"));
  std::int64_t blocks = 0, stems = 0, heads = 0, networks = 0;
  for (const auto& [key, layer] : layers) {
    blocks += key.kind == LayerKind::block;
    stems += key.kind == LayerKind::stem;
    heads += key.kind == LayerKind::head;
    networks += key.kind == LayerKind::network;
  }
  EXPECT_EQ(blocks, 219);
  EXPECT_EQ(stems, 3);
  EXPECT_EQ(heads, 1);
  EXPECT_EQ(networks, 3);
}

TEST(LatencyLayers, BlockPlansAreTheExtractedNetworksBlocks) {
  const SearchSpace space = load_search_space("mbv3-small");
  const Subnet subnet = sample_subnet(space, {}, 3, 0);
  const NetworkPlan plan = subnet_plan(space, subnet);
  std::size_t block = 0;
  for (const PlannedLayer& layer : subnet_layers(space, subnet)) {
    if (layer.key.kind != LayerKind::block) continue;
    ASSERT_LT(block, plan.blocks.size());
    EXPECT_EQ(layer.block.max_mid_channels, plan.blocks[block].max_mid_channels);
    EXPECT_EQ(layer.block.kernel_sizes, plan.blocks[block].kernel_sizes);
    EXPECT_EQ(layer.key.mid_channels, plan.blocks[block].max_mid_channels);
    ++block;
  }
  EXPECT_EQ(block, plan.blocks.size());
}

TEST(PredictLatency, IsTheSumOfTheSubnetsEntries) {
  const SearchSpace space = load_search_space("mbv3-small");
  const LatencyTable table = hand_built_table(space);
  for (std::uint64_t i = 0; i < 20; ++i) {
    const Subnet subnet = sample_subnet(space, {}, 11, i);
    double expected = 1000.0 + 10.0 + 100.0 + static_cast<double>(space.first_block.kernel);
    for (std::size_t s = 0; s < space.stages.size(); ++s)
      for (std::int64_t j = 0; j < subnet.depth[s]; ++j)
        expected += static_cast<double>(subnet.kernel[s * static_cast<std::size_t>(space.max_depth()) + j]);
    EXPECT_DOUBLE_EQ(predict_latency_ms(table, space, subnet), expected);
  }
}

TEST(PredictLatency, NamesTheLayerATableLacks) {
  const SearchSpace space = load_search_space("mbv3-small");
  LatencyTable table = hand_built_table(space);
  LayerKey stem;
  stem.kind = LayerKind::stem;
  for (const auto& [key, ms] : table.milliseconds)
    if (key.kind == LayerKind::stem && key.input_size == 28) stem = key;
  table.milliseconds.erase(stem);
  Subnet subnet = largest_subnet(space);
  subnet.resolution = 28;
  expect_error_naming([&] { predict_latency_ms(table, space, subnet); }, "latency table", "no entry for stem 1->8");
}

TEST(LatencyTableFile, RoundTrips) {
  const TemporaryDirectory directory;
  const SearchSpace space = load_search_space("mbv3-small");
  const LatencyTable table = hand_built_table(space);
  write_latency_table(table, directory.file("table.json"));
  const LatencyTable read = read_latency_table(directory.file("table.json"));
  EXPECT_EQ(read.space_name, table.space_name);
  EXPECT_EQ(read.space, table.space);
  EXPECT_EQ(read.device, table.device);
  EXPECT_EQ(read.measurement.warmup, 2);
  EXPECT_EQ(read.measurement.repeats, 5);
  EXPECT_EQ(read.measurement.seconds, 1.5);
  EXPECT_EQ(read.milliseconds, table.milliseconds);
  EXPECT_EQ(read.origin, directory.file("table.json"));
  EXPECT_NO_THROW(check_latency_table(read, space, test_device(), false));
}

// Each corruption of a valid file and a piece of the message that must name what is wrong.
TEST(LatencyTableFile, CorruptTablesGiveAClearError) {
  const TemporaryDirectory directory;
  const std::string path = directory.file("table.json");
  const json valid = latency_table_to_json(hand_built_table(load_search_space("mbv3-small")));
  std::size_t block = 0;
  while (valid["entries"][block]["layer"] != "block") ++block;
  const std::string entry = "entries[" + std::to_string(block) + "]";

  write_text(path, valid.dump().substr(0, 200));
  expect_error_naming([&] { read_latency_table(path); }, path, "not a valid JSON latency table");

  const std::vector<std::pair<std::function<void(json&)>, std::string>> corruptions = {
      {[&](json& d) { d["entries"][block].erase("kernel"); }, entry + ".kernel: missing required key"},
      {[&](json& d) { d["entries"][block]["kernel"] = "five"; }, entry + ".kernel: expected an integer, got string"},
      {[&](json& d) { d["entries"][block]["ms"] = -1.0; }, entry + ".ms: expected a positive number"},
      {[&](json& d) { d["entries"][block]["squeeze_excite"] = 1; }, entry + ".squeeze_excite: expected true or false"},
      {[&](json& d) { d["entries"][block]["layer"] = "conv"; }, entry + ".layer: unknown layer 'conv'"},
      {[&](json& d) { d["entries"][block]["kernle"] = 3; }, entry + ".kernle: unknown key"},
      {[&](json& d) { d["entries"].push_back(d["entries"][block]); }, "a second entry for block"},
      {[&](json& d) { d.erase("device"); }, "device: missing required key"},
      {[&](json& d) { d["device"]["threads"] = "two"; }, "device.threads: expected an integer, got string"},
      {[&](json& d) { d["measurement"]["repeats"] = 0; }, "measurement.repeats: expected a positive integer"},
      {[&](json& d) { d["format"] = "something-else"; }, "format: expected 'ofa-latency-table-v1'"},
      {[&](json& d) { d["entries"] = json::array(); }, "entries: expected a non-empty list"},
      {[&](json& d) { d["search_space"].erase("stem"); }, "stem"},
  };
  for (const auto& [corrupt, detail] : corruptions) {
    json document = valid;
    corrupt(document);
    write_text(path, document.dump());
    expect_error_naming([&] { read_latency_table(path); }, path, detail);
  }
  expect_error_naming([&] { read_latency_table(directory.file("missing.json")); }, "missing.json",
                      "cannot open the latency table");
}

TEST(CheckLatencyTable, RefusesAnotherSpaceUnlessForced) {
  const SearchSpace small = load_search_space("mbv3-small");
  const LatencyTable table = hand_built_table(small);
  const SearchSpace imagenet = load_search_space("mbv3-imagenet");
  expect_error_naming([&] { check_latency_table(table, imagenet, test_device(), false); }, "latency table",
                      "space: table 'mbv3-small', here 'mbv3-imagenet'");
  expect_error_naming([&] { check_latency_table(table, imagenet, test_device(), false); }, "latency table", "--force");
  EXPECT_NO_THROW(check_latency_table(table, imagenet, test_device(), true));
  // Same name, other content: three input channels change the stem.
  expect_error_naming([&] { check_latency_table(table, small.with_input_channels(3), test_device(), false); },
                      "latency table", "not the same content");
}

TEST(CheckLatencyTable, RefusesAnotherDeviceUnlessForced) {
  const SearchSpace space = load_search_space("mbv3-small");
  const LatencyTable table = hand_built_table(space);
  DeviceDescription other = test_device();
  other.processor = "Another CPU 9000";
  expect_error_naming([&] { check_latency_table(table, space, other, false); }, "latency table",
                      "processor: table 'Test CPU 3000', here 'Another CPU 9000'");
  expect_error_naming([&] { check_latency_table(table, space, other, false); }, "latency table", "--force");
  EXPECT_NO_THROW(check_latency_table(table, space, other, true));
  other = test_device();
  other.build = "unoptimized";
  expect_error_naming([&] { check_latency_table(table, space, other, false); }, "latency table", "build: table");
  // The thread count is the table's own setting, not a property of the machine.
  other = test_device();
  other.threads = 2;
  EXPECT_NO_THROW(check_latency_table(table, space, other, false));
  // Against this machine: the test device is not it.
  expect_error_naming([&] { check_latency_table(table, space, false); }, "latency table", "processor: table");
  EXPECT_NO_THROW(check_latency_table(table, space, true));
}

TEST(LatencyDevice, ParsesCpuAndCudaAndRefusesTheRest) {
  EXPECT_EQ(parse_latency_device("cpu", 2, "--device").backend, "cpu");
  EXPECT_EQ(parse_latency_device("cpu", 2, "--device").threads, 2);
  EXPECT_EQ(parse_latency_device("cuda:1", 1, "--device").backend, "cuda:1");
  for (const char* bad : {"gpu", "cuda", "cuda:", "cuda:x", "cuda:-1", "cuda:1x"})
    expect_error_naming([&] { parse_latency_device(bad, 1, "--device"); }, "--device", "expected cpu or cuda:N");
  expect_error_naming([&] { describe_this_device({"cuda:0", 1}); }, "--device cuda:0",
                      "CUDA backend is not available for latency measurement yet");
  const DeviceDescription here = describe_this_device({"cpu", 3});
  EXPECT_EQ(here.backend, "cpu");
  EXPECT_EQ(here.threads, 3);
  EXPECT_FALSE(here.processor.empty());
  EXPECT_FALSE(here.compiler.empty());
  EXPECT_FALSE(here.build.empty());
}

}  // namespace
}  // namespace ofa
