#include "supernet/counting.h"

#include <algorithm>

namespace ofa {
namespace {

constexpr std::int64_t kBytesPerValue = sizeof(float);

// Walks the network layer by layer, tracking the feature map's channels and side and the
// residual input a block holds, and adds up each layer's cost.
class CostWalker {
 public:
  CostWalker(std::int64_t channels, std::int64_t side) : channels_(channels), side_(side) {}

  void convolution(std::int64_t out_channels, std::int64_t kernel, std::int64_t stride, bool depthwise,
                   bool batch_norm) {
    const std::int64_t out_side = (side_ - 1) / stride + 1;
    const std::int64_t in_per_group = depthwise ? 1 : channels_;
    macs_ += out_side * out_side * out_channels * in_per_group * kernel * kernel;
    params_ += out_channels * in_per_group * kernel * kernel + (batch_norm ? 2 * out_channels : 0);
    alive(map_values() + out_channels * out_side * out_side);
    channels_ = out_channels;
    side_ = out_side;
  }

  // Global pool, 1x1 reduce (with bias), relu, 1x1 expand (with bias), h_sigmoid, channel scale.
  void squeeze_excite(std::int64_t hidden) {
    macs_ += 2 * channels_ * hidden;
    params_ += 2 * channels_ * hidden + hidden + channels_;
    alive(map_values() + channels_ + hidden);
  }

  void global_average_pool() {
    alive(map_values() + channels_);
    side_ = 1;
  }

  void linear(std::int64_t out_features) {
    macs_ += channels_ * out_features;
    params_ += channels_ * out_features + out_features;
    alive(channels_ + out_features);
    channels_ = out_features;
  }

  // The block input stays alive until the residual add at the block's end.
  void begin_block(bool residual) { block_input_values_ = residual ? map_values() : 0; }
  void end_block() { held_values_ = block_input_values_ = 0; }

  std::int64_t channels() const { return channels_; }
  SubnetCost cost() const { return {static_cast<double>(macs_), params_, peak_values_ * kBytesPerValue}; }

 private:
  std::int64_t map_values() const { return channels_ * side_ * side_; }
  // Called once per layer: the first layer of a block reads the block input itself, every later
  // one holds it on top of its own input and output.
  void alive(std::int64_t values) {
    peak_values_ = std::max(peak_values_, values + held_values_);
    held_values_ = block_input_values_;
  }

  std::int64_t channels_, side_;
  std::int64_t block_input_values_ = 0, held_values_ = 0;
  std::int64_t macs_ = 0, params_ = 0, peak_values_ = 0;
};

// Expand 1x1 (when the block has one) + BN + act, depthwise k x k + BN + act, SE, project 1x1 + BN.
void mbconv(CostWalker& walker, const SearchSpace& space, std::int64_t out_channels, std::int64_t kernel,
            std::int64_t mid_channels, bool has_expand, std::int64_t stride, bool squeeze_excite) {
  walker.begin_block(stride == 1 && walker.channels() == out_channels);
  if (has_expand) walker.convolution(mid_channels, 1, 1, false, true);
  walker.convolution(walker.channels(), kernel, stride, true, true);
  if (squeeze_excite) walker.squeeze_excite(space.se_channels(walker.channels()));
  walker.convolution(out_channels, 1, 1, false, true);
  walker.end_block();
}

}  // namespace

SubnetCost count_subnet(const SearchSpace& space, const Subnet& subnet) {
  validate_subnet(space, subnet, "count_subnet");
  CostWalker walker(space.in_channels, subnet.resolution);
  walker.convolution(space.stem_channels(), space.stem.kernel, space.stem.stride, false, true);

  // OFA's first block has no expand convolution when its ratio is 1.
  const FirstBlockSpec& first = space.first_block;
  const bool first_has_expand = first.expand != 1.0;
  mbconv(walker, space, space.first_block_channels(), first.kernel,
         space.mid_channels(walker.channels(), first.expand), first_has_expand, 1, first.squeeze_excite);

  for (std::size_t s = 0; s < space.stages.size(); ++s) {
    for (std::int64_t j = 0; j < subnet.depth[s]; ++j) {
      const std::size_t slot = s * static_cast<std::size_t>(space.max_depth()) + static_cast<std::size_t>(j);
      mbconv(walker, space, space.stage_channels(s), subnet.kernel[slot],
             space.mid_channels(walker.channels(), subnet.expand[slot]), true, j == 0 ? space.stages[s].stride : 1,
             space.stages[s].squeeze_excite);
    }
  }

  walker.convolution(space.final_expand_channels(), 1, 1, false, true);
  walker.global_average_pool();
  walker.convolution(space.feature_mix_channels(), 1, 1, false, false);
  walker.linear(space.num_classes);
  return walker.cost();
}

}  // namespace ofa
