#pragma once

#include <cmath>
#include <cstdint>

#include "supernet/search_space.h"
#include "supernet/subnet.h"

// A stand-in for a trained supernet's accuracy: smooth, saturating and increasing in what a
// subnet spends (active blocks, their kernel and expand, the resolution), as measured accuracies
// are, but known exactly and free to evaluate.
namespace ofa::testing {

inline double synthetic_capacity(const SearchSpace& space, const Subnet& subnet) {
  const auto index_of = [](const auto& choices, auto value) {
    double i = 0;
    for (const auto& c : choices) {
      if (c == value) return i;
      i += 1;
    }
    return i;
  };
  double capacity = 2.0 * index_of(space.resolutions, subnet.resolution);
  const auto max_depth = static_cast<std::size_t>(space.max_depth());
  for (std::size_t stage = 0; stage < subnet.depth.size(); ++stage)
    for (std::size_t block = 0; block < static_cast<std::size_t>(subnet.depth[stage]); ++block) {
      const std::size_t slot = stage * max_depth + block;
      // Later stages matter more, as in real networks.
      capacity +=
          (1.0 + 0.2 * static_cast<double>(stage)) * (1.0 + 0.5 * index_of(space.kernel_sizes, subnet.kernel[slot]) +
                                                      0.7 * index_of(space.expand_ratios, subnet.expand[slot]));
    }
  return capacity;
}

inline double synthetic_accuracy(const SearchSpace& space, const Subnet& subnet) {
  return 0.92 - 0.5 * std::exp(-synthetic_capacity(space, subnet) / 25.0);
}

}  // namespace ofa::testing
