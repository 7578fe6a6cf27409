#include <benchmark/benchmark.h>

#include <span>
#include <string>

#include "search/accuracy_predictor.h"
#include "search/evolution.h"
#include "supernet/counting.h"
#include "supernet/search_space.h"

// OFA's constrained evolution as `ofa search` runs it for one target: 500 generations, the MLP
// predictor scoring each generation as one batch, under a MACs budget near the middle of the
// space. The target is under 10 s per search on the 2-core development machine.
namespace ofa::bench {
namespace {

void BM_Evolution500Generations(benchmark::State& state, const std::string& space_name, double macs_budget) {
  const SearchSpace space = load_search_space(space_name);
  const AccuracyPredictor predictor(space, 3);
  const BatchObjective objective = [&predictor](std::span<const Subnet> s) { return predictor.predict(s); };
  const Constraint constraint{"macs", "M", [&space](const Subnet& s) { return count_subnet(space, s).macs / 1e6; },
                              macs_budget};
  EvolutionConfig config;
  config.seed = 1;
  EvolutionResult result;
  for (auto _ : state) {
    result = evolve(space, objective, std::span(&constraint, 1), config);
    benchmark::DoNotOptimize(result.best);
  }
  state.counters["subnets_scored"] = static_cast<double>(result.objective_calls);
  state.counters["metric_evaluations"] = static_cast<double>(result.metric_cache_misses);
}

BENCHMARK_CAPTURE(BM_Evolution500Generations, mbv3_small_8M_MACs, std::string("mbv3-small"), 8.0)
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Evolution500Generations, mbv3_imagenet_300M_MACs, std::string("mbv3-imagenet"), 300.0)
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

}  // namespace
}  // namespace ofa::bench
