#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "supernet/supernet.h"
#include "tools/bench/block_shapes.h"

// The cost of weight sharing's flexibility: a training step (forward + backward) on a new random
// subnet every step, against the same subnets each held fixed for a whole rotation. Both cases
// run the same subnets the same number of times, so the work is equal and the difference is the
// price of switching (re-slicing views, workspace reuse across shapes, cold caches).
namespace ofa::bench {
namespace {

constexpr std::int64_t kBatch = 8;
constexpr std::uint64_t kSubnets = 8;

struct SwitchingFixture {
  Supernet supernet{load_search_space("mbv3-small"), 1};
  std::vector<Subnet> subnets;
  std::vector<Tensor> images;
  Tensor dlogits = random_activation({kBatch, supernet.space().num_classes});

  SwitchingFixture() {
    for (std::uint64_t i = 0; i < kSubnets; ++i) {
      subnets.push_back(sample_subnet(supernet.space(), {}, 5, i));
      const std::int64_t r = subnets.back().resolution;
      images.push_back(random_activation({kBatch, r, r, supernet.space().in_channels}));
    }
  }

  void step(std::uint64_t i) {
    supernet.set_active(subnets[i]);
    supernet.network().zero_grad();
    supernet.network().forward(images[i], true);
    supernet.network().backward(dlogits);
  }
};

// One iteration: kSubnets steps, a different subnet each step.
void SubnetSwitchEveryStep(benchmark::State& state) {
  SwitchingFixture f;
  for (std::uint64_t i = 0; i < kSubnets; ++i) f.step(i);
  for (auto _ : state)
    for (std::uint64_t i = 0; i < kSubnets; ++i) f.step(i);
}

// One iteration: kSubnets steps of one subnet; successive iterations rotate through the subnets.
void SubnetFixedPerIteration(benchmark::State& state) {
  SwitchingFixture f;
  for (std::uint64_t i = 0; i < kSubnets; ++i) f.step(i);
  std::uint64_t iteration = 0;
  for (auto _ : state) {
    const std::uint64_t subnet = iteration++ % kSubnets;
    for (std::uint64_t i = 0; i < kSubnets; ++i) f.step(subnet);
  }
}

BENCHMARK(SubnetSwitchEveryStep)->Iterations(kSubnets)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(SubnetFixedPerIteration)->Iterations(kSubnets)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ofa::bench
