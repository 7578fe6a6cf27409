#pragma once

#include <cstdint>

#include "supernet/search_space.h"

// What the data-parallel gradient all-reduce sends per step in a search space, counted by the
// reducer a training step uses (gradient_reducer.h) on the extents the backward would report, so
// without running the network. For `ofa bench distributed` and the scaling estimate in README.md.
namespace ofa {

struct AllreduceVolume {
  std::int64_t all_parameters = 0;  // bytes of every gradient: what reducing whole tensors would send
  std::int64_t largest = 0;         // one subnet per step: the largest
  std::int64_t smallest = 0;        // ... the smallest
  double mean_subnet = 0;           // ... uniformly sampled (mean over the samples)
  double mean_step = 0;             // subnets_per_step uniformly sampled subnets in one step
  int samples = 0, subnets_per_step = 0;
};

AllreduceVolume measure_allreduce_volume(const SearchSpace& space, int samples, int subnets_per_step,
                                         std::uint64_t seed);

}  // namespace ofa
