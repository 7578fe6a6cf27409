#include "search/efficiency.h"

#include "supernet/network_plan.h"

namespace ofa {
namespace {

constexpr std::int64_t kBytesPerValue = sizeof(float);

// Channels of every batch norm the extracted network has: the stem's, each block's expand (when
// it has one), depthwise and project BN, and the final expand's (the feature mix has none).
std::int64_t batch_norm_channels(const NetworkPlan& plan) {
  std::int64_t channels = plan.stem_channels + plan.final_expand_channels;
  for (const BlockPlan& block : plan.blocks)
    channels += (block.has_expand ? 2 * block.max_mid_channels : block.max_mid_channels) + block.out_channels;
  return channels;
}

std::int64_t stored_bytes(const SearchSpace& space, const Subnet& subnet, std::int64_t params) {
  const std::int64_t running_statistics = 2 * batch_norm_channels(subnet_plan(space, subnet));
  return (params + running_statistics) * kBytesPerValue;
}

}  // namespace

std::int64_t model_bytes(const SearchSpace& space, const Subnet& subnet) {
  return stored_bytes(space, subnet, count_subnet(space, subnet).params);
}

SubnetEfficiency subnet_efficiency(const SearchSpace& space, const Subnet& subnet, const LatencyTable* table) {
  const SubnetCost cost = count_subnet(space, subnet);
  SubnetEfficiency efficiency;
  efficiency.macs = cost.macs;
  efficiency.params = cost.params;
  efficiency.model_bytes = stored_bytes(space, subnet, cost.params);
  efficiency.peak_activation_bytes = cost.peak_activation_bytes;
  if (table != nullptr) efficiency.latency_ms = predict_latency_ms(*table, space, subnet);
  return efficiency;
}

}  // namespace ofa
