#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "kernels/collectives/communicator.h"

// Checks that what must be equal on every rank is: the configuration at start-up, the weights at
// a checkpoint. Each rank hashes its own copy and the hashes are all-gathered, so the check costs
// a few bytes of traffic whatever the size of what is compared.
namespace ofa {

// 64-bit FNV-1a, continued from `hash` (so several pieces hash as one).
inline constexpr std::uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
std::uint64_t fnv1a(std::span<const std::byte> bytes, std::uint64_t hash = kFnvOffsetBasis);

// Every rank passes its hash of `what`. When any rank's differs from rank 0's, throws ofa::Error
// on every rank naming `what`, the ranks that differ and `remedy`.
void require_same_on_all_ranks(Communicator& communicator, std::uint64_t hash, std::string_view what,
                               std::string_view remedy);

}  // namespace ofa
