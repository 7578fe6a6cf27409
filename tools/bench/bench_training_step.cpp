#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops/cross_entropy.h"
#include "kernels/ops/sgd.h"
#include "supernet/supernet.h"
#include "tools/bench/block_shapes.h"

// One training step of progressive shrinking's expand phase on `mbv3-small`: a new random subnet
// every step (all kernel, expand and depth choices), batch 64 at 28x28, forward, label-smoothed
// cross-entropy, backward and the SGD Nesterov update over the whole supernet.
// tools/bench/compare_torch_training.py runs the same steps (the same eight subnets, in order)
// in PyTorch. Reported as images/s.
namespace ofa::bench {
namespace {

constexpr std::int64_t kBatch = 64;
constexpr std::int64_t kResolution = 28;
constexpr std::uint64_t kSubnets = 8;

// The subnets `ofa info --space mbv3-small --subnet random --seed i` prints, at 28x28.
std::vector<Subnet> benchmark_subnets(const SearchSpace& space) {
  std::vector<Subnet> subnets;
  for (std::uint64_t i = 0; i < kSubnets; ++i) {
    subnets.push_back(sample_subnet(space, {}, i, 0));
    subnets.back().resolution = kResolution;
  }
  return subnets;
}

void TrainingStepExpandPhase(benchmark::State& state) {
  Supernet supernet(load_search_space("mbv3-small"), 1);
  const std::vector<Subnet> subnets = benchmark_subnets(supernet.space());
  const Tensor images = random_activation({kBatch, kResolution, kResolution, supernet.space().in_channels});
  std::vector<std::int32_t> labels;
  for (std::int64_t i = 0; i < kBatch; ++i) labels.push_back(static_cast<std::int32_t>(i % 10));
  Network& network = supernet.network();
  std::vector<SgdParameter> parameters;
  for (const Parameter& p : network.parameters().parameters)
    parameters.push_back({p.value, p.grad, Tensor::zeros(p.value.shape()), p.weight_decay});
  SgdConfig sgd;
  sgd.lr = 0.01f;
  Tensor dlogits = Tensor::empty({kBatch, supernet.space().num_classes});

  std::uint64_t step = 0;
  for (auto _ : state) {
    supernet.set_active(subnets[step++ % kSubnets]);
    network.zero_grad();
    const Tensor& logits = network.forward(images, true, 1, step);
    benchmark::DoNotOptimize(cross_entropy_forward(logits, labels, 0.1f));
    cross_entropy_backward(logits, labels, 0.1f, 1.0f, dlogits);
    network.backward(dlogits);
    sgd_step(parameters, sgd);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBatch);
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kBatch), benchmark::Counter::kIsRate);
}

BENCHMARK(TrainingStepExpandPhase)->Iterations(4 * kSubnets)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ofa::bench
