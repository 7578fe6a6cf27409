#include <gtest/gtest.h>

#include "distill/recipe.h"
#include "distill/step_cost.h"
#include "supernet/counting.h"

namespace ofa {
namespace {

Phase fixed_phase(std::int64_t kernel, double expand, std::int64_t depth, std::int64_t subnets, SamplingRule sampling,
                  double kd_ratio) {
  Phase phase;
  phase.name = "fixed";
  phase.choices.kernel_sizes = {kernel};
  phase.choices.expand_ratios = {expand};
  phase.choices.depths = {depth};
  phase.largest_resolution_only = true;
  phase.subnets_per_step = subnets;
  phase.sampling = sampling;
  phase.kd_ratio = kd_ratio;
  return phase;
}

TEST(StepCostTest, OneLargestSubnetAtTheLargestResolutionIsTheUnit) {
  const SearchSpace space = load_search_space("mbv3-small");
  EXPECT_DOUBLE_EQ(relative_step_cost(space, fixed_phase(7, 6, 4, 1, SamplingRule::random, 0.0)), 1.0);
  EXPECT_DOUBLE_EQ(relative_step_cost(space, load_recipe("ps").phases[0]), 1.0);  // the teacher phase
}

TEST(StepCostTest, CountsEverySubnetOfTheStepAndTheFrozenTeachersForwardPass) {
  const SearchSpace space = load_search_space("mbv3-small");
  EXPECT_DOUBLE_EQ(relative_step_cost(space, fixed_phase(7, 6, 4, 2, SamplingRule::sandwich, 1.0)), 2.0);
  EXPECT_DOUBLE_EQ(relative_step_cost(space, fixed_phase(7, 6, 4, 3, SamplingRule::random, 0.0)), 3.0);
  EXPECT_DOUBLE_EQ(relative_step_cost(space, fixed_phase(7, 6, 4, 1, SamplingRule::random, 1.0)), 1.0 + 1.0 / 3.0);
}

TEST(StepCostTest, ASmallSubnetCostsItsMacsPlusTheFixedOverhead) {
  const SearchSpace space = load_search_space("mbv3-small");
  Phase smallest = fixed_phase(3, 3, 2, 1, SamplingRule::random, 0.0);
  smallest.largest_resolution_only = false;
  smallest.choices.resolutions = {24};
  Subnet largest_at_24 = largest_subnet(space);
  largest_at_24.resolution = 24;
  const double largest_macs = count_subnet(space, largest_subnet(space)).macs;
  const double expected = (count_subnet(space, smallest_subnet(space)).macs +
                           kSubnetOverheadOfLargest * count_subnet(space, largest_at_24).macs) /
                          ((1 + kSubnetOverheadOfLargest) * largest_macs);
  EXPECT_DOUBLE_EQ(relative_step_cost(space, smallest), expected);
  EXPECT_LT(expected, 0.4);
}

// The CPU backend's step times of the ps phases relative to its teacher step, the mean of two ps
// runs (distill/README.md, "ETA"); counting subnets put them at 2, 2, 2, 3 and 4.
TEST(StepCostTest, PredictsThePsPhasesMeasuredStepTimes) {
  const SearchSpace space = load_search_space("mbv3-small");
  const Recipe ps = load_recipe("ps");
  const std::vector<double> measured = {1.0, 1.54, 1.44, 1.11, 1.51, 1.85};
  ASSERT_EQ(ps.phases.size(), measured.size());
  for (std::size_t p = 0; p < measured.size(); ++p)
    EXPECT_NEAR(relative_step_cost(space, ps.phases[p]), measured[p], 0.2 * measured[p]) << ps.phases[p].name;
}

}  // namespace
}  // namespace ofa
