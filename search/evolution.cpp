#include "search/evolution.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "kernels/error.h"
#include "search/subnet_encoding.h"

namespace ofa {
namespace {

std::string number_text(double value) {
  std::ostringstream out;
  out.precision(6);
  out << value;
  return out.str();
}

// The error for constraints no subnet met: the first whose metric alone cannot reach its limit,
// or, when each can on its own, all of them together.
[[noreturn]] void fail_infeasible(const SearchSpace& space, std::span<const Constraint> constraints,
                                  std::uint64_t seed) {
  std::string limits;
  for (const Constraint& c : constraints) {
    const double smallest = smallest_achievable(space, c, 1000, seed);
    if (smallest > c.limit)
      fail("evolve", "no subnet of ", space.name, " meets ", c.name, " <= ", number_text(c.limit), " ", c.unit,
           "; the smallest achievable ", c.name, " is ", number_text(smallest), " ", c.unit);
    limits += concat(limits.empty() ? "" : ", ", c.name, " <= ", number_text(c.limit), " ", c.unit, " (smallest ",
                     number_text(smallest), ")");
  }
  fail("evolve", "no subnet of ", space.name, " was found meeting all of ", limits,
       " at once; each limit alone is reachable, relax one of them");
}

void check_config(const EvolutionConfig& config) {
  OFA_CHECK(config.population >= 2, "evolve", "population is ", config.population, ", expected at least 2");
  OFA_CHECK(config.parent_ratio > 0 && config.mutation_ratio >= 0 && config.parent_ratio + config.mutation_ratio <= 1,
            "evolve", "parent_ratio ", config.parent_ratio, " and mutation_ratio ", config.mutation_ratio,
            " must be positive and sum to at most 1");
  OFA_CHECK(config.mutate_probability >= 0 && config.mutate_probability <= 1, "evolve", "mutate_probability is ",
            config.mutate_probability, ", expected [0, 1]");
  OFA_CHECK(config.generations >= 0 && config.max_attempts >= 1, "evolve",
            "generations must be >= 0 and max_attempts >= 1");
}

}  // namespace

MetricCache::MetricCache(const SearchSpace& space, std::span<const Constraint> constraints)
    : space_(space), constraints_(constraints) {}

const std::vector<double>& MetricCache::metrics(const Subnet& subnet) {
  auto [it, inserted] = values_.try_emplace(subnet_key(space_, subnet));
  if (inserted) {
    ++misses_;
    for (const Constraint& c : constraints_) it->second.push_back(c.metric(subnet));
  }
  return it->second;
}

bool MetricCache::feasible(const std::vector<double>& metrics) const {
  for (std::size_t i = 0; i < constraints_.size(); ++i)
    if (!(metrics[i] <= constraints_[i].limit)) return false;
  return true;
}

double smallest_achievable(const SearchSpace& space, const Constraint& constraint, std::int64_t samples,
                           std::uint64_t seed) {
  double smallest = constraint.metric(smallest_subnet(space));
  std::mt19937_64 rng(seed);
  for (std::int64_t i = 0; i < samples; ++i)
    smallest = std::min(smallest, constraint.metric(random_subnet(space, rng)));
  return smallest;
}

EvolutionResult evolve(const SearchSpace& space, const BatchObjective& objective,
                       std::span<const Constraint> constraints, const EvolutionConfig& config) {
  check_config(config);
  const auto population_size = static_cast<std::size_t>(config.population);
  const auto parents = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::llround(config.parent_ratio * static_cast<double>(config.population))));
  const std::size_t mutations =
      std::min(population_size - parents,
               static_cast<std::size_t>(std::llround(config.mutation_ratio * static_cast<double>(config.population))));
  const std::size_t crossovers = population_size - parents - mutations;

  std::mt19937_64 rng(config.seed);
  MetricCache cache(space, constraints);
  EvolutionResult result;

  // Individuals wait here until one objective call scores them together.
  std::vector<Scored> unscored;
  std::vector<Scored> population;
  const auto admit = [&](const Subnet& subnet) {
    const std::vector<double>& metrics = cache.metrics(subnet);
    if (!cache.feasible(metrics)) return false;
    unscored.push_back({subnet, 0.0, metrics});
    return true;
  };
  const auto score_waiting = [&] {
    std::vector<Subnet> subnets;
    for (const Scored& s : unscored) subnets.push_back(s.subnet);
    const std::vector<double> scores = objective(subnets);
    OFA_CHECK(scores.size() == subnets.size(), "evolve", "the objective returned ", scores.size(), " scores for ",
              subnets.size(), " subnets");
    for (std::size_t i = 0; i < unscored.size(); ++i) {
      unscored[i].score = scores[i];
      population.push_back(std::move(unscored[i]));
    }
    result.objective_calls += static_cast<std::int64_t>(subnets.size());
    unscored.clear();
  };

  // Rejection sampling, as OFA, but bounded: a tight budget falls back to the smallest subnet and
  // variations of what was found, and an impossible one is reported instead of looping forever.
  for (std::int64_t attempt = 0; unscored.size() < population_size && attempt < config.population * config.max_attempts;
       ++attempt)
    admit(random_subnet(space, rng));
  if (unscored.size() < population_size) {
    admit(smallest_subnet(space));
    if (unscored.empty()) fail_infeasible(space, constraints, config.seed);
    const std::size_t found = unscored.size();
    for (std::int64_t attempt = 0;
         unscored.size() < population_size && attempt < config.population * config.max_attempts; ++attempt)
      admit(mutate_subnet(space, unscored[uniform_index(rng, found)].subnet, config.mutate_probability, rng));
    while (unscored.size() < population_size) {
      Scored copy = unscored[uniform_index(rng, found)];
      unscored.push_back(std::move(copy));
    }
  }
  score_waiting();

  const auto by_score = [](const Scored& a, const Scored& b) { return a.score > b.score; };
  for (std::int64_t generation = 0;; ++generation) {
    std::stable_sort(population.begin(), population.end(), by_score);
    population.resize(parents);
    result.best_score_per_generation.push_back(population.front().score);
    if (result.best.subnet.depth.empty() || population.front().score > result.best.score)
      result.best = population.front();
    if (generation == config.generations) break;

    // A child that keeps missing the constraints is replaced by a copy of a parent (feasible).
    for (std::size_t i = 0; i < mutations + crossovers; ++i) {
      bool admitted = false;
      for (std::int64_t attempt = 0; attempt < config.max_attempts && !admitted; ++attempt) {
        const Subnet& first = population[uniform_index(rng, parents)].subnet;
        admitted = i < mutations ? admit(mutate_subnet(space, first, config.mutate_probability, rng))
                                 : admit(crossover_subnets(first, population[uniform_index(rng, parents)].subnet, rng));
      }
      if (!admitted) unscored.push_back(population[uniform_index(rng, parents)]);
    }
    score_waiting();
  }
  result.metric_cache_misses = cache.misses();
  return result;
}

}  // namespace ofa
