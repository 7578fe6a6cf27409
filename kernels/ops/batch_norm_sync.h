#pragma once

#include <cstdint>
#include <vector>

#include "kernels/collectives/communicator.h"

// The collectives of synchronised batch norm (BatchNormConfig::sync), kept apart from the
// single-process op so that batch_norm.cpp only calls them.
namespace ofa::batch_norm_sync {

// Replaces this rank's per-channel batch mean and biased variance over `rows` rows with those of
// all ranks' rows together, and returns the job's row count. The ranks' (rows, mean, M2) are
// all-gathered and merged in rank order (Chan et al.'s pairwise update), so every rank computes
// bit-identical statistics and no large sums cancel.
std::int64_t merge_moments(Communicator& communicator, std::int64_t rows, std::vector<double>& mean,
                           std::vector<double>& variance);

// Sums the backward's per-channel sums of dz and dz * (x - mean) over the ranks, in place.
void sum_gradient_terms(Communicator& communicator, std::vector<double>& dz, std::vector<double>& dz_centred);

}  // namespace ofa::batch_norm_sync
