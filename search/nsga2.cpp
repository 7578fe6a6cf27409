#include "search/nsga2.h"

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "kernels/error.h"
#include "search/subnet_encoding.h"

namespace ofa {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Scores subnets in batches and remembers every metric value by network.
class Evaluator {
 public:
  Evaluator(const SearchSpace& space, const BatchObjective& accuracy,
            const std::function<double(const Subnet&)>& metric)
      : space_(space), accuracy_(accuracy), metric_(metric) {}

  std::vector<ParetoPoint> evaluate(std::vector<Subnet> subnets) {
    const std::vector<double> scores = accuracy_(subnets);
    OFA_CHECK(scores.size() == subnets.size(), "nsga2_front", "the objective returned ", scores.size(), " scores for ",
              subnets.size(), " subnets");
    std::vector<ParetoPoint> points;
    for (std::size_t i = 0; i < subnets.size(); ++i) {
      auto [it, inserted] = metrics_.try_emplace(subnet_key(space_, subnets[i]));
      if (inserted) it->second = metric_(subnets[i]);
      points.push_back({std::move(subnets[i]), scores[i], it->second});
    }
    return points;
  }

 private:
  const SearchSpace& space_;
  const BatchObjective& accuracy_;
  const std::function<double(const Subnet&)>& metric_;
  std::unordered_map<std::string, double> metrics_;
};

// Binary tournament on (rank, crowding distance): the crowded-comparison operator.
std::size_t tournament(std::span<const std::int64_t> ranks, std::span<const double> crowding, std::mt19937_64& rng) {
  const std::size_t a = uniform_index(rng, ranks.size()), b = uniform_index(rng, ranks.size());
  if (ranks[a] != ranks[b]) return ranks[a] < ranks[b] ? a : b;
  return crowding[b] > crowding[a] ? b : a;
}

}  // namespace

bool dominates(const ParetoPoint& a, const ParetoPoint& b) {
  return a.accuracy >= b.accuracy && a.metric <= b.metric && (a.accuracy > b.accuracy || a.metric < b.metric);
}

std::vector<std::int64_t> non_dominated_ranks(std::span<const ParetoPoint> points) {
  const std::size_t n = points.size();
  std::vector<std::vector<std::size_t>> dominated_by(n);  // dominated_by[i]: the points i dominates
  std::vector<std::int64_t> domination_count(n, 0), ranks(n, 0);
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      if (dominates(points[i], points[j]))
        dominated_by[i].push_back(j);
      else if (dominates(points[j], points[i]))
        ++domination_count[i];
    }
    if (domination_count[i] == 0) front.push_back(i);
  }
  for (std::int64_t rank = 0; !front.empty(); ++rank) {
    std::vector<std::size_t> next;
    for (std::size_t i : front) {
      ranks[i] = rank;
      for (std::size_t j : dominated_by[i])
        if (--domination_count[j] == 0) next.push_back(j);
    }
    front = std::move(next);
  }
  return ranks;
}

std::vector<double> crowding_distances(std::span<const ParetoPoint> points, std::span<const std::int64_t> ranks) {
  std::vector<double> distance(points.size(), 0.0);
  std::unordered_map<std::int64_t, std::vector<std::size_t>> fronts;
  for (std::size_t i = 0; i < points.size(); ++i) fronts[ranks[i]].push_back(i);
  for (auto& [rank, members] : fronts) {
    for (const auto objective : {&ParetoPoint::accuracy, &ParetoPoint::metric}) {
      std::stable_sort(members.begin(), members.end(),
                       [&](std::size_t a, std::size_t b) { return points[a].*objective < points[b].*objective; });
      const double low = points[members.front()].*objective, high = points[members.back()].*objective;
      distance[members.front()] = distance[members.back()] = kInfinity;
      if (high == low) continue;
      for (std::size_t m = 1; m + 1 < members.size(); ++m)
        distance[members[m]] += (points[members[m + 1]].*objective - points[members[m - 1]].*objective) / (high - low);
    }
  }
  return distance;
}

std::vector<ParetoPoint> nsga2_front(const SearchSpace& space, const BatchObjective& accuracy,
                                     const std::function<double(const Subnet&)>& metric, const Nsga2Config& config) {
  OFA_CHECK(config.population >= 4 && config.generations >= 0, "nsga2_front", "population is ", config.population,
            " and generations ", config.generations, "; expected a population of at least 4");
  const auto size = static_cast<std::size_t>(config.population);
  std::mt19937_64 rng(config.seed);
  Evaluator evaluator(space, accuracy, metric);

  // Distinct networks only: copies of one subnet would crowd the front and the tournament.
  const auto fresh = [&](std::unordered_set<std::string>& seen, const Subnet& subnet) {
    return seen.insert(subnet_key(space, subnet)).second;
  };
  std::unordered_set<std::string> seen;
  std::vector<Subnet> initial = {smallest_subnet(space), largest_subnet(space)};
  for (const Subnet& s : initial) fresh(seen, s);
  for (std::size_t attempt = 0; initial.size() < size && attempt < 100 * size; ++attempt) {
    Subnet s = random_subnet(space, rng);
    if (fresh(seen, s)) initial.push_back(std::move(s));
  }
  std::vector<ParetoPoint> population = evaluator.evaluate(std::move(initial));

  for (std::int64_t generation = 0; generation < config.generations; ++generation) {
    const std::vector<std::int64_t> ranks = non_dominated_ranks(population);
    const std::vector<double> crowding = crowding_distances(population, ranks);
    std::vector<Subnet> children;
    for (std::size_t attempt = 0; children.size() < size && attempt < 20 * size; ++attempt) {
      const Subnet& first = population[tournament(ranks, crowding, rng)].subnet;
      const Subnet& second = population[tournament(ranks, crowding, rng)].subnet;
      Subnet child = uniform_real(rng) < config.crossover_probability ? crossover_subnets(first, second, rng) : first;
      child = mutate_subnet(space, child, config.mutate_probability, rng);
      if (fresh(seen, child)) children.push_back(std::move(child));
    }
    for (ParetoPoint& p : evaluator.evaluate(std::move(children))) population.push_back(std::move(p));

    // Environmental selection: whole fronts while they fit, the last one by crowding distance.
    const std::vector<std::int64_t> merged_ranks = non_dominated_ranks(population);
    const std::vector<double> merged_crowding = crowding_distances(population, merged_ranks);
    std::vector<std::size_t> order(population.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      if (merged_ranks[a] != merged_ranks[b]) return merged_ranks[a] < merged_ranks[b];
      return merged_crowding[a] > merged_crowding[b];
    });
    std::vector<ParetoPoint> next;
    for (std::size_t i = 0; i < std::min(size, order.size()); ++i) next.push_back(std::move(population[order[i]]));
    population = std::move(next);
  }

  const std::vector<std::int64_t> ranks = non_dominated_ranks(population);
  std::vector<ParetoPoint> front;
  for (std::size_t i = 0; i < population.size(); ++i)
    if (ranks[i] == 0)
      front.push_back({canonical_subnet(space, population[i].subnet), population[i].accuracy, population[i].metric});
  std::stable_sort(front.begin(), front.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
    return a.metric != b.metric ? a.metric < b.metric : a.accuracy > b.accuracy;
  });
  return front;
}

}  // namespace ofa
