#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "kernels/error.h"
#include "supernet/search_space.h"

namespace ofa {
namespace {

using json = nlohmann::json;

// The message of the ofa::Error that `body` throws, or a failure if it throws none.
template <class Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an ofa::Error";
  return "";
}

// Unique per process: several test runs may share the machine.
std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / concat("ofa_test_search_space_", ::getpid(), '_', name)).string();
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::vector<std::int64_t> channels_of(const SearchSpace& space) {
  std::vector<std::int64_t> channels = {space.stem_channels(), space.first_block_channels()};
  for (std::size_t s = 0; s < space.stages.size(); ++s) channels.push_back(space.stage_channels(s));
  channels.push_back(space.final_expand_channels());
  channels.push_back(space.feature_mix_channels());
  return channels;
}

TEST(MakeDivisible, FollowsOfa) {
  EXPECT_EQ(make_divisible(16.0, 8), 16);
  EXPECT_EQ(make_divisible(19.2, 8), 24);   // 16 would be more than 10 % below 19.2
  EXPECT_EQ(make_divisible(28.8, 8), 32);
  EXPECT_EQ(make_divisible(134.4, 8), 136);
  EXPECT_EQ(make_divisible(12.0, 8), 16);   // halves round up
  EXPECT_EQ(make_divisible(3.0, 8), 8);     // never below the divisor
  EXPECT_EQ(make_divisible(100.0, 8), 104);
  EXPECT_EQ(make_divisible(7.0, 1), 7);
}

