#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "supernet/search_space.h"
#include "supernet/subnet.h"

// OFA's constrained evolutionary search (its EvolutionFinder): maximise a predicted accuracy
// over subnets whose efficiency metrics stay within limits.
namespace ofa {

// Scores many subnets in one call, so a predictor runs them as one batch through the GEMM.
using BatchObjective = std::function<std::vector<double>(std::span<const Subnet>)>;

// metric(subnet) <= limit. `name` and `unit` only word messages ("macs", "M").
struct Constraint {
  std::string name;
  std::string unit;
  std::function<double(const Subnet&)> metric;
  double limit = 0;
};

struct EvolutionConfig {
  std::int64_t population = 100;
  double parent_ratio = 0.25;
  double mutation_ratio = 0.5;
  double mutate_probability = 0.1;
  std::int64_t generations = 500;
  // Draws per wanted individual before rejection sampling gives up (OFA loops forever).
  std::int64_t max_attempts = 200;
  std::uint64_t seed = 0;
};

struct Scored {
  Subnet subnet;
  double score = 0;
  std::vector<double> metrics;  // one per constraint
};

struct EvolutionResult {
  Scored best;
  std::vector<double> best_score_per_generation;  // after each generation (index 0: the initial population)
  std::int64_t objective_calls = 0;               // subnets scored
  std::int64_t metric_cache_misses = 0;           // subnets whose metrics were computed
};

// The smallest value of `constraint.metric` the space reaches: its value at the smallest subnet
// (minimal for MACs, params, peak memory and table latency, which grow with every elastic
// dimension) or at any of `samples` seeded random subnets, whichever is lower, so a metric
// without that property is not misreported either.
double smallest_achievable(const SearchSpace& space, const Constraint& constraint, std::int64_t samples = 1000,
                           std::uint64_t seed = 0);

// Throws ofa::Error when no subnet meets the constraints, naming the constraint and stating the
// smallest achievable value of its metric. Same seed, same result.
EvolutionResult evolve(const SearchSpace& space, const BatchObjective& objective,
                       std::span<const Constraint> constraints, const EvolutionConfig& config);

// Memoises constraint metrics per distinct network (search/subnet_encoding.h's canonical_subnet),
// since evolution revisits the same subnets many times.
class MetricCache {
 public:
  MetricCache(const SearchSpace& space, std::span<const Constraint> constraints);
  const std::vector<double>& metrics(const Subnet& subnet);
  bool feasible(const std::vector<double>& metrics) const;
  std::int64_t misses() const { return misses_; }

 private:
  const SearchSpace& space_;
  std::span<const Constraint> constraints_;
  std::unordered_map<std::string, std::vector<double>> values_;
  std::int64_t misses_ = 0;
};

}  // namespace ofa
