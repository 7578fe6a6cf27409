#pragma once

#include <cstdint>
#include <vector>

#include "kernels/ops/activation.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

// The concrete layer sizes of a network, independent of how they were chosen: a supernet's
// plan holds every block at its maximum size; an extracted subnet's plan holds exactly the
// blocks it runs at exactly their active size. One Network class runs both.
namespace ofa {

struct BlockPlan {
  std::int64_t in_channels = 0, out_channels = 0, stride = 1;
  Activation activation = Activation::relu;
  bool squeeze_excite = false;
  bool has_expand = true;                 // false for OFA's expand-1 first block
  std::vector<std::int64_t> kernel_sizes;  // elastic sizes, descending from the stored maximum
  std::int64_t max_mid_channels = 0;       // expanded width the weights are stored at
  std::int64_t max_se_channels = 0;        // SE hidden width the weights are stored at (0 without SE)

  bool residual() const { return stride == 1 && in_channels == out_channels; }
  std::int64_t max_kernel() const { return kernel_sizes.front(); }
};

struct NetworkPlan {
  std::int64_t in_channels = 0, num_classes = 0;
  std::int64_t stem_channels = 0, stem_kernel = 3, stem_stride = 1;
  Activation stem_activation = Activation::hswish;
  std::vector<BlockPlan> blocks;              // blocks[0] is the fixed first block
  std::vector<std::int64_t> stage_first_block;  // index into blocks of each elastic stage's first block
  std::vector<std::int64_t> stage_max_depth;
  std::int64_t final_expand_channels = 0, feature_mix_channels = 0;
  Activation head_activation = Activation::hswish;
  float dropout = 0.0f;
};

// What one block runs at this step.
struct ActiveBlock {
  std::int64_t kernel = 0, mid_channels = 0, se_channels = 0;
};

// The active configuration in plan terms: a setting per block (also for blocks beyond a
// stage's depth, which do not run) and the depth of each elastic stage.
struct ActiveNetwork {
  std::vector<ActiveBlock> blocks;
  std::vector<std::int64_t> depth;
  std::int64_t resolution = 0;
};

// Every block at its maximum size.
NetworkPlan supernet_plan(const SearchSpace& space);
// Only the blocks `subnet` runs, each at exactly its active size (kernel transforms folded in).
NetworkPlan subnet_plan(const SearchSpace& space, const Subnet& subnet);

// `subnet` (validated) on the supernet plan of `space`.
ActiveNetwork active_in_supernet(const SearchSpace& space, const Subnet& subnet);
// Every block of `plan` at its full size: an extracted network's only configuration.
ActiveNetwork full_size(const NetworkPlan& plan, std::int64_t resolution);

// Whether block `index` of `plan` runs under `active` (the first block always does).
bool block_runs(const NetworkPlan& plan, const ActiveNetwork& active, std::size_t index);

}  // namespace ofa
