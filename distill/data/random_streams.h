#pragma once

#include <cstdint>
#include <vector>

#include "kernels/random.h"

// The data pipeline's uses of the run seed, each on its own stream of kernels/random.h's
// counter-based generator, so the split, the data order and the augmentation are independent
// of one another and every number is a pure function of (seed, stream, index): no generator
// state to checkpoint, and no dependence on which thread draws it.
namespace ofa::data_streams {

// Tags in the high byte keep these streams apart from other layers' small stream numbers.
constexpr std::uint64_t kValidationSplit = 0xDA00000000000001ULL;
constexpr std::uint64_t shuffle(std::int64_t epoch) {
  return 0xDB00000000000000ULL + static_cast<std::uint64_t>(epoch);
}
constexpr std::uint64_t augmentation(std::int64_t epoch) {
  return 0xDC00000000000000ULL + static_cast<std::uint64_t>(epoch);
}

// A uniformly shuffled 0..n-1 (Fisher-Yates; draw i is mix64 of (seed, stream, i), reduced
// modulo i + 1, whose bias of at most n / 2^64 is irrelevant).
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed, std::uint64_t stream);

}  // namespace ofa::data_streams
