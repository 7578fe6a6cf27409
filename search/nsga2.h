#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "search/evolution.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

// NSGA-II (Deb et al. 2002): the Pareto front of predicted accuracy (maximised) against one
// efficiency metric (minimised) in one run, where the constrained evolution needs one run per budget.
namespace ofa {

struct Nsga2Config {
  std::int64_t population = 100;
  std::int64_t generations = 200;
  double crossover_probability = 0.9;  // otherwise the child is a copy of the first parent, then mutated
  double mutate_probability = 0.1;
  std::uint64_t seed = 0;
};

struct ParetoPoint {
  Subnet subnet;
  double accuracy = 0;  // the objective's value
  double metric = 0;
};

// One front's order of the population: ranks[i] is individual i's front (0 = non-dominated).
std::vector<std::int64_t> non_dominated_ranks(std::span<const ParetoPoint> points);
// Crowding distance of each point within its own front (infinite at the front's two ends).
std::vector<double> crowding_distances(std::span<const ParetoPoint> points, std::span<const std::int64_t> ranks);
// a dominates b: no worse in both objectives and better in one.
bool dominates(const ParetoPoint& a, const ParetoPoint& b);

// The final population's non-dominated subnets (canonical: search/subnet_encoding.h), one per
// distinct network, sorted by metric.
// The initial population holds the space's smallest and largest subnets (the ends of the front
// for metrics that grow with every elastic dimension) and seeded random ones.
std::vector<ParetoPoint> nsga2_front(const SearchSpace& space, const BatchObjective& accuracy,
                                     const std::function<double(const Subnet&)>& metric, const Nsga2Config& config);

}  // namespace ofa
