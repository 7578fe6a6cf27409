#include "search/subnet_encoding.h"

#include <algorithm>

#include "kernels/error.h"

namespace ofa {
namespace {

template <class T>
std::size_t choice_index(const std::vector<T>& choices, T value) {
  return static_cast<std::size_t>(std::find(choices.begin(), choices.end(), value) - choices.begin());
}

// The position of the single 1 in `one_hot`, or `choices` when it is all zero (allowed only where
// `may_be_empty`); anything else is not an encoding.
std::size_t read_one_hot(std::span<const float> one_hot, bool may_be_empty, const char* section, std::size_t entry) {
  std::size_t hot = one_hot.size();
  for (std::size_t i = 0; i < one_hot.size(); ++i) {
    if (one_hot[i] == 0.0f) continue;
    OFA_CHECK(one_hot[i] == 1.0f && hot == one_hot.size(), "decode_subnet",
              concat(section, '[', entry, "] is not a one-hot vector"));
    hot = i;
  }
  OFA_CHECK(hot < one_hot.size() || may_be_empty, "decode_subnet", concat(section, '[', entry, "] is all zero"));
  return hot;
}

template <class T>
T pick(const std::vector<T>& choices, std::mt19937_64& rng) {
  return choices[uniform_index(rng, choices.size())];
}

}  // namespace

std::int64_t encoding_size(const SearchSpace& space) {
  return space.num_block_slots() * static_cast<std::int64_t>(space.kernel_sizes.size() + space.expand_ratios.size()) +
         static_cast<std::int64_t>(space.stages.size() * space.depths.size() + space.resolutions.size());
}

void encode_subnet(const SearchSpace& space, const Subnet& subnet, std::span<float> features) {
  OFA_CHECK(static_cast<std::int64_t>(features.size()) == encoding_size(space), "encode_subnet", "expected ",
            encoding_size(space), " features for the space ", space.name, ", got ", features.size());
  validate_subnet(space, subnet, "encode_subnet");
  std::fill(features.begin(), features.end(), 0.0f);
  const std::size_t kernels = space.kernel_sizes.size(), expands = space.expand_ratios.size();
  const auto slots = static_cast<std::size_t>(space.num_block_slots());
  const auto max_depth = static_cast<std::size_t>(space.max_depth());
  float* kernel_section = features.data();
  float* expand_section = kernel_section + slots * kernels;
  float* depth_section = expand_section + slots * expands;
  float* resolution_section = depth_section + space.stages.size() * space.depths.size();
  for (std::size_t stage = 0; stage < space.stages.size(); ++stage) {
    depth_section[stage * space.depths.size() + choice_index(space.depths, subnet.depth[stage])] = 1.0f;
    for (std::size_t block = 0; block < static_cast<std::size_t>(subnet.depth[stage]); ++block) {
      const std::size_t slot = stage * max_depth + block;
      kernel_section[slot * kernels + choice_index(space.kernel_sizes, subnet.kernel[slot])] = 1.0f;
      expand_section[slot * expands + choice_index(space.expand_ratios, subnet.expand[slot])] = 1.0f;
    }
  }
  resolution_section[choice_index(space.resolutions, subnet.resolution)] = 1.0f;
}

std::vector<float> encode_subnet(const SearchSpace& space, const Subnet& subnet) {
  std::vector<float> features(static_cast<std::size_t>(encoding_size(space)));
  encode_subnet(space, subnet, features);
  return features;
}

Subnet decode_subnet(const SearchSpace& space, std::span<const float> features) {
  OFA_CHECK(static_cast<std::int64_t>(features.size()) == encoding_size(space), "decode_subnet", "expected ",
            encoding_size(space), " features for the space ", space.name, ", got ", features.size());
  const std::size_t kernels = space.kernel_sizes.size(), expands = space.expand_ratios.size();
  const std::size_t depths = space.depths.size();
  const auto slots = static_cast<std::size_t>(space.num_block_slots());
  const auto max_depth = static_cast<std::size_t>(space.max_depth());
  const std::span<const float> kernel_section = features.subspan(0, slots * kernels);
  const std::span<const float> expand_section = features.subspan(slots * kernels, slots * expands);
  const std::span<const float> depth_section =
      features.subspan(slots * (kernels + expands), space.stages.size() * depths);
  const std::span<const float> resolution_section =
      features.subspan(slots * (kernels + expands) + space.stages.size() * depths);

  Subnet subnet = smallest_subnet(space);
  for (std::size_t stage = 0; stage < space.stages.size(); ++stage) {
    subnet.depth[stage] =
        space.depths[read_one_hot(depth_section.subspan(stage * depths, depths), false, "depth", stage)];
    for (std::size_t block = 0; block < max_depth; ++block) {
      const std::size_t slot = stage * max_depth + block;
      const bool active = static_cast<std::int64_t>(block) < subnet.depth[stage];
      const std::size_t k = read_one_hot(kernel_section.subspan(slot * kernels, kernels), !active, "kernel", slot);
      const std::size_t e = read_one_hot(expand_section.subspan(slot * expands, expands), !active, "expand", slot);
      OFA_CHECK(active == (k < kernels) && active == (e < expands), "decode_subnet",
                concat("block slot ", slot, " is beyond its stage's depth but has a kernel or expand set"));
      if (!active) continue;
      subnet.kernel[slot] = space.kernel_sizes[k];
      subnet.expand[slot] = space.expand_ratios[e];
    }
  }
  subnet.resolution = space.resolutions[read_one_hot(resolution_section, false, "resolution", 0)];
  return subnet;
}

Subnet canonical_subnet(const SearchSpace& space, const Subnet& subnet) {
  Subnet canonical = subnet;
  const auto max_depth = static_cast<std::size_t>(space.max_depth());
  for (std::size_t stage = 0; stage < subnet.depth.size(); ++stage)
    for (auto block = static_cast<std::size_t>(subnet.depth[stage]); block < max_depth; ++block) {
      canonical.kernel[stage * max_depth + block] = space.kernel_sizes.front();
      canonical.expand[stage * max_depth + block] = space.expand_ratios.front();
    }
  return canonical;
}

std::string subnet_key(const SearchSpace& space, const Subnet& subnet) {
  const auto max_depth = static_cast<std::size_t>(space.max_depth());
  std::string key;
  for (std::size_t stage = 0; stage < subnet.depth.size(); ++stage) {
    key.push_back(static_cast<char>('a' + choice_index(space.depths, subnet.depth[stage])));
    for (std::size_t block = 0; block < static_cast<std::size_t>(subnet.depth[stage]); ++block) {
      key.push_back(
          static_cast<char>('a' + choice_index(space.kernel_sizes, subnet.kernel[stage * max_depth + block])));
      key.push_back(
          static_cast<char>('a' + choice_index(space.expand_ratios, subnet.expand[stage * max_depth + block])));
    }
  }
  key += std::to_string(subnet.resolution);
  return key;
}

double uniform_real(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Multiply-shift on the top 32 bits: the bias for a handful of choices is below 1e-9.
std::size_t uniform_index(std::mt19937_64& rng, std::size_t count) {
  return static_cast<std::size_t>(((rng() >> 32) * static_cast<std::uint64_t>(count)) >> 32);
}

Subnet random_subnet(const SearchSpace& space, std::mt19937_64& rng) {
  Subnet subnet;
  for (std::int64_t slot = 0; slot < space.num_block_slots(); ++slot) {
    subnet.kernel.push_back(pick(space.kernel_sizes, rng));
    subnet.expand.push_back(pick(space.expand_ratios, rng));
  }
  for (std::size_t stage = 0; stage < space.stages.size(); ++stage) subnet.depth.push_back(pick(space.depths, rng));
  subnet.resolution = pick(space.resolutions, rng);
  return subnet;
}

Subnet mutate_subnet(const SearchSpace& space, const Subnet& parent, double probability, std::mt19937_64& rng) {
  Subnet child = parent;
  if (uniform_real(rng) < probability) child.resolution = pick(space.resolutions, rng);
  for (std::size_t slot = 0; slot < child.kernel.size(); ++slot) {
    if (uniform_real(rng) < probability) child.kernel[slot] = pick(space.kernel_sizes, rng);
    if (uniform_real(rng) < probability) child.expand[slot] = pick(space.expand_ratios, rng);
  }
  for (std::int64_t& depth : child.depth)
    if (uniform_real(rng) < probability) depth = pick(space.depths, rng);
  return child;
}

Subnet crossover_subnets(const Subnet& first, const Subnet& second, std::mt19937_64& rng) {
  OFA_CHECK(first.kernel.size() == second.kernel.size() && first.expand.size() == second.expand.size() &&
                first.depth.size() == second.depth.size(),
            "crossover_subnets", "the parents come from different search spaces");
  const auto either = [&rng](auto a, auto b) { return (rng() >> 63) != 0 ? a : b; };
  Subnet child = first;
  for (std::size_t slot = 0; slot < child.kernel.size(); ++slot) {
    child.kernel[slot] = either(first.kernel[slot], second.kernel[slot]);
    child.expand[slot] = either(first.expand[slot], second.expand[slot]);
  }
  for (std::size_t stage = 0; stage < child.depth.size(); ++stage)
    child.depth[stage] = either(first.depth[stage], second.depth[stage]);
  child.resolution = either(first.resolution, second.resolution);
  return child;
}

}  // namespace ofa
