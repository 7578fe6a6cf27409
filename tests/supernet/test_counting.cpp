#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "supernet/counting.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

namespace ofa {
namespace {

using json = nlohmann::json;

double rounded(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

// Every block at kernel k and expand e, every stage at depth d, at resolution r.
Subnet uniform_subnet(const SearchSpace& space, std::int64_t k, double e, std::int64_t d, std::int64_t r) {
  const auto slots = static_cast<std::size_t>(space.num_block_slots());
  return {std::vector<std::int64_t>(slots, k), std::vector<double>(slots, e),
          std::vector<std::int64_t>(space.stages.size(), d), r};
}

struct Reference {
  const char* space;
  bool largest;
  double macs_m;    // as OFA's profiler prints them, at 224 with 1000 classes
  double params_m;
  double exact_macs;
  std::int64_t exact_params;
};

// The OFA reference's own figures (ofa/utils/flops_counter.py over get_active_subnet()): the
// largest subnet is k7 e6 d4 everywhere, the smallest k3 e3 d2, both at 224. Reproducing all
// four needs the SE 1x1 convolutions counted as MACs (mid*se + se*mid at 1x1: the profiler
// hooks every nn.Conv2d, and OFA's SE module is two of them on the pooled vector); without them
// w1.0 largest would be 563.67M. SE biases count as parameters, BN running statistics do not.
TEST(CountSubnet, MatchesOfasFiguresForTheLargestAndSmallestSubnets) {
  const std::vector<Reference> references = {
      {"mbv3-imagenet", true, 566.17, 7.665, 566170656, 7664760},
      {"mbv3-imagenet", false, 121.28, 3.411, 121278672, 3410792},
      {"mbv3-imagenet-w1.2", true, 843.10, 10.702, 843101040, 10701632},
      {"mbv3-imagenet-w1.2", false, 193.08, 4.602, 193078200, 4602456},
  };
  for (const Reference& reference : references) {
    const SearchSpace space = load_search_space(reference.space);
    const Subnet subnet = reference.largest ? uniform_subnet(space, 7, 6.0, 4, 224) : uniform_subnet(space, 3, 3.0, 2, 224);
    const SubnetCost cost = count_subnet(space, subnet);
    const std::string what = std::string(reference.space) + (reference.largest ? " largest" : " smallest");
    EXPECT_EQ(rounded(cost.macs / 1e6, 2), reference.macs_m) << what;
    EXPECT_EQ(rounded(static_cast<double>(cost.params) / 1e6, 3), reference.params_m) << what;
    EXPECT_EQ(cost.macs, reference.exact_macs) << what;
    EXPECT_EQ(cost.params, reference.exact_params) << what;
  }
  // largest_subnet() is the same subnet as the reference's largest.
  const SearchSpace space = load_search_space("mbv3-imagenet");
  EXPECT_EQ(count_subnet(space, largest_subnet(space)).macs, 566170656);
}

// OFA-MobileNetV3 at 224: the widest map pair is stage 1's first depthwise convolution,
// 96 x 112 x 112 in and 96 x 56 x 56 out (its expand conv, 16 + 96 channels at 112 x 112, is
// smaller); at expand 3 the expand conv, (16 + 48) x 112 x 112, is the peak.
TEST(CountSubnet, PeakActivationOfOfaMobileNetV3) {
  const SearchSpace space = load_search_space("mbv3-imagenet");
  EXPECT_EQ(count_subnet(space, uniform_subnet(space, 7, 6.0, 4, 224)).peak_activation_bytes,
            4 * (96 * 112 * 112 + 96 * 56 * 56));
  EXPECT_EQ(count_subnet(space, uniform_subnet(space, 3, 3.0, 2, 224)).peak_activation_bytes, 4 * (16 + 48) * 112 * 112);
}

// A network small enough to count by hand (channel divisor 1, so widths are taken as written):
// 1-channel 4x4 input; stem 3x3 stride 1 -> 2 channels; first block (expand 1, residual);
// one stage of width 4 with SE, at expand 2 block 0 stride 2 (2 -> mid 4 -> 4) and block 1
// residual (4 -> mid 8 -> 4); head 4 -> 6 -> pool -> 5 -> 3 classes.
SearchSpace hand_counted_space() {
  const json document = {
      {"name", "tiny"},
      {"in_channels", 1},
      {"num_classes", 3},
      {"width_mult", 1.0},
      {"channel_divisor", 1},
      {"stem", {{"width", 2}, {"kernel", 3}, {"stride", 1}, {"activation", "h_swish"}}},
      {"first_block", {{"width", 2}, {"kernel", 3}, {"expand", 1}, {"activation", "relu"}, {"squeeze_excite", false}}},
      {"stages", {{{"width", 4}, {"stride", 2}, {"activation", "relu"}, {"squeeze_excite", true}}}},
      {"elastic", {{"kernel_sizes", {3}}, {"expand_ratios", {1.5, 2}}, {"depths", {1, 2}}, {"resolutions", {4}}}},
      {"se_reduction", 4},
      {"head", {{"final_expand_width", 6}, {"feature_mix_width", 5}, {"activation", "h_swish"}, {"dropout", 0.0}}},
  };
  return parse_search_space(document, "tiny");
}

TEST(CountSubnet, HandCountedTinyNetwork) {
  const SearchSpace space = hand_counted_space();
  // layer                        MACs               params                  values alive
  // stem 1->2 3x3 @4x4           16*2*9 = 288       18 + BN 4 = 22          16 + 32 = 48
  // first dw 3x3 @4x4            16*2*9 = 288       18 + 4 = 22             32 + 32 = 64
  // first project 2->2           16*2*2 = 64        4 + 4 = 8               32 + 32 + held 32 = 96
  // b0 expand 2->4 @4x4          16*4*2 = 128       8 + 8 = 16              32 + 64 = 96
  // b0 dw 3x3 s2 4x4->2x2        4*4*9 = 144        36 + 8 = 44             64 + 16 = 80
  // b0 SE 4->1->4                4 + 4 = 8          4+1 + 4+4 = 13          16 + 4 + 1 = 21
  // b0 project 4->4 @2x2         4*4*4 = 64         16 + 8 = 24             16 + 16 = 32
  // b1 expand 4->8 @2x2          4*8*4 = 128        32 + 16 = 48            16 + 32 = 48
  // b1 dw 3x3 @2x2               4*8*9 = 288        72 + 16 = 88            32 + 32 + held 16 = 80
  // b1 SE 8->2->8                16 + 16 = 32       16+2 + 16+8 = 42        32 + 8 + 2 + held 16 = 58
  // b1 project 8->4              4*4*8 = 128        32 + 8 = 40             32 + 16 + held 16 = 64
  // final expand 4->6 @2x2       4*6*4 = 96         24 + 12 = 36            16 + 24 = 40
  // global pool                  -                  -                       24 + 6 = 30
  // feature mix 6->5 (no BN)     30                 30                      6 + 5 = 11
  // classifier 5->3              15                 15 + 3 = 18             5 + 3 = 8
  const SubnetCost deep = count_subnet(space, {{3, 3}, {2, 2}, {2}, 4});
  EXPECT_EQ(deep.macs, 1701);
  EXPECT_EQ(deep.params, 451);
  EXPECT_EQ(deep.peak_activation_bytes, 96 * 4);
  // Depth 1 drops block 1 entirely (its slot's choices are carried but do not count).
  const SubnetCost shallow = count_subnet(space, {{3, 3}, {2, 2}, {1}, 4});
  EXPECT_EQ(shallow.macs, 1701 - (128 + 288 + 32 + 128));
  EXPECT_EQ(shallow.params, 451 - (48 + 88 + 42 + 40));
  EXPECT_EQ(shallow.peak_activation_bytes, 96 * 4);
  // Expand 1.5 in block 0 (mid 3) shrinks its layers below the first block's projection, whose
  // 96 values include the 32 of the held block input:
  // b0 expand 2->3: MACs 96, params 6 + 6 = 12, alive 32 + 48 = 80; dw s2: 108, 27 + 6 = 33;
  // SE 3->1->3: 6, 3+1 + 3+3 = 10; project 3->4: 48, 12 + 8 = 20.
  const SubnetCost narrow = count_subnet(space, {{3, 3}, {1.5, 2}, {2}, 4});
  EXPECT_EQ(narrow.macs, 1701 - (128 + 144 + 8 + 64) + (96 + 108 + 6 + 48));
  EXPECT_EQ(narrow.params, 451 - (16 + 44 + 13 + 24) + (12 + 33 + 10 + 20));
  EXPECT_EQ(narrow.peak_activation_bytes, 96 * 4);
}

TEST(CountSubnet, RandomSubnetsLieBetweenTheExtremes) {
  const SearchSpace space = load_search_space("mbv3-imagenet");
  for (std::uint64_t i = 0; i < 30; ++i) {
    Subnet subnet = sample_subnet(space, {}, 11, i);
    const SubnetCost cost = count_subnet(space, subnet);
    const SubnetCost low = count_subnet(space, uniform_subnet(space, 3, 3.0, 2, subnet.resolution));
    const SubnetCost high = count_subnet(space, uniform_subnet(space, 7, 6.0, 4, subnet.resolution));
    EXPECT_LE(low.macs, cost.macs);
    EXPECT_LE(cost.macs, high.macs);
    EXPECT_LE(low.params, cost.params);
    EXPECT_LE(cost.params, high.params);
    EXPECT_LE(cost.peak_activation_bytes, high.peak_activation_bytes);
    // Parameters do not depend on the resolution; MACs do.
    subnet.resolution = 224;
    EXPECT_EQ(count_subnet(space, subnet).params, cost.params);
  }
}

TEST(CountSubnet, RejectsASubnetOfAnotherSpace) {
  const SearchSpace space = load_search_space("mbv3-imagenet");
  Subnet subnet = largest_subnet(space);
  subnet.depth[1] = 5;
  try {
    count_subnet(space, subnet);
    FAIL() << "expected an ofa::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "count_subnet: d[1]: 5 is not in the space; allowed: [2, 3, 4]");
  }
}

}  // namespace
}  // namespace ofa
