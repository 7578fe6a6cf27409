#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops/activation.h"

// A search space as data: the fixed skeleton of an OFA MobileNetV3-style network and its
// elastic choices. Widths in the file are BASE widths; the space's width multiplier turns them
// into channel counts through OFA's make_divisible (a property of the space, not an elastic
// choice: OFA ships w1.0 and w1.2 as separate supernets).
namespace ofa {

// OFA's make_divisible: round v to the nearest multiple of divisor, at least divisor, and never
// more than 10 % below v.
std::int64_t make_divisible(double v, std::int64_t divisor);

struct StemSpec {
  std::int64_t width = 0;  // base width
  std::int64_t kernel = 3;
  std::int64_t stride = 2;
  Activation activation = Activation::hswish;
};

// OFA's first MBConv block: fixed kernel and expand ratio, stride 1, residual when its input and
// output widths match.
struct FirstBlockSpec {
  std::int64_t width = 0;  // base width
  std::int64_t kernel = 3;
  double expand = 1.0;
  Activation activation = Activation::relu;
  bool squeeze_excite = false;
};

// One elastic stage: up to max(depths) blocks; the first has `stride`, the rest stride 1.
struct StageSpec {
  std::int64_t width = 0;  // base width
  std::int64_t stride = 1;
  Activation activation = Activation::relu;
  bool squeeze_excite = false;
};

// final expand 1x1 conv + BN + act, global average pool, feature-mix 1x1 conv (no BN, no bias)
// + act, dropout, linear classifier (with bias).
struct HeadSpec {
  std::int64_t final_expand_width = 0;  // base width
  std::int64_t feature_mix_width = 0;   // base width
  Activation activation = Activation::hswish;
  float dropout = 0.1f;
};

struct SearchSpace {
  std::string name;
  std::string origin;  // the file (or "builtin:NAME") it was read from, for error messages
  std::int64_t in_channels = 3;
  std::int64_t num_classes = 1000;
  double width_mult = 1.0;
  std::int64_t channel_divisor = 8;
  StemSpec stem;
  FirstBlockSpec first_block;
  std::vector<StageSpec> stages;
  HeadSpec head;
  // The elastic choices, each sorted ascending without duplicates.
  std::vector<std::int64_t> kernel_sizes;  // odd, e.g. {3, 5, 7}
  std::vector<double> expand_ratios;       // e.g. {3, 4, 6}
  std::vector<std::int64_t> depths;        // e.g. {2, 3, 4}
  std::vector<std::int64_t> resolutions;   // input sizes, e.g. {128, 132, ..., 224}
  // SE hidden width = make_divisible(mid_channels / se_reduction, channel_divisor), OFA's DynamicSE.
  std::int64_t se_reduction = 4;

  // Channel counts after the width multiplier.
  std::int64_t stem_channels() const;
  std::int64_t first_block_channels() const;
  std::int64_t stage_channels(std::size_t stage) const;
  std::int64_t final_expand_channels() const;
  std::int64_t feature_mix_channels() const;
  // OFA's expanded width of a block with `in_channels` inputs: make_divisible(round(in * e), divisor).
  std::int64_t mid_channels(std::int64_t in_channels, double expand) const;
  std::int64_t se_channels(std::int64_t mid) const;

  std::int64_t max_kernel() const { return kernel_sizes.back(); }
  double max_expand() const { return expand_ratios.back(); }
  std::int64_t max_depth() const { return depths.back(); }
  std::int64_t max_resolution() const { return resolutions.back(); }
  std::int64_t min_resolution() const { return resolutions.front(); }
  // Block slots: stages.size() * max_depth(), indexed stage-major (OFA's "ks"/"e" lists).
  std::int64_t num_block_slots() const;

  // The same space for images with `channels` input channels (1 for Fashion-MNIST, 3 for CIFAR):
  // only the stem's input width changes, so one space file serves both.
  SearchSpace with_input_channels(std::int64_t channels) const;

  // The canonical JSON (same schema as the files), stored in weight-file metadata.
  nlohmann::json to_json() const;
};

// Parses and validates a space; every error names `origin`, the field and what was expected.
SearchSpace parse_search_space(const nlohmann::json& document, const std::string& origin);
// A shipped name ("mbv3-imagenet", "mbv3-imagenet-w1.2", "mbv3-small") or a path to a JSON file.
SearchSpace load_search_space(const std::string& name_or_path);
std::vector<std::string> builtin_search_space_names();

}  // namespace ofa
