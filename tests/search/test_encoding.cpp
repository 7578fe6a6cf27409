#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "search/rank_correlation.h"
#include "search/subnet_encoding.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"
#include "tests/support/expect_error.h"

namespace ofa {
namespace {

TEST(SubnetEncoding, SizesFollowOfasEncoder) {
  // mbv3-imagenet: 20 slots x (3 kernels + 3 expands) + 5 stages x 3 depths + 25 resolutions.
  EXPECT_EQ(encoding_size(load_search_space("mbv3-imagenet")), 20 * 6 + 5 * 3 + 25);
  // mbv3-small: the same slots, 3 resolutions.
  EXPECT_EQ(encoding_size(load_search_space("mbv3-small")), 20 * 6 + 5 * 3 + 3);
}

TEST(SubnetEncoding, IsOneHotWithInactiveSlotsZero) {
  const SearchSpace space = load_search_space("mbv3-small");
  Subnet subnet = largest_subnet(space);
  subnet.depth[0] = 2;
  subnet.kernel[1] = 5;
  subnet.expand[1] = 4;
  const std::vector<float> features = encode_subnet(space, subnet);
  // Slot 0: kernel 7 (index 2), slot 1: kernel 5 (index 1), slots 2 and 3 inactive.
  EXPECT_EQ(std::vector<float>(features.begin(), features.begin() + 12),
            (std::vector<float>{0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0}));
  // Active slots: 18 blocks (stage 0 has 2 of 4) x (one kernel + one expand), 5 depths, 1 resolution.
  EXPECT_EQ(std::accumulate(features.begin(), features.end(), 0.0f), 18.0f * 2 + 5 + 1);
  EXPECT_EQ(features.back(), 1.0f);  // resolution 32, the largest
}

TEST(SubnetEncoding, RoundTripsThroughTheCanonicalSubnet) {
  const SearchSpace space = load_search_space("mbv3-imagenet");
  for (std::uint64_t i = 0; i < 200; ++i) {
    const Subnet subnet = sample_subnet(space, {}, 11, i);
    const Subnet decoded = decode_subnet(space, encode_subnet(space, subnet));
    EXPECT_EQ(decoded, canonical_subnet(space, subnet)) << i;
    EXPECT_EQ(encode_subnet(space, decoded), encode_subnet(space, subnet)) << i;
  }
  EXPECT_EQ(decode_subnet(space, encode_subnet(space, largest_subnet(space))), largest_subnet(space));
  EXPECT_EQ(decode_subnet(space, encode_subnet(space, smallest_subnet(space))), smallest_subnet(space));
}

TEST(SubnetEncoding, RejectsWhatIsNotAnEncoding) {
  const SearchSpace space = load_search_space("mbv3-small");
  std::vector<float> features = encode_subnet(space, smallest_subnet(space));
  testing::expect_error_naming([&] { decode_subnet(space, std::span(features).first(10)); }, "decode_subnet", "138");
  features.back() = 1.0f;  // two resolutions
  testing::expect_error_naming([&] { decode_subnet(space, features); }, "decode_subnet", "resolution");
  features = encode_subnet(space, smallest_subnet(space));
  features[3 * 3] = 1.0f;  // a kernel in slot 3, beyond stage 0's depth of 2
  testing::expect_error_naming([&] { decode_subnet(space, features); }, "decode_subnet", "slot 3");
  Subnet bad = smallest_subnet(space);
  bad.kernel[0] = 9;
  testing::expect_error_naming([&] { encode_subnet(space, bad); }, "encode_subnet", "ks[0]");
}

TEST(GeneticOperators, MutationRateAndChoicesFollowTheProbability) {
  const SearchSpace space = load_search_space("mbv3-imagenet");
  std::mt19937_64 rng(5);
  const Subnet parent = largest_subnet(space);
  std::int64_t changed = 0, genes = 0;
  for (int i = 0; i < 2000; ++i) {
    const Subnet child = mutate_subnet(space, parent, 0.1, rng);
    validate_subnet(space, child, "mutated");
    for (std::size_t s = 0; s < child.kernel.size(); ++s) changed += (child.kernel[s] != 7) + (child.expand[s] != 6.0);
    for (std::int64_t d : child.depth) changed += d != 4;
    changed += child.resolution != 224;
    genes += static_cast<std::int64_t>(2 * child.kernel.size() + child.depth.size() + 1);
  }
  // A gene is redrawn with probability 0.1 and then differs from the largest choice with
  // probability (n - 1) / n: 2/3 for kernels, expands and depths, 24/25 for resolutions.
  const double rate = static_cast<double>(changed) / static_cast<double>(genes);
  EXPECT_NEAR(rate, 0.1 * (2.0 / 3.0 * 45 + 24.0 / 25.0) / 46, 0.005);
  EXPECT_EQ(mutate_subnet(space, parent, 0.0, rng), parent);
}

TEST(GeneticOperators, CrossoverTakesEveryGeneFromAParentAndIsSeeded) {
  const SearchSpace space = load_search_space("mbv3-imagenet");
  const Subnet a = largest_subnet(space), b = smallest_subnet(space);
  std::mt19937_64 rng(3), same(3);
  std::int64_t from_a = 0, genes = 0;
  for (int i = 0; i < 200; ++i) {
    const Subnet child = crossover_subnets(a, b, rng);
    EXPECT_EQ(child, crossover_subnets(a, b, same));
    for (std::size_t s = 0; s < child.kernel.size(); ++s) {
      EXPECT_TRUE(child.kernel[s] == 7 || child.kernel[s] == 3);
      from_a += child.kernel[s] == 7;
      ++genes;
    }
  }
  EXPECT_NEAR(static_cast<double>(from_a) / static_cast<double>(genes), 0.5, 0.03);
}

TEST(KendallTau, KnownPermutations) {
  const std::vector<double> order = {1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(kendall_tau(order, std::vector<double>{10, 20, 30, 40, 50}), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau(order, std::vector<double>{5, 4, 3, 2, 1}), -1.0);
  // One adjacent swap: 9 concordant, 1 discordant of 10 pairs.
  EXPECT_DOUBLE_EQ(kendall_tau(order, std::vector<double>{2, 1, 3, 4, 5}), 0.8);
  // {3, 1, 2}: pairs (3,1) and (3,2) discordant, (1,2) concordant.
  EXPECT_DOUBLE_EQ(kendall_tau(std::vector<double>{1, 2, 3}, std::vector<double>{3, 1, 2}), -1.0 / 3.0);
  // Ties (tau-b): x = 1 1 2, y = 1 2 3: 2 concordant, untied pairs 2 and 3.
  EXPECT_NEAR(kendall_tau(std::vector<double>{1, 1, 2}, std::vector<double>{1, 2, 3}), 2.0 / std::sqrt(6.0), 1e-12);
  testing::expect_error_naming([] { kendall_tau(std::vector<double>{1, 2}, std::vector<double>{1}); }, "kendall_tau");
  testing::expect_error_naming(
      [] {
        kendall_tau(std::vector<double>{1, 1}, std::vector<double>{1, 2});
      },
      "kendall_tau", "constant");
}

}  // namespace
}  // namespace ofa
