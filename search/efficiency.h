#pragma once

#include <cstdint>
#include <optional>

#include "search/latency_table.h"
#include "supernet/counting.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

// Everything a search target can constrain, for one subnet: counted exactly from the space
// (supernet/counting.h), plus a latency predicted from a measured table.
namespace ofa {

struct SubnetEfficiency {
  double macs = 0.0;                     // counting.h's convention
  std::int64_t params = 0;               // learnable tensors (BN gamma/beta included)
  std::int64_t model_bytes = 0;          // float32 weights of the extracted network, BN running statistics included
  std::int64_t peak_activation_bytes = 0;  // batch-1 inference
  std::optional<double> latency_ms;      // set when a table was given
};

// The float32 bytes an extracted network of `subnet` stores: its parameters plus the running
// mean and variance of every batch norm (what a weight file of it holds, less the header).
std::int64_t model_bytes(const SearchSpace& space, const Subnet& subnet);

// Validates `subnet`. With a table, also predicts its latency (the table is not checked
// against the space or device here: check_latency_table does that once, not per subnet).
SubnetEfficiency subnet_efficiency(const SearchSpace& space, const Subnet& subnet,
                                   const LatencyTable* table = nullptr);

}  // namespace ofa