TEST(SearchSpace, ShipsThreeSpacesNamedAfterTheirFiles) {
  const std::vector<std::string> names = builtin_search_space_names();
  EXPECT_EQ(names.size(), 3u);
  for (const std::string expected : {"mbv3-imagenet", "mbv3-imagenet-w1.2", "mbv3-small"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
    const SearchSpace space = load_search_space(expected);
    EXPECT_EQ(space.name, expected);
    EXPECT_EQ(space.origin, "builtin:" + expected);
  }
}

TEST(SearchSpace, Mbv3ImagenetIsOfasSpace) {
  const SearchSpace space = load_search_space("mbv3-imagenet");
  EXPECT_EQ(space.in_channels, 3);
  EXPECT_EQ(space.num_classes, 1000);
  EXPECT_EQ(channels_of(space), (std::vector<std::int64_t>{16, 16, 24, 40, 80, 112, 160, 960, 1280}));
  EXPECT_EQ(space.stem.kernel, 3);
  EXPECT_EQ(space.stem.stride, 2);
  EXPECT_EQ(space.stem.activation, Activation::hswish);
  EXPECT_EQ(space.first_block.expand, 1.0);
  EXPECT_EQ(space.first_block.activation, Activation::relu);
  EXPECT_FALSE(space.first_block.squeeze_excite);
  ASSERT_EQ(space.stages.size(), 5u);
  const std::vector<std::int64_t> strides = {2, 2, 2, 1, 2};
  const std::vector<Activation> activations = {Activation::relu, Activation::relu, Activation::hswish,
                                               Activation::hswish, Activation::hswish};
  const std::vector<bool> se = {false, true, false, true, true};
  for (std::size_t s = 0; s < 5; ++s) {
    EXPECT_EQ(space.stages[s].stride, strides[s]) << s;
    EXPECT_EQ(space.stages[s].activation, activations[s]) << s;
    EXPECT_EQ(space.stages[s].squeeze_excite, se[s]) << s;
  }
  EXPECT_EQ(space.kernel_sizes, (std::vector<std::int64_t>{3, 5, 7}));
  EXPECT_EQ(space.expand_ratios, (std::vector<double>{3, 4, 6}));
  EXPECT_EQ(space.depths, (std::vector<std::int64_t>{2, 3, 4}));
  ASSERT_EQ(space.resolutions.size(), 25u);
  EXPECT_EQ(space.min_resolution(), 128);
  EXPECT_EQ(space.resolutions[1], 132);
  EXPECT_EQ(space.max_resolution(), 224);
  EXPECT_EQ(space.num_block_slots(), 20);
  EXPECT_EQ(space.se_reduction, 4);
  EXPECT_EQ(space.head.activation, Activation::hswish);
  EXPECT_FLOAT_EQ(space.head.dropout, 0.1f);
  // OFA's widest blocks: 16 * 6 = 96 expanded channels; SE of 160 * 6 = 960 is 240.
  EXPECT_EQ(space.mid_channels(16, 6.0), 96);
  EXPECT_EQ(space.mid_channels(24, 3.0), 72);
  EXPECT_EQ(space.se_channels(960), 240);
  EXPECT_EQ(space.se_channels(72), 24);  // 72 / 4 = 18 -> 16, but 16 < 0.9 * 18 -> 24
}

TEST(SearchSpace, Mbv3ImagenetW12WidensEveryLayer) {
  const SearchSpace space = load_search_space("mbv3-imagenet-w1.2");
  EXPECT_DOUBLE_EQ(space.width_mult, 1.2);
  EXPECT_EQ(channels_of(space), (std::vector<std::int64_t>{24, 24, 32, 48, 96, 136, 192, 1152, 1536}));
}

TEST(SearchSpace, Mbv3SmallKeepsAtLeastTwoByTwoAtItsSmallestResolution) {
  const SearchSpace space = load_search_space("mbv3-small");
  EXPECT_EQ(space.in_channels, 1);
  EXPECT_EQ(space.num_classes, 10);
  EXPECT_EQ(space.resolutions, (std::vector<std::int64_t>{24, 28, 32}));
  std::int64_t side = space.min_resolution();
  side = (side - 1) / space.stem.stride + 1;
  for (const StageSpec& stage : space.stages) side = (side - 1) / stage.stride + 1;
  EXPECT_GE(side, 2);
  EXPECT_EQ(space.with_input_channels(3).in_channels, 3);
  EXPECT_EQ(space.with_input_channels(3).stem_channels(), space.stem_channels());
  EXPECT_THROW(space.with_input_channels(0), Error);
}

TEST(SearchSpace, CanonicalJsonRoundTrips) {
  for (const std::string& name : builtin_search_space_names()) {
    const SearchSpace space = load_search_space(name);
    const json document = space.to_json();
    const SearchSpace again = parse_search_space(document, "round trip");
    EXPECT_EQ(again.to_json(), document) << name;
    EXPECT_EQ(channels_of(again), channels_of(space)) << name;
    EXPECT_EQ(again.resolutions, space.resolutions) << name;
    EXPECT_EQ(again.head.dropout, space.head.dropout) << name;
    EXPECT_EQ(document["head"]["dropout"].get<double>(), 0.1) << name;  // not 0.10000000149011612
    EXPECT_TRUE(document["elastic"]["expand_ratios"][0].is_number_integer()) << name;
  }
}

TEST(SearchSpace, LoadsAFileByPathAndSortsChoices) {
  json document = load_search_space("mbv3-small").to_json();
  document["name"] = "my-space";
  document["elastic"]["kernel_sizes"] = {7, 3, 5};
  document["elastic"]["resolutions"] = {{"min", 20}, {"max", 32}, {"step", 6}};
  const std::string path = temp_path("valid.json");
  write_file(path, document.dump());
  const SearchSpace space = load_search_space(path);
  EXPECT_EQ(space.name, "my-space");
  EXPECT_EQ(space.origin, path);
  EXPECT_EQ(space.kernel_sizes, (std::vector<std::int64_t>{3, 5, 7}));
  EXPECT_EQ(space.resolutions, (std::vector<std::int64_t>{20, 26, 32}));
  std::filesystem::remove(path);
}

TEST(SearchSpace, RejectsUnknownNamesAndBrokenFiles) {
  const std::string missing = error_of([] { load_search_space("mbv3-nonexistent"); });
  EXPECT_NE(missing.find("mbv3-nonexistent"), std::string::npos) << missing;
  EXPECT_NE(missing.find("mbv3-imagenet-w1.2"), std::string::npos) << missing;  // lists what exists

  const std::string path = temp_path("broken.json");
  write_file(path, "{\"name\": \"x\",");
  const std::string broken = error_of([&] { load_search_space(path); });
  EXPECT_EQ(broken.rfind(path + ": not valid JSON", 0), 0u) << broken;
  std::filesystem::remove(path);
}

// One way to break a valid space, and what the error must name.
struct BadSpace {
  std::string description;
  std::string pointer;  // JSON pointer of the field to set (added when absent)
  json value;
  std::vector<std::string> expected;  // substrings of the message, after "bad.json: "
};

std::string bad_space_error(const BadSpace& bad) {
  json document = load_search_space("mbv3-imagenet").to_json();
  document[json::json_pointer(bad.pointer)] = bad.value;
  return error_of([&] { parse_search_space(document, "bad.json"); });
}

TEST(SearchSpace, EveryValidationErrorNamesTheFileAndField) {
  const std::vector<BadSpace> cases = {
      {"unknown root key", "/colour", "blue", {"colour: unknown key", "expected only name, in_channels"}},
      {"unknown nested key", "/stages/2/strid", 2, {"stages[2].strid: unknown key", "width, stride"}},
      {"unknown range key", "/elastic/resolutions", {{"min", 128}, {"max", 224}, {"stride", 4}},
       {"elastic.resolutions.stride: unknown key"}},
      {"wrong type", "/num_classes", "1000", {"num_classes: expected an integer, got string"}},
      {"float for an integer", "/stem/width", 16.5, {"stem.width: expected an integer"}},
      {"non-positive width", "/stages/1/width", 0, {"stages[1].width: expected a positive integer, got 0"}},
      {"negative head width", "/head/feature_mix_width", -5, {"head.feature_mix_width: expected a positive"}},
      {"non-positive width multiplier", "/width_mult", 0.0, {"width_mult: expected a positive number"}},
      {"even elastic kernel", "/elastic/kernel_sizes", {3, 4}, {"elastic.kernel_sizes[1]: expected an odd kernel size"}},
      {"even stem kernel", "/stem/kernel", 2, {"stem.kernel: expected an odd kernel size"}},
      {"duplicate choice", "/elastic/expand_ratios", {3, 4, 4}, {"elastic.expand_ratios: the value 4 is listed twice"}},
      {"empty depths", "/elastic/depths", json::array(), {"elastic.depths: expected a non-empty list"}},
      {"zero depth", "/elastic/depths", {0, 2}, {"elastic.depths[0]: expected a positive integer, got 0"}},
      {"non-positive expand", "/elastic/expand_ratios", {-1, 4}, {"elastic.expand_ratios[0]: expected a positive number"}},
      {"empty stages", "/stages", json::array(), {"stages: expected a non-empty list"}},
      {"stage not an object", "/stages/3", 7, {"stages[3]: expected an object"}},
      {"stride to below 1x1", "/elastic/resolutions", {8, 224},
       {"stages[2].stride: stride 2 shrinks the 1x1 feature map below 1x1 at the smallest resolution 8"}},
      {"stem stride above the image", "/stem/stride", 256, {"stem.stride: stride 256 shrinks the 128x128"}},
      {"zero stride", "/stages/0/stride", 0, {"stages[0].stride: expected a positive integer"}},
      {"resolution range not a multiple of its step", "/elastic/resolutions", {{"min", 128}, {"max", 224}, {"step", 5}},
       {"elastic.resolutions.step: max - min = 96 is not a multiple of the step 5"}},
      {"resolution range upside down", "/elastic/resolutions", {{"min", 224}, {"max", 128}, {"step", 4}},
       {"elastic.resolutions.max: expected max >= min"}},
      {"zero resolution", "/elastic/resolutions", {0, 224}, {"elastic.resolutions[0]: expected a positive integer"}},
      {"unknown activation", "/stages/0/activation", "swish", {"stages[0].activation: unknown activation 'swish'"}},
      {"boolean as string", "/first_block/squeeze_excite", "yes", {"first_block.squeeze_excite: expected true or false"}},
      {"dropout of one", "/head/dropout", 1.0, {"head.dropout: expected a probability in [0, 1)"}},
      {"empty name", "/name", "", {"name: expected a non-empty string"}},
      {"zero SE reduction", "/se_reduction", 0, {"se_reduction: expected a positive integer"}},
      {"zero first-block expand", "/first_block/expand", 0, {"first_block.expand: expected a positive number"}},
  };
  for (const BadSpace& bad : cases) {
    const std::string message = bad_space_error(bad);
    EXPECT_EQ(message.rfind("bad.json: ", 0), 0u) << bad.description << ": " << message;
    for (const std::string& part : bad.expected)
      EXPECT_NE(message.find(part), std::string::npos) << bad.description << ": '" << message << "' lacks '" << part << "'";
  }
}

TEST(SearchSpace, MissingKeysAreNamed) {
  for (const std::string pointer : {"/in_channels", "/stem/kernel", "/stages/4/squeeze_excite", "/elastic/depths", "/head"}) {
    json document = load_search_space("mbv3-imagenet").to_json();
    const json::json_pointer field(pointer);
    document[field.parent_pointer()].erase(field.back());
    const std::string message = error_of([&] { parse_search_space(document, "bad.json"); });
    EXPECT_NE(message.find("missing required key"), std::string::npos) << pointer << ": " << message;
  }
  json document = load_search_space("mbv3-imagenet").to_json();
  document["stages"][4].erase("squeeze_excite");
  EXPECT_EQ(error_of([&] { parse_search_space(document, "bad.json"); }),
            "bad.json: stages[4].squeeze_excite: missing required key");
}

TEST(SearchSpace, RejectsADocumentThatIsNotAnObject) {
  const std::string message = error_of([] { parse_search_space(json::array(), "bad.json"); });
  EXPECT_EQ(message.rfind("bad.json: document: expected an object", 0), 0u) << message;
}

}  // namespace
}  // namespace ofa
