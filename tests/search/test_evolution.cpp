#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <vector>

#include "search/accuracy_predictor.h"
#include "search/evolution.h"
#include "search/subnet_encoding.h"
#include "supernet/counting.h"
#include "supernet/search_space.h"
#include "tests/search/synthetic_objective.h"
#include "tests/support/expect_error.h"

namespace ofa {
namespace {

BatchObjective synthetic_objective(const SearchSpace& space) {
  return [&space](std::span<const Subnet> subnets) {
    std::vector<double> scores;
    for (const Subnet& s : subnets) scores.push_back(testing::synthetic_accuracy(space, s));
    return scores;
  };
}

Constraint macs_at_most(const SearchSpace& space, double limit) {
  return {"macs", "M", [&space](const Subnet& s) { return count_subnet(space, s).macs / 1e6; }, limit};
}

TEST(Evolution, RespectsTheConstraintAndBeatsRandomSampling) {
  const SearchSpace space = load_search_space("mbv3-small");
  const Constraint constraint = macs_at_most(space, 6.0);  // the space spans 2.1 M .. 18.3 M
  EvolutionConfig config;
  config.generations = 60;
  config.seed = 4;
  const EvolutionResult result = evolve(space, synthetic_objective(space), std::span(&constraint, 1), config);

  EXPECT_LE(constraint.metric(result.best.subnet), 6.0);
  EXPECT_DOUBLE_EQ(result.best.metrics.front(), constraint.metric(result.best.subnet));
  EXPECT_DOUBLE_EQ(result.best.score, testing::synthetic_accuracy(space, result.best.subnet));
  ASSERT_EQ(result.best_score_per_generation.size(), 61u);
  for (std::size_t g = 1; g < result.best_score_per_generation.size(); ++g)
    EXPECT_GE(result.best_score_per_generation[g], result.best_score_per_generation[g - 1]);

  // The best of as many feasible random subnets as evolution scored.
  std::mt19937_64 rng(99);
  double best_random = 0;
  for (std::int64_t found = 0; found < result.objective_calls;) {
    const Subnet s = random_subnet(space, rng);
    if (constraint.metric(s) > 6.0) continue;
    best_random = std::max(best_random, testing::synthetic_accuracy(space, s));
    ++found;
  }
  std::printf("evolution best %.4f (initial population %.4f), best of %lld random feasible %.4f\n", result.best.score,
              result.best_score_per_generation.front(), static_cast<long long>(result.objective_calls), best_random);
  EXPECT_GT(result.best.score, best_random + 0.005);
  EXPECT_GT(result.best.score, result.best_score_per_generation.front() + 0.01);
}

TEST(Evolution, IsReproducibleForASeed) {
  const SearchSpace space = load_search_space("mbv3-small");
  const Constraint constraint = macs_at_most(space, 8.0);
  EvolutionConfig config;
  config.generations = 20;
  config.seed = 17;
  const EvolutionResult a = evolve(space, synthetic_objective(space), std::span(&constraint, 1), config);
  const EvolutionResult b = evolve(space, synthetic_objective(space), std::span(&constraint, 1), config);
  EXPECT_EQ(a.best.subnet, b.best.subnet);
  EXPECT_EQ(a.best_score_per_generation, b.best_score_per_generation);
  config.seed = 18;
  const EvolutionResult c = evolve(space, synthetic_objective(space), std::span(&constraint, 1), config);
  EXPECT_NE(a.best_score_per_generation, c.best_score_per_generation);
}

TEST(Evolution, InfeasibleTargetStatesTheSmallestAchievableValue) {
  const SearchSpace space = load_search_space("mbv3-small");
  const Constraint constraint = macs_at_most(space, 1.0);
  const double smallest = count_subnet(space, smallest_subnet(space)).macs / 1e6;
  std::ostringstream expected;
  expected.precision(6);
  expected << "the smallest achievable macs is " << smallest << " M";
  EvolutionConfig config;
  config.generations = 5;
  testing::expect_error_naming([&] { evolve(space, synthetic_objective(space), std::span(&constraint, 1), config); },
                               "evolve", expected.str());
  EXPECT_DOUBLE_EQ(smallest_achievable(space, constraint), smallest);
}

TEST(Evolution, ABudgetOnlyTheSmallestSubnetsMeetStillFillsThePopulation) {
  const SearchSpace space = load_search_space("mbv3-small");
  const double smallest = count_subnet(space, smallest_subnet(space)).macs / 1e6;
  const Constraint constraint = macs_at_most(space, smallest * 1.02);
  EvolutionConfig config;
  config.generations = 10;
  config.max_attempts = 20;
  const EvolutionResult result = evolve(space, synthetic_objective(space), std::span(&constraint, 1), config);
  EXPECT_LE(result.best.metrics.front(), smallest * 1.02);
}

// The infeasibility message relies on the smallest subnet being minimal for every counted metric.
TEST(Evolution, TheSmallestSubnetMinimisesMacsParamsAndMemory) {
  for (const char* name : {"mbv3-small", "mbv3-imagenet"}) {
    const SearchSpace space = load_search_space(name);
    const SubnetCost minimum = count_subnet(space, smallest_subnet(space));
    std::mt19937_64 rng(1);
    for (int i = 0; i < 2000; ++i) {
      const SubnetCost cost = count_subnet(space, random_subnet(space, rng));
      ASSERT_GE(cost.macs, minimum.macs) << name;
      ASSERT_GE(cost.params, minimum.params) << name;
      ASSERT_GE(cost.peak_activation_bytes, minimum.peak_activation_bytes) << name;
    }
  }
}

// OFA's setting: 500 generations with the MLP predictor as the objective, under a MACs budget
// (its time is measured by tools/bench/bench_evolution.cpp).
TEST(Evolution, FiveHundredGenerationsWithThePredictorStayWithinTheBudget) {
  const SearchSpace space = load_search_space("mbv3-small");
  const AccuracyPredictor predictor(space, 3);
  const BatchObjective objective = [&predictor](std::span<const Subnet> s) { return predictor.predict(s); };
  const Constraint constraint = macs_at_most(space, 8.0);
  EvolutionConfig config;
  config.seed = 1;
  const EvolutionResult result = evolve(space, objective, std::span(&constraint, 1), config);
  ASSERT_EQ(result.best_score_per_generation.size(), 501u);
  EXPECT_LE(count_subnet(space, result.best.subnet).macs / 1e6, 8.0);
  for (std::size_t g = 1; g < result.best_score_per_generation.size(); ++g)
    EXPECT_GE(result.best_score_per_generation[g], result.best_score_per_generation[g - 1]) << "generation " << g;
}

}  // namespace
}  // namespace ofa
