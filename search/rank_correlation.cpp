#include "search/rank_correlation.h"

#include <cmath>
#include <cstdint>

#include "kernels/error.h"

namespace ofa {

// All pairs, O(n^2): held-out sets are a few hundred subnets.
double kendall_tau(std::span<const double> first, std::span<const double> second) {
  OFA_CHECK(first.size() == second.size(), "kendall_tau", "the sequences have ", first.size(), " and ", second.size(),
            " entries; expected equal lengths");
  OFA_CHECK(first.size() >= 2, "kendall_tau", "needs at least 2 pairs, got ", first.size());
  std::int64_t concordant_minus_discordant = 0, untied_first = 0, untied_second = 0;
  for (std::size_t i = 0; i < first.size(); ++i)
    for (std::size_t j = i + 1; j < first.size(); ++j) {
      const double a = first[i] - first[j], b = second[i] - second[j];
      untied_first += a != 0.0;
      untied_second += b != 0.0;
      if (a != 0.0 && b != 0.0) concordant_minus_discordant += (a > 0.0) == (b > 0.0) ? 1 : -1;
    }
  OFA_CHECK(untied_first > 0 && untied_second > 0, "kendall_tau", "a sequence is constant; tau is undefined");
  return static_cast<double>(concordant_minus_discordant) /
         std::sqrt(static_cast<double>(untied_first) * static_cast<double>(untied_second));
}

}  // namespace ofa
