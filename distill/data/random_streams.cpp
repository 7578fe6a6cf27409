#include "distill/data/random_streams.h"

#include <numeric>
#include <utility>

namespace ofa::data_streams {

std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed, std::uint64_t stream) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  const std::uint64_t key = mix64(seed ^ mix64(stream));
  for (std::int64_t i = n - 1; i > 0; --i) {
    const auto j =
        static_cast<std::int64_t>(mix64(key + static_cast<std::uint64_t>(i)) % static_cast<std::uint64_t>(i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

}  // namespace ofa::data_streams
