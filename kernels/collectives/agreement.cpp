#include "kernels/collectives/agreement.h"

#include <cstring>
#include <string>
#include <vector>

namespace ofa {

std::uint64_t fnv1a(std::span<const std::byte> bytes, std::uint64_t hash) {
  for (const std::byte b : bytes) {
    hash ^= static_cast<std::uint64_t>(b);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

void require_same_on_all_ranks(Communicator& communicator, std::uint64_t hash, std::string_view what,
                               std::string_view remedy) {
  std::vector<std::uint64_t> all(static_cast<std::size_t>(communicator.size()));
  communicator.allgather(std::as_bytes(std::span(&hash, 1)), std::as_writable_bytes(std::span(all)),
                         concat("the comparison of ", what));
  std::string differing;
  for (std::size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0]) differing += (differing.empty() ? "" : ", ") + std::to_string(r);
  if (!differing.empty())
    throw Error(concat("the ranks disagree on ", what, ": rank(s) ", differing, " differ from rank 0; ", remedy));
}

}  // namespace ofa
