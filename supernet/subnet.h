#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "supernet/search_space.h"

// A subnet of a search space, in OFA's own encoding so OFA's published net configs paste in:
//   {"ks": [k per block slot], "e": [expand per block slot], "d": [depth per stage], "r": 224}
// Block slots are stage-major, max_depth() per stage; entries of slots beyond a stage's depth
// are carried along (as OFA does) and validated like the others.
namespace ofa {

struct Subnet {
  std::vector<std::int64_t> kernel;  // "ks"
  std::vector<double> expand;        // "e"
  std::vector<std::int64_t> depth;   // "d"
  std::int64_t resolution = 0;       // "r" (an integer, or OFA's one-element list)

  bool operator==(const Subnet& other) const = default;
};

// Subsets of the space's choices that sampling may draw from (a progressive-shrinking phase).
// An empty list means "all of the space's choices".
struct ElasticChoices {
  std::vector<std::int64_t> kernel_sizes;
  std::vector<double> expand_ratios;
  std::vector<std::int64_t> depths;
  std::vector<std::int64_t> resolutions;
};

// Throws ofa::Error naming `origin`, the field (e.g. "ks[7]") and the allowed values.
void validate_subnet(const SearchSpace& space, const Subnet& subnet, const std::string& origin);
Subnet parse_subnet(const nlohmann::json& document, const SearchSpace& space, const std::string& origin);
nlohmann::json subnet_to_json(const Subnet& subnet);
// "max", "min" or a path to a subnet JSON file.
Subnet load_subnet(const std::string& max_min_or_path, const SearchSpace& space);

Subnet largest_subnet(const SearchSpace& space);
Subnet smallest_subnet(const SearchSpace& space);
// Uniform over `choices` (each dimension independently per slot/stage, as OFA's sample_active_subnet),
// a pure function of (seed, index): the same on every rank and after a resume.
Subnet sample_subnet(const SearchSpace& space, const ElasticChoices& choices, std::uint64_t seed,
                     std::uint64_t index);
// The number of distinct subnets (depth-aware: slots beyond a stage's depth do not count), as a double.
double count_subnets(const SearchSpace& space);

}  // namespace ofa
