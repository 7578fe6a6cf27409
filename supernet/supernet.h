#pragma once

#include <cstdint>

#include "supernet/network.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

namespace ofa {

// A search space's weight-sharing network: every block stored once at its maximum size, any
// subnet of the space runnable through set_active.
class Supernet {
 public:
  // Weights and activations live on `device` (initialised identically on either).
  Supernet(SearchSpace space, std::uint64_t seed, Device device = Device::cpu);

  const SearchSpace& space() const { return space_; }
  Network& network() { return network_; }
  const Network& network() const { return network_; }

  // Validates `subnet` against the space (errors name `origin` and the field) and activates it.
  void set_active(const Subnet& subnet, const std::string& origin = "subnet");
  const Subnet& active() const { return active_; }

  // OFA's re_organize_middle_weights: sorts every block's expanded channels (and SE hidden
  // channels) by importance, so the prefixes smaller expand ratios use are the most important
  // ones. The largest subnet computes the same function before and after. On cuda each block is
  // sorted on host copies and uploaded (once per expand phase, where simplicity beats speed).
  void reorganize_channels();

 private:
  SearchSpace space_;
  Network network_;
  Subnet active_;
};

}  // namespace ofa
