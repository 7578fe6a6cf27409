#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/ops/activation.h"
#include "supernet/network_plan.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

// The unit a latency table is keyed by: one layer of a network together with everything that
// decides what its forward computes (and so what it costs), the feature-map side included. A
// subnet is a sequence of these; a space produces a finite set of them.
namespace ofa {

enum class LayerKind : std::uint8_t {
  stem,     // dense conv + BN + activation on the image
  block,    // one MBConv block (OFA's fixed first block included: expand_conv false)
  head,     // final expand conv + BN + act, pool, feature mix + act, classifier
  network,  // what a whole forward costs beyond its layers, at one resolution
};

const char* layer_kind_name(LayerKind kind);

// Fields a kind does not use stay zero / false / none. The space's fixed widths (the head's
// final-expand and feature-mix widths, the SE reduction, the channel divisor) are not repeated
// here: a table is bound to one exact space (LatencyTable::space).
struct LayerKey {
  LayerKind kind = LayerKind::block;
  std::int64_t input_size = 0;  // side of the square input feature map (the resolution for stem and network)
  std::int64_t in_channels = 0, out_channels = 0;  // head: last block's width, classes
  std::int64_t kernel = 0, stride = 0;             // stem and block
  double expand = 0.0;                             // block: the expand ratio chosen
  std::int64_t mid_channels = 0;                   // block: expanded width that ratio gives
  bool expand_conv = false;                        // block: false for an expand-1 first block
  bool squeeze_excite = false;                     // block
  Activation activation = Activation::none;        // stem, block, head

  auto operator<=>(const LayerKey&) const = default;
};

// "block 24->40 e4 (mid 96) k5 s2 relu se at 14x14".
std::string describe_layer(const LayerKey& key);

// A layer as the network builds it: the key, and for blocks the plan MBConvBlock is built from
// (a subnet plan's block: a single kernel size, weights at exactly the active width).
struct PlannedLayer {
  LayerKey key;
  BlockPlan block;  // kind == block only
};

// The layers `subnet` (validated) runs, in order: network, stem, first block, its stage
// blocks, head.
std::vector<PlannedLayer> subnet_layers(const SearchSpace& space, const Subnet& subnet);

// Every distinct layer any subnet of `space` runs, at every resolution of the space.
std::map<LayerKey, PlannedLayer> space_layers(const SearchSpace& space);

}  // namespace ofa
