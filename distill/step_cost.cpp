#include "distill/step_cost.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "supernet/counting.h"
#include "supernet/subnet.h"

namespace ofa {
namespace {

constexpr std::uint64_t kCostSampleSeed = 0x636f7374ULL;
constexpr std::uint64_t kCostSamples = 64;
// A forward pass is about a third of a forward and backward pass (the backward computes the
// gradients of both the inputs and the weights).
constexpr double kForwardShare = 1.0 / 3.0;

double macs_at(const SearchSpace& space, Subnet subnet, std::int64_t resolution) {
  subnet.resolution = resolution;
  return count_subnet(space, subnet).macs;
}

}  // namespace

double relative_step_cost(const SearchSpace& space, const Phase& phase) {
  const ElasticChoices choices = phase_choices(phase, space);
  const Subnet largest_of_space = largest_subnet(space);
  const bool sandwich = phase.sampling == SamplingRule::sandwich;
  const bool frozen_teacher = phase.kd_ratio > 0 && !sandwich;
  std::vector<Subnet> extremes;  // sandwich sampling's first two subnets: the largest, the smallest
  if (sandwich)
    for (std::int64_t k = 0; k < std::min<std::int64_t>(phase.subnets_per_step, 2); ++k)
      extremes.push_back(phase_extreme_subnet(space, choices, k == 0));
  const auto randoms = static_cast<double>(phase.subnets_per_step - static_cast<std::int64_t>(extremes.size()));
  std::vector<Subnet> samples;
  for (std::uint64_t i = 0; i < kCostSamples; ++i) samples.push_back(sample_subnet(space, choices, kCostSampleSeed, i));

  double cost = 0;
  for (const std::int64_t r : choices.resolutions) {
    const double overhead = kSubnetOverheadOfLargest * macs_at(space, largest_of_space, r);
    double random_macs = 0;
    for (const Subnet& subnet : samples) random_macs += macs_at(space, subnet, r);
    random_macs /= static_cast<double>(samples.size());

    double at_r = randoms * (random_macs + overhead);
    for (const Subnet& subnet : extremes) at_r += macs_at(space, subnet, r) + overhead;
    if (frozen_teacher) at_r += kForwardShare * (macs_at(space, largest_of_space, r) + overhead);
    cost += at_r;
  }
  cost /= static_cast<double>(choices.resolutions.size());

  const double reference = (1 + kSubnetOverheadOfLargest) * count_subnet(space, largest_of_space).macs;
  return cost / reference;
}

}  // namespace ofa
