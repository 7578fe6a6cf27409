#pragma once

#include <memory>

#include "supernet/network.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"
#include "supernet/supernet.h"

namespace ofa {

// A standalone network for one subnet: only the blocks it runs, each with its own contiguous
// weights at exactly the active size (channel slices copied, kernel transforms folded into the
// depthwise weights, BN statistics copied), on the supernet's device. It computes what the
// supernet computes for `subnet`.
struct ExtractedNetwork {
  SearchSpace space;
  Subnet subnet;
  std::unique_ptr<Network> network;
};

ExtractedNetwork extract_subnet(const Supernet& supernet, const Subnet& subnet);

}  // namespace ofa
