#include "search/layer_key.h"

#include "kernels/error.h"

namespace ofa {
namespace {

std::int64_t output_side(std::int64_t side, std::int64_t stride) { return (side - 1) / stride + 1; }

LayerKey block_key(const BlockPlan& block, double expand, std::int64_t side) {
  LayerKey key;
  key.kind = LayerKind::block;
  key.input_size = side;
  key.in_channels = block.in_channels;
  key.out_channels = block.out_channels;
  key.kernel = block.max_kernel();
  key.stride = block.stride;
  key.expand = expand;
  key.mid_channels = block.max_mid_channels;
  key.expand_conv = block.has_expand;
  key.squeeze_excite = block.squeeze_excite;
  key.activation = block.activation;
  return key;
}

// Every subnet with `kernel` and `expand` in every slot at full depth: together these visit
// each (slot, kernel, expand) once, and each block's input size depends only on the resolution.
Subnet uniform_subnet(const SearchSpace& space, std::int64_t kernel, double expand, std::int64_t resolution) {
  const auto slots = static_cast<std::size_t>(space.num_block_slots());
  return {std::vector<std::int64_t>(slots, kernel), std::vector<double>(slots, expand),
          std::vector<std::int64_t>(space.stages.size(), space.max_depth()), resolution};
}

}  // namespace

const char* layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::stem: return "stem";
    case LayerKind::block: return "block";
    case LayerKind::head: return "head";
    case LayerKind::network: return "network";
  }
  return "unknown";
}

std::string describe_layer(const LayerKey& key) {
  const std::string at = concat(" at ", key.input_size, 'x', key.input_size);
  switch (key.kind) {
    case LayerKind::network: return concat("network overhead", at);
    case LayerKind::stem:
      return concat("stem ", key.in_channels, "->", key.out_channels, " k", key.kernel, " s", key.stride, ' ',
                    activation_name(key.activation), at);
    case LayerKind::head:
      return concat("head ", key.in_channels, "->", key.out_channels, ' ', activation_name(key.activation), at);
    case LayerKind::block: break;
  }
  return concat("block ", key.in_channels, "->", key.out_channels, " e", key.expand, " (mid ", key.mid_channels,
                key.expand_conv ? "" : ", no expand conv", ") k", key.kernel, " s", key.stride, ' ',
                activation_name(key.activation), key.squeeze_excite ? " se" : "", at);
}

std::vector<PlannedLayer> subnet_layers(const SearchSpace& space, const Subnet& subnet) {
  validate_subnet(space, subnet, "subnet");
  const NetworkPlan plan = subnet_plan(space, subnet);
  std::vector<PlannedLayer> layers;

  LayerKey network;
  network.kind = LayerKind::network;
  network.input_size = subnet.resolution;
  layers.push_back({network, {}});

  LayerKey stem;
  stem.kind = LayerKind::stem;
  stem.input_size = subnet.resolution;
  stem.in_channels = plan.in_channels;
  stem.out_channels = plan.stem_channels;
  stem.kernel = plan.stem_kernel;
  stem.stride = plan.stem_stride;
  stem.activation = plan.stem_activation;
  layers.push_back({stem, {}});

  std::int64_t side = output_side(subnet.resolution, plan.stem_stride);
  layers.push_back({block_key(plan.blocks.front(), space.first_block.expand, side), plan.blocks.front()});
  side = output_side(side, plan.blocks.front().stride);
  // subnet_plan lists the blocks a subnet runs stage by stage, the first d slots of each.
  for (std::size_t s = 0; s < space.stages.size(); ++s)
    for (std::int64_t j = 0; j < subnet.depth[s]; ++j) {
      const BlockPlan& block = plan.blocks[static_cast<std::size_t>(plan.stage_first_block[s] + j)];
      const std::size_t slot = s * static_cast<std::size_t>(space.max_depth()) + static_cast<std::size_t>(j);
      layers.push_back({block_key(block, subnet.expand[slot], side), block});
      side = output_side(side, block.stride);
    }

  LayerKey head;
  head.kind = LayerKind::head;
  head.input_size = side;
  head.in_channels = plan.blocks.back().out_channels;
  head.out_channels = plan.num_classes;
  head.activation = plan.head_activation;
  layers.push_back({head, {}});
  return layers;
}

std::map<LayerKey, PlannedLayer> space_layers(const SearchSpace& space) {
  std::map<LayerKey, PlannedLayer> layers;
  for (std::int64_t resolution : space.resolutions)
    for (std::int64_t kernel : space.kernel_sizes)
      for (double expand : space.expand_ratios)
        for (PlannedLayer& layer : subnet_layers(space, uniform_subnet(space, kernel, expand, resolution)))
          layers.try_emplace(layer.key, std::move(layer));
  return layers;
}

}  // namespace ofa
