#include "supernet/network_plan.h"

#include <algorithm>

namespace ofa {
namespace {

std::vector<std::int64_t> descending(std::vector<std::int64_t> sizes) {
  std::sort(sizes.rbegin(), sizes.rend());
  return sizes;
}

NetworkPlan plan_skeleton(const SearchSpace& space) {
  NetworkPlan plan;
  plan.in_channels = space.in_channels;
  plan.num_classes = space.num_classes;
  plan.stem_channels = space.stem_channels();
  plan.stem_kernel = space.stem.kernel;
  plan.stem_stride = space.stem.stride;
  plan.stem_activation = space.stem.activation;
  plan.final_expand_channels = space.final_expand_channels();
  plan.feature_mix_channels = space.feature_mix_channels();
  plan.head_activation = space.head.activation;
  plan.dropout = space.head.dropout;

  BlockPlan first;
  first.in_channels = space.stem_channels();
  first.out_channels = space.first_block_channels();
  first.stride = 1;
  first.activation = space.first_block.activation;
  first.squeeze_excite = space.first_block.squeeze_excite;
  first.has_expand = space.first_block.expand != 1.0;
  first.kernel_sizes = {space.first_block.kernel};
  first.max_mid_channels =
      first.has_expand ? space.mid_channels(first.in_channels, space.first_block.expand) : first.in_channels;
  first.max_se_channels = first.squeeze_excite ? space.se_channels(first.max_mid_channels) : 0;
  plan.blocks.push_back(first);
  return plan;
}

// Block `j` of stage `s` with `mid` expanded channels and the given kernel sizes.
BlockPlan stage_block(const SearchSpace& space, std::size_t s, std::int64_t j, std::int64_t in_channels,
                      std::vector<std::int64_t> kernel_sizes, std::int64_t mid) {
  const StageSpec& stage = space.stages[s];
  BlockPlan block;
  block.in_channels = in_channels;
  block.out_channels = space.stage_channels(s);
  block.stride = j == 0 ? stage.stride : 1;
  block.activation = stage.activation;
  block.squeeze_excite = stage.squeeze_excite;
  block.kernel_sizes = std::move(kernel_sizes);
  block.max_mid_channels = mid;
  block.max_se_channels = stage.squeeze_excite ? space.se_channels(mid) : 0;
  return block;
}

ActiveBlock first_block_active(const NetworkPlan& plan) {
  const BlockPlan& first = plan.blocks.front();
  return {first.max_kernel(), first.max_mid_channels, first.max_se_channels};
}

}  // namespace

NetworkPlan supernet_plan(const SearchSpace& space) {
  NetworkPlan plan = plan_skeleton(space);
  std::int64_t in_channels = plan.blocks.front().out_channels;
  for (std::size_t s = 0; s < space.stages.size(); ++s) {
    plan.stage_first_block.push_back(static_cast<std::int64_t>(plan.blocks.size()));
    plan.stage_max_depth.push_back(space.max_depth());
    for (std::int64_t j = 0; j < space.max_depth(); ++j) {
      const std::int64_t block_in = j == 0 ? in_channels : space.stage_channels(s);
      plan.blocks.push_back(stage_block(space, s, j, block_in, descending(space.kernel_sizes),
                                        space.mid_channels(block_in, space.max_expand())));
    }
    in_channels = space.stage_channels(s);
  }
  return plan;
}

NetworkPlan subnet_plan(const SearchSpace& space, const Subnet& subnet) {
  NetworkPlan plan = plan_skeleton(space);
  std::int64_t in_channels = plan.blocks.front().out_channels;
  for (std::size_t s = 0; s < space.stages.size(); ++s) {
    plan.stage_first_block.push_back(static_cast<std::int64_t>(plan.blocks.size()));
    plan.stage_max_depth.push_back(subnet.depth[s]);
    for (std::int64_t j = 0; j < subnet.depth[s]; ++j) {
      const std::size_t slot = s * static_cast<std::size_t>(space.max_depth()) + static_cast<std::size_t>(j);
      const std::int64_t block_in = j == 0 ? in_channels : space.stage_channels(s);
      plan.blocks.push_back(stage_block(space, s, j, block_in, {subnet.kernel[slot]},
                                        space.mid_channels(block_in, subnet.expand[slot])));
    }
    in_channels = space.stage_channels(s);
  }
  return plan;
}

ActiveNetwork active_in_supernet(const SearchSpace& space, const Subnet& subnet) {
  const NetworkPlan plan = supernet_plan(space);
  ActiveNetwork active;
  active.blocks.push_back(first_block_active(plan));
  for (std::size_t b = 1; b < plan.blocks.size(); ++b) {
    const std::size_t slot = b - 1;
    const std::int64_t mid = space.mid_channels(plan.blocks[b].in_channels, subnet.expand[slot]);
    active.blocks.push_back(
        {subnet.kernel[slot], mid, plan.blocks[b].squeeze_excite ? space.se_channels(mid) : 0});
  }
  active.depth = subnet.depth;
  active.resolution = subnet.resolution;
  return active;
}

ActiveNetwork full_size(const NetworkPlan& plan, std::int64_t resolution) {
  ActiveNetwork active;
  for (const BlockPlan& block : plan.blocks)
    active.blocks.push_back({block.max_kernel(), block.max_mid_channels, block.max_se_channels});
  active.depth = plan.stage_max_depth;
  active.resolution = resolution;
  return active;
}

bool block_runs(const NetworkPlan& plan, const ActiveNetwork& active, std::size_t index) {
  if (index == 0) return true;
  for (std::size_t s = plan.stage_first_block.size(); s-- > 0;) {
    const auto first = static_cast<std::size_t>(plan.stage_first_block[s]);
    if (index >= first) return index - first < static_cast<std::size_t>(active.depth[s]);
  }
  return false;
}

}  // namespace ofa
