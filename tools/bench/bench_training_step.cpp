#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops/cross_entropy.h"
#include "kernels/ops/sgd.h"
#include "supernet/subnet.h"
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

// The supernet, a batch and SGD state for timing training steps of its subnets.
struct StepBench {
  Supernet supernet{load_search_space("mbv3-small"), 1};
  std::vector<std::int32_t> labels;
  std::vector<SgdParameter> parameters;
  SgdConfig sgd;
  Tensor dlogits = Tensor::empty({kBatch, supernet.space().num_classes});

  StepBench() {
    for (std::int64_t i = 0; i < kBatch; ++i) labels.push_back(static_cast<std::int32_t>(i % 10));
    for (const Parameter& p : supernet.network().parameters().parameters)
      parameters.push_back({p.value, p.grad, Tensor::zeros(p.value.shape()), p.weight_decay});
    sgd.lr = 0.01f;
  }

  void step(const Subnet& subnet, const Tensor& images, std::uint64_t index) {
    Network& network = supernet.network();
    supernet.set_active(subnet);
    network.zero_grad();
    const Tensor& logits = network.forward(images, true, 1, index);
    benchmark::DoNotOptimize(cross_entropy_forward(logits, labels, 0.1f));
    cross_entropy_backward(logits, labels, 0.1f, 1.0f, dlogits);
    network.backward(dlogits);
    sgd_step(parameters, sgd);
  }
};

Tensor batch_at(const SearchSpace& space, std::int64_t resolution) {
  return random_activation({kBatch, resolution, resolution, space.in_channels});
}

void report_images(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBatch);
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kBatch), benchmark::Counter::kIsRate);
}

void TrainingStepExpandPhase(benchmark::State& state) {
  StepBench bench;
  const std::vector<Subnet> subnets = benchmark_subnets(bench.supernet.space());
  const Tensor images = batch_at(bench.supernet.space(), kResolution);
  std::uint64_t step = 0;
  for (auto _ : state) {
    bench.step(subnets[step % kSubnets], images, step + 1);
    ++step;
  }
  report_images(state);
}

// One step of the space's largest (arg 1) or smallest (arg 0) subnet at resolution 24 or 32:
// the per-subnet costs distill/step_cost.h models as MACs plus a fixed overhead (the smallest
// subnet has 17-18 % of the largest's MACs at the same resolution; its step takes a larger share).
void TrainingStepOfSubnet(benchmark::State& state) {
  StepBench bench;
  const SearchSpace& space = bench.supernet.space();
  Subnet subnet = state.range(0) == 1 ? largest_subnet(space) : smallest_subnet(space);
  subnet.resolution = state.range(1);
  const Tensor images = batch_at(space, subnet.resolution);
  std::uint64_t step = 0;
  for (auto _ : state) bench.step(subnet, images, ++step);
  report_images(state);
}

BENCHMARK(TrainingStepExpandPhase)->Iterations(4 * kSubnets)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(TrainingStepOfSubnet)
    ->ArgNames({"largest", "resolution"})
    ->ArgsProduct({{1, 0}, {32, 24}})
    ->Iterations(24)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace ofa::bench
