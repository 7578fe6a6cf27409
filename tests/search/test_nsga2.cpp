#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "search/nsga2.h"
#include "supernet/counting.h"
#include "supernet/search_space.h"
#include "tests/search/synthetic_objective.h"

namespace ofa {
namespace {

ParetoPoint point(double accuracy, double metric) { return {Subnet{}, accuracy, metric}; }

TEST(Nsga2, RanksAndCrowdingOfAHandMadeSet) {
  // Front 0: (0.9, 10), (0.8, 5), (0.7, 1); front 1: (0.75, 6) (dominated by (0.8, 5));
  // front 2: (0.6, 8) (dominated by (0.75, 6)).
  const std::vector<ParetoPoint> points = {point(0.9, 10), point(0.75, 6), point(0.8, 5), point(0.6, 8), point(0.7, 1)};
  const std::vector<std::int64_t> ranks = non_dominated_ranks(points);
  EXPECT_EQ(ranks, (std::vector<std::int64_t>{0, 1, 0, 2, 0}));
  const std::vector<double> crowding = crowding_distances(points, ranks);
  EXPECT_TRUE(std::isinf(crowding[0]));
  EXPECT_TRUE(std::isinf(crowding[4]));
  // The middle of front 0: accuracy neighbours 0.7 and 0.9 over a range of 0.2, metric neighbours 1 and 10 over 9.
  EXPECT_NEAR(crowding[2], 0.2 / 0.2 + 9.0 / 9.0, 1e-12);
  EXPECT_TRUE(dominates(point(0.8, 5), point(0.75, 6)));
  EXPECT_FALSE(dominates(point(0.8, 5), point(0.8, 5)));
}

TEST(Nsga2, FrontIsNonDominatedReproducibleAndCoversTheExtremes) {
  const SearchSpace space = load_search_space("mbv3-small");
  const BatchObjective accuracy = [&space](std::span<const Subnet> subnets) {
    std::vector<double> scores;
    for (const Subnet& s : subnets) scores.push_back(testing::synthetic_accuracy(space, s));
    return scores;
  };
  const auto macs = [&space](const Subnet& s) { return count_subnet(space, s).macs / 1e6; };
  Nsga2Config config;
  config.generations = 60;
  config.seed = 2;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<ParetoPoint> front = nsga2_front(space, accuracy, macs, config);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("NSGA-II, 60 generations: %.2f s, %zu points on the front\n", seconds, front.size());

  ASSERT_GE(front.size(), 20u);
  for (std::size_t i = 0; i < front.size(); ++i) {
    EXPECT_DOUBLE_EQ(front[i].metric, macs(front[i].subnet));
    EXPECT_DOUBLE_EQ(front[i].accuracy, testing::synthetic_accuracy(space, front[i].subnet));
    if (i > 0) {
      EXPECT_LT(front[i - 1].metric, front[i].metric);
    }
    for (std::size_t j = 0; j < front.size(); ++j) EXPECT_FALSE(dominates(front[j], front[i])) << j << " over " << i;
  }
  // Both objectives grow with every elastic dimension, so the smallest and largest subnets are the ends.
  EXPECT_DOUBLE_EQ(front.front().metric, macs(smallest_subnet(space)));
  EXPECT_DOUBLE_EQ(front.back().accuracy, testing::synthetic_accuracy(space, largest_subnet(space)));

  const std::vector<ParetoPoint> again = nsga2_front(space, accuracy, macs, config);
  ASSERT_EQ(again.size(), front.size());
  for (std::size_t i = 0; i < front.size(); ++i) EXPECT_EQ(again[i].subnet, front[i].subnet);
}

}  // namespace
}  // namespace ofa
