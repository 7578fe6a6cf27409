#pragma once

#include <nlohmann/json.hpp>

#include "supernet/search_space.h"

namespace ofa::testing {

// A space small enough for finite differences over the whole network, yet with every feature:
// an expand-1 first block with a residual, a stride-2 stage with SE and h-swish, three kernel
// sizes (two transforms), three expand ratios and two depths.
inline SearchSpace tiny_space(float dropout = 0.0f) {
  const nlohmann::json document = {
      {"name", "tiny"},
      {"in_channels", 3},
      {"num_classes", 5},
      {"width_mult", 1.0},
      {"channel_divisor", 8},
      {"stem", {{"width", 8}, {"kernel", 3}, {"stride", 1}, {"activation", "h_swish"}}},
      {"first_block",
       {{"width", 8}, {"kernel", 3}, {"expand", 1}, {"activation", "relu"}, {"squeeze_excite", false}}},
      {"stages",
       {{{"width", 8}, {"stride", 1}, {"activation", "relu"}, {"squeeze_excite", false}},
        {{"width", 16}, {"stride", 2}, {"activation", "h_swish"}, {"squeeze_excite", true}}}},
      {"elastic",
       {{"kernel_sizes", {3, 5, 7}}, {"expand_ratios", {3, 4, 6}}, {"depths", {1, 2}}, {"resolutions", {8, 10}}}},
      {"se_reduction", 4},
      {"head", {{"final_expand_width", 16}, {"feature_mix_width", 16}, {"activation", "h_swish"}, {"dropout", dropout}}},
  };
  return parse_search_space(document, "tiny_space.h");
}

}  // namespace ofa::testing
