#include "kernels/ops/batch_norm_sync.h"

#include <algorithm>
#include <span>

namespace ofa::batch_norm_sync {

std::int64_t merge_moments(Communicator& communicator, std::int64_t rows, std::vector<double>& mean,
                           std::vector<double>& variance) {
  const std::size_t channels = mean.size();
  const std::size_t record = 1 + 2 * channels;  // rows, mean[c], M2[c]
  std::vector<double> mine(record);
  mine[0] = static_cast<double>(rows);
  std::copy(mean.begin(), mean.end(), mine.begin() + 1);
  for (std::size_t c = 0; c < channels; ++c) mine[1 + channels + c] = variance[c] * static_cast<double>(rows);
  std::vector<double> all(record * static_cast<std::size_t>(communicator.size()));
  communicator.allgather(std::as_bytes(std::span(mine)), std::as_writable_bytes(std::span(all)),
                         "the synchronised batch norm statistics");

  double total = all[0];
  std::vector<double> merged_mean(all.begin() + 1, all.begin() + 1 + static_cast<std::ptrdiff_t>(channels));
  std::vector<double> merged_m2(all.begin() + 1 + static_cast<std::ptrdiff_t>(channels),
                                all.begin() + static_cast<std::ptrdiff_t>(record));
  for (std::size_t r = 1; r < static_cast<std::size_t>(communicator.size()); ++r) {
    const double* other = all.data() + r * record;
    const double n = other[0], combined = total + n;
    for (std::size_t c = 0; c < channels; ++c) {
      const double delta = other[1 + c] - merged_mean[c];
      merged_mean[c] += delta * n / combined;
      merged_m2[c] += other[1 + channels + c] + delta * delta * total * n / combined;
    }
    total = combined;
  }
  mean = merged_mean;
  for (std::size_t c = 0; c < channels; ++c) variance[c] = merged_m2[c] / total;
  return static_cast<std::int64_t>(total);
}

void sum_gradient_terms(Communicator& communicator, std::vector<double>& dz, std::vector<double>& dz_centred) {
  std::vector<double> sums(dz);
  sums.insert(sums.end(), dz_centred.begin(), dz_centred.end());
  communicator.allreduce_sum(std::span(sums), "the synchronised batch norm gradient sums");
  std::copy(sums.begin(), sums.begin() + static_cast<std::ptrdiff_t>(dz.size()), dz.begin());
  std::copy(sums.begin() + static_cast<std::ptrdiff_t>(dz.size()), sums.end(), dz_centred.begin());
}

}  // namespace ofa::batch_norm_sync
