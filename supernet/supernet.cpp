#include "supernet/supernet.h"

#include "supernet/channel_reorganization.h"

namespace ofa {

Supernet::Supernet(SearchSpace space, std::uint64_t seed, Device device)
    : space_(std::move(space)), network_(supernet_plan(space_), seed, device) {
  set_active(largest_subnet(space_));
}

void Supernet::set_active(const Subnet& subnet, const std::string& origin) {
  validate_subnet(space_, subnet, origin);
  network_.set_active(active_in_supernet(space_, subnet));
  active_ = subnet;
}

void Supernet::reorganize_channels() {
  for (MBConvBlock& block : network_.blocks())
    if (block.plan().has_expand) sort_middle_channels_by_importance(block.weights());
}

}  // namespace ofa
