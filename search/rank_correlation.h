#pragma once

#include <span>

// How well a predictor ranks: what evolution needs from it is the order of subnets, not their
// exact accuracies.
namespace ofa {

// Kendall's tau-b of two equally long sequences: (concordant - discordant) pairs over the
// geometric mean of the pairs not tied in each sequence, in [-1, 1]. Throws ofa::Error on
// lengths that differ or are below 2, and when either sequence is constant (tau is undefined).
double kendall_tau(std::span<const double> first, std::span<const double> second);

}  // namespace ofa
