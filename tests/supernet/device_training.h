#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/cuda/backend.h"
#include "kernels/ops/cross_entropy.h"
#include "kernels/ops/distillation.h"
#include "kernels/ops/metric_sums.h"
#include "kernels/ops/residual_add.h"
#include "kernels/ops/sgd.h"
#include "supernet/supernet.h"
#include "tests/support/counting_backend.h"
#include "tests/support/test_tensors.h"
#include "tests/supernet/tiny_space.h"

// Training steps of the tiny supernet on the active CUDA backend and on the cpu, made of the op
// calls ofa train makes: shared by the emulated test and the GPU test.
namespace ofa::testing {

// Every parameter and BN statistic of a network, in registration order.
inline std::vector<Tensor> state_of(const Network& network) {
  std::vector<Tensor> state;
  for (const Parameter& p : network.parameters().parameters) state.push_back(p.value);
  for (const Buffer& b : network.parameters().buffers) state.push_back(b.value);
  return state;
}

// The largest |cuda - cpu| over the tensors, relative to max(1, the tensor's largest |cpu|).
inline double max_relative_difference(const std::vector<Tensor>& on_cuda, const std::vector<Tensor>& on_cpu) {
  double worst = 0;
  for (std::size_t i = 0; i < on_cpu.size(); ++i) {
    const std::vector<double> got = testing::to_doubles(on_cuda[i].to(Device::cpu)), want = testing::to_doubles(on_cpu[i]);
    double scale = 1.0, difference = 0.0;
    for (std::size_t j = 0; j < want.size(); ++j) {
      scale = std::max(scale, std::abs(want[j]));
      difference = std::max(difference, std::abs(got[j] - want[j]));
      if (std::isnan(got[j]) != std::isnan(want[j])) difference = INFINITY;
    }
    worst = std::max(worst, difference / scale);
  }
  return worst;
}

// A supernet with its optimiser and loss sums, stepped as ofa train steps it (sandwich sampling
// with in-place distillation from the first subnet).
class Trainee {
 public:
  explicit Trainee(Device device) : device_(device), supernet_(tiny_space(0.1f), 9, device), sums_(device) {
    std::vector<SgdParameter> parameters;
    for (const Parameter& p : supernet_.network().parameters().parameters) {
      momentum_.push_back(Tensor::zeros(p.value.shape(), DType::f32, device));
      parameters.push_back({p.value, p.grad, momentum_.back(), p.weight_decay});
    }
    sgd_ = std::make_unique<Sgd>(std::move(parameters));
  }

  void step(const Tensor& host_images, const std::vector<std::int32_t>& labels, const std::vector<Subnet>& subnets,
            std::uint64_t index) {
    Network& network = supernet_.network();
    const Tensor images = device_ == Device::cpu ? host_images : host_images.to(device_);
    network.zero_grad();
    Tensor soft_targets;
    for (std::size_t k = 0; k < subnets.size(); ++k) {
      supernet_.set_active(subnets[k]);
      const Tensor& logits = network.forward(images, true, 17, index * 64 + k);
      sums_.add_cross_entropy(logits, labels, 0.1f);
      Tensor dlogits = Tensor::empty(logits.shape(), DType::f32, device_);
      cross_entropy_backward(logits, labels, 0.1f, 1.0f, dlogits);
      if (k == 0) {
        sums_.add_accuracy(logits, labels, 1);
        soft_targets = logits.clone();
      } else {
        sums_.add_distillation(logits, soft_targets, 1.0f);
        Tensor dkd = Tensor::empty(logits.shape(), DType::f32, device_);
        distillation_backward(logits, soft_targets, 1.0f, 1.0f, dkd);
        residual_add_forward(dlogits, dkd, dlogits);
      }
      network.backward(dlogits);
    }
    sgd_->step(SgdConfig{0.05f, 0.9f, 3e-5f, true});
  }

  Supernet& supernet() { return supernet_; }
  const std::vector<Tensor>& momentum() const { return momentum_; }
  const MetricSums& sums() const { return sums_; }

 private:
  Device device_;
  Supernet supernet_;
  std::vector<Tensor> momentum_;
  std::unique_ptr<Sgd> sgd_;
  MetricSums sums_;
};

struct TrainingComparison {
  std::uint64_t repeated_cycle_allocations = 0;  // cudaMalloc calls in the second cycle of steps
  std::uint64_t repeated_cycle_host_waits = 0;   // counted by the counting backend only
  MetricTotals on_device, on_cpu;
  double weights = 0, momentum = 0;  // max_relative_difference of all weights and BN statistics, of momentum
};

// Two cycles of three steps (sandwich sampling of three subnets, resolutions 10, 8, 8); the second
// repeats the first's subnets and shapes, so the caching allocator has seen them all.
inline TrainingComparison train_on_both() {
  Trainee device(Device::cuda), cpu(Device::cpu);
  const SearchSpace& space = cpu.supernet().space();
  constexpr int kCycle = 3;
  std::vector<std::vector<Subnet>> subnets(kCycle);
  for (int c = 0; c < kCycle; ++c) {
    const std::int64_t resolution = c == 0 ? 10 : 8;
    subnets[c] = {largest_subnet(space), smallest_subnet(space), sample_subnet(space, {}, 4, c)};
    for (Subnet& s : subnets[c]) s.resolution = resolution;
  }
  const cuda::CachingAllocator& allocator = cuda::active_backend().allocator;
  TrainingComparison result;
  for (int step = 0; step < 2 * kCycle; ++step) {
    if (step == kCycle) {
      result.repeated_cycle_allocations = allocator.stats().device_allocations;
      result.repeated_cycle_host_waits = runtime_counts().host_waits();
    }
    const int c = step % kCycle;
    const std::int64_t r = subnets[c][0].resolution;
    const Tensor images = random_tensor({6, r, r, 3});
    const std::vector<std::int32_t> labels = {0, 1, 2, 3, 4, 1};
    device.step(images, labels, subnets[c], static_cast<std::uint64_t>(step));
    cpu.step(images, labels, subnets[c], static_cast<std::uint64_t>(step));
  }
  result.repeated_cycle_allocations = allocator.stats().device_allocations - result.repeated_cycle_allocations;
  result.repeated_cycle_host_waits = runtime_counts().host_waits() - result.repeated_cycle_host_waits;
  result.on_device = device.sums().read();
  result.on_cpu = cpu.sums().read();
  result.weights = max_relative_difference(state_of(device.supernet().network()), state_of(cpu.supernet().network()));
  result.momentum = max_relative_difference(device.momentum(), cpu.momentum());
  return result;
}

}  // namespace ofa::testing
