#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "kernels/error.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

namespace ofa {
namespace {

using json = nlohmann::json;

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

const SearchSpace& imagenet() {
  static const SearchSpace space = load_search_space("mbv3-imagenet");
  return space;
}

TEST(Subnet, LargestAndSmallestTakeTheExtremeChoices) {
  const Subnet largest = largest_subnet(imagenet());
  EXPECT_EQ(largest.kernel, std::vector<std::int64_t>(20, 7));
  EXPECT_EQ(largest.expand, std::vector<double>(20, 6.0));
  EXPECT_EQ(largest.depth, std::vector<std::int64_t>(5, 4));
  EXPECT_EQ(largest.resolution, 224);
  const Subnet smallest = smallest_subnet(imagenet());
  EXPECT_EQ(smallest.kernel, std::vector<std::int64_t>(20, 3));
  EXPECT_EQ(smallest.expand, std::vector<double>(20, 3.0));
  EXPECT_EQ(smallest.depth, std::vector<std::int64_t>(5, 2));
  EXPECT_EQ(smallest.resolution, 128);
  EXPECT_NO_THROW(validate_subnet(imagenet(), largest, "largest"));
  EXPECT_NO_THROW(validate_subnet(imagenet(), smallest, "smallest"));
}

TEST(Subnet, JsonIsOfasEncodingAndRoundTrips) {
  const json document = subnet_to_json(largest_subnet(imagenet()));
  EXPECT_EQ(document.size(), 4u);
  EXPECT_EQ(document["ks"].size(), 20u);
  EXPECT_TRUE(document["e"][0].is_number_integer());  // "e": [6, ...] as OFA writes it
  EXPECT_EQ(document["r"], 224);
  for (std::uint64_t i = 0; i < 50; ++i) {
    const Subnet subnet = sample_subnet(imagenet(), {}, 7, i);
    EXPECT_EQ(parse_subnet(subnet_to_json(subnet), imagenet(), "round trip"), subnet);
  }
}

TEST(Subnet, AcceptsOfasSearchOutput) {
  // What OFA's evolution finder prints: a one-element "r" list and "wid": null.
  json document = subnet_to_json(smallest_subnet(imagenet()));
  document["r"] = {160};
  document["wid"] = nullptr;
  const Subnet subnet = parse_subnet(document, imagenet(), "ofa.json");
  EXPECT_EQ(subnet.resolution, 160);
  document["e"][3] = 4.0;  // ratios may be written as floats
  EXPECT_EQ(parse_subnet(document, imagenet(), "ofa.json").expand[3], 4.0);
}

struct BadSubnet {
  std::string description;
  std::string pointer;
  json value;
  std::string expected;  // the message, after "sub.json: "
};

TEST(Subnet, EveryParseErrorNamesTheField) {
  const std::vector<BadSubnet> cases = {
      {"kernel not in the space", "/ks/7", 4, "ks[7]: 4 is not in the space; allowed: [3, 5, 7]"},
      {"expand not in the space", "/e/3", 5, "e[3]: 5 is not in the space; allowed: [3, 4, 6]"},
      {"depth beyond the stage", "/d/2", 5, "d[2]: 5 is not in the space; allowed: [2, 3, 4]"},
      {"resolution not in the space", "/r", 225, "r: 225 is not in the space; allowed: [128, 132,"},
      {"two resolutions", "/r", {224, 228}, "r: expected an integer or a one-element list, got [224,228]"},
      {"unknown key", "/w", 1, "w: unknown key; expected only ks, e, d, r"},
      {"wid with a value", "/wid", 2, "wid: unknown key"},
      {"kernel list too long", "/ks/20", 3, "ks: expected 20 entries (5 stages x 4 blocks), got 21"},
      {"depth list too short", "/d", {4, 4, 4, 4}, "d: expected 5 entries (one per stage), got 4"},
      {"kernel as a string", "/ks/0", "7", "ks[0]: expected an integer, got \"7\""},
      {"expand as a string", "/e/1", "six", "e[1]: expected a number, got \"six\""},
      {"ks not a list", "/ks", 7, "ks: expected a list, got 7"},
  };
  for (const BadSubnet& bad : cases) {
    json document = subnet_to_json(largest_subnet(imagenet()));
    document[json::json_pointer(bad.pointer)] = bad.value;
    const std::string message = error_of([&] { parse_subnet(document, imagenet(), "sub.json"); });
    EXPECT_EQ(message.rfind("sub.json: " + bad.expected, 0), 0u) << bad.description << ": " << message;
  }
  for (const std::string key : {"ks", "e", "d", "r"}) {
    json document = subnet_to_json(largest_subnet(imagenet()));
    document.erase(key);
    EXPECT_EQ(error_of([&] { parse_subnet(document, imagenet(), "sub.json"); }), "sub.json: " + key + ": missing required key");
  }
  EXPECT_EQ(error_of([] { parse_subnet(json::array(), imagenet(), "sub.json"); }).rfind("sub.json: expected a subnet object", 0),
            0u);
}

TEST(Subnet, ValidateChecksEveryField) {
  Subnet subnet = largest_subnet(imagenet());
  subnet.kernel[19] = 9;
  EXPECT_EQ(error_of([&] { validate_subnet(imagenet(), subnet, "mine"); }),
            "mine: ks[19]: 9 is not in the space; allowed: [3, 5, 7]");
  subnet = largest_subnet(imagenet());
  subnet.expand.pop_back();
  EXPECT_EQ(error_of([&] { validate_subnet(imagenet(), subnet, "mine"); }),
            "mine: e: expected 20 entries (5 stages x 4 blocks), got 19");
}

TEST(Subnet, LoadsMaxMinAndFiles) {
  EXPECT_EQ(load_subnet("max", imagenet()), largest_subnet(imagenet()));
  EXPECT_EQ(load_subnet("min", imagenet()), smallest_subnet(imagenet()));
  const Subnet subnet = sample_subnet(imagenet(), {}, 3, 4);
  const std::string path =
      (std::filesystem::temp_directory_path() / concat("ofa_test_subnet_", ::getpid(), ".json")).string();
  std::ofstream(path) << subnet_to_json(subnet).dump();
  EXPECT_EQ(load_subnet(path, imagenet()), subnet);

  std::ofstream(path) << R"({"ks": [3], "e": [3], "d": [2], "r": 224})";
  EXPECT_EQ(error_of([&] { load_subnet(path, imagenet()); }).rfind(path + ": ks: expected 20 entries", 0), 0u);
  std::ofstream(path) << "{\"ks\": ";
  EXPECT_EQ(error_of([&] { load_subnet(path, imagenet()); }).rfind(path + ": not valid JSON", 0), 0u);
  std::filesystem::remove(path);
  EXPECT_EQ(error_of([&] { load_subnet(path, imagenet()); }), path + ": neither max, min nor a readable subnet JSON file");
}

TEST(SampleSubnet, IsAPureFunctionOfSeedAndIndex) {
  const Subnet a = sample_subnet(imagenet(), {}, 42, 17);
  EXPECT_EQ(sample_subnet(imagenet(), {}, 42, 17), a);
  EXPECT_NE(sample_subnet(imagenet(), {}, 42, 18), a);
  EXPECT_NE(sample_subnet(imagenet(), {}, 43, 17), a);
  // Drawing other subnets in between changes nothing (no hidden generator state).
  for (std::uint64_t i = 0; i < 10; ++i) sample_subnet(imagenet(), {}, 42, i);
  EXPECT_EQ(sample_subnet(imagenet(), {}, 42, 17), a);
  EXPECT_NO_THROW(validate_subnet(imagenet(), a, "sampled"));
}

TEST(SampleSubnet, CoversEveryChoiceOfEverySlotUniformly) {
  const SearchSpace& space = imagenet();
  constexpr int kSamples = 3000;
  std::vector<std::map<std::int64_t, int>> kernels(20), depths(5);
  std::vector<std::map<double, int>> expands(20);
  std::map<std::int64_t, int> resolutions;
  for (std::uint64_t i = 0; i < kSamples; ++i) {
    const Subnet subnet = sample_subnet(space, {}, 1, i);
    for (std::size_t slot = 0; slot < 20; ++slot) {
      ++kernels[slot][subnet.kernel[slot]];
      ++expands[slot][subnet.expand[slot]];
    }
    for (std::size_t s = 0; s < 5; ++s) ++depths[s][subnet.depth[s]];
    ++resolutions[subnet.resolution];
  }
  // Each count is binomial(3000, 1/3): mean 1000, standard deviation ~26; 150 is ~6 sigma.
  for (std::size_t slot = 0; slot < 20; ++slot) {
    ASSERT_EQ(kernels[slot].size(), 3u);
    ASSERT_EQ(expands[slot].size(), 3u);
    for (const auto& [k, count] : kernels[slot]) EXPECT_NEAR(count, kSamples / 3, 150) << "ks[" << slot << "]=" << k;
    for (const auto& [e, count] : expands[slot]) EXPECT_NEAR(count, kSamples / 3, 150) << "e[" << slot << "]=" << e;
  }
  for (std::size_t s = 0; s < 5; ++s) {
    ASSERT_EQ(depths[s].size(), 3u);
    for (const auto& [d, count] : depths[s]) EXPECT_NEAR(count, kSamples / 3, 150) << "d[" << s << "]=" << d;
  }
  ASSERT_EQ(resolutions.size(), 25u);  // binomial(3000, 1/25): mean 120, sd ~11
  for (const auto& [r, count] : resolutions) EXPECT_NEAR(count, kSamples / 25, 60) << "r=" << r;
}

TEST(SampleSubnet, DrawsOnlyFromTheGivenChoices) {
  ElasticChoices phase;
  phase.kernel_sizes = {7};
  phase.depths = {3, 4};
  phase.resolutions = {224};
  std::set<double> expands;
  for (std::uint64_t i = 0; i < 200; ++i) {
    const Subnet subnet = sample_subnet(imagenet(), phase, 5, i);
    EXPECT_EQ(subnet.kernel, std::vector<std::int64_t>(20, 7));
    for (std::int64_t d : subnet.depth) EXPECT_TRUE(d == 3 || d == 4) << d;
    EXPECT_EQ(subnet.resolution, 224);
    expands.insert(subnet.expand.begin(), subnet.expand.end());
  }
  EXPECT_EQ(expands, (std::set<double>{3, 4, 6}));  // an empty list means all of the space's choices

  phase.depths = {5};
  EXPECT_EQ(error_of([&] { sample_subnet(imagenet(), phase, 5, 0); }),
            "sample_subnet: depth 5 is not in the space; allowed: [2, 3, 4]");
}

TEST(CountSubnets, IsDepthAware) {
  // OFA's "about 2 x 10^19": per stage 9^2 + 9^3 + 9^4 settings, five stages.
  EXPECT_DOUBLE_EQ(count_subnets(imagenet()), std::pow(81.0 + 729.0 + 6561.0, 5.0));
  EXPECT_NEAR(count_subnets(imagenet()), 2.18e19, 0.01e19);

  // A space small enough to enumerate: 1 stage, kernels {3, 5}, one expand, depths {1, 2}:
  // depth 1 has 2 settings, depth 2 has 4, so 6 subnets; sampling must find exactly those.
  json document = load_search_space("mbv3-small").to_json();
  document["stages"] = {document["stages"][0]};
  document["elastic"]["kernel_sizes"] = {3, 5};
  document["elastic"]["expand_ratios"] = {4};
  document["elastic"]["depths"] = {1, 2};
  const SearchSpace tiny = parse_search_space(document, "tiny");
  EXPECT_DOUBLE_EQ(count_subnets(tiny), 6.0);
  std::set<std::vector<std::int64_t>> distinct;
  for (std::uint64_t i = 0; i < 500; ++i) {
    const Subnet subnet = sample_subnet(tiny, {}, 9, i);
    std::vector<std::int64_t> running(subnet.kernel.begin(), subnet.kernel.begin() + subnet.depth[0]);
    distinct.insert(running);
  }
  EXPECT_EQ(distinct.size(), 6u);
}

}  // namespace
}  // namespace ofa
