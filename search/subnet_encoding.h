#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "supernet/search_space.h"
#include "supernet/subnet.h"

// OFA's accuracy-predictor features of a subnet (its MobileNetV3ArchEncoder) and the genetic
// operators evolution applies to subnets.
//
// Features, one float each, in four sections:
//   kernel:     one-hot over the space's kernel sizes, per block slot (stage-major)
//   expand:     one-hot over the space's expand ratios, per block slot
//   depth:      one-hot over the space's depths, per stage
//   resolution: one-hot over the space's resolutions
// A slot beyond its stage's depth does not run, so its kernel and expand one-hots are all zero:
// two subnets that differ only there compute the same function and get the same features.
namespace ofa {

std::int64_t encoding_size(const SearchSpace& space);

// Writes encoding_size(space) floats to `features`; validates the subnet (ofa::Error naming the field).
void encode_subnet(const SearchSpace& space, const Subnet& subnet, std::span<float> features);
std::vector<float> encode_subnet(const SearchSpace& space, const Subnet& subnet);

// The inverse: throws ofa::Error unless every section is a valid one-hot (inactive slots all zero).
// Inactive slots decode to the space's smallest kernel and expand, as canonical_subnet sets them.
Subnet decode_subnet(const SearchSpace& space, std::span<const float> features);

// `subnet` with every slot beyond its stage's depth set to the smallest kernel and expand ratio:
// one representative per distinct network, so caches and duplicate checks see through inactive genes.
Subnet canonical_subnet(const SearchSpace& space, const Subnet& subnet);
// A short string that is equal for two subnets exactly when their canonical subnets are: a hash key.
std::string subnet_key(const SearchSpace& space, const Subnet& subnet);

// Portable draws from a std::mt19937_64 (its sequence is fixed by the standard; the library's
// distributions are not), so a seed gives the same search on every platform.
double uniform_real(std::mt19937_64& rng);                           // [0, 1)
std::size_t uniform_index(std::mt19937_64& rng, std::size_t count);  // [0, count)

Subnet random_subnet(const SearchSpace& space, std::mt19937_64& rng);
// OFA's mutate_sample: the resolution, each slot's kernel and expand, and each stage's depth is
// redrawn from the space's choices with probability `probability` (it may draw its old value).
Subnet mutate_subnet(const SearchSpace& space, const Subnet& parent, double probability, std::mt19937_64& rng);
// OFA's crossover_sample: every gene from either parent with equal probability.
Subnet crossover_subnets(const Subnet& first, const Subnet& second, std::mt19937_64& rng);

}  // namespace ofa
