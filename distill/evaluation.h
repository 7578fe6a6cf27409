#pragma once

#include <cstdint>
#include <memory>

#include "distill/data/data_spec.h"
#include "distill/data/dataset.h"
#include "supernet/network.h"

namespace ofa {

struct EvalResult {
  double top1 = 0, top5 = 0;  // fractions
  double loss = 0;            // mean plain cross-entropy
  std::int64_t images = 0;
};

// Eval-mode accuracy of the network's active configuration on every image of `dataset`, at
// `resolution`, with the profile's evaluation preprocessing, in dataset order, on the network's
// device (batches are uploaded; on cuda the host waits for the device once, at the end).
EvalResult evaluate(Network& network, std::shared_ptr<const Dataset> dataset, const DataProfile& profile,
                    std::int64_t resolution, std::int64_t batch_size = 200);

// OFA's set_running_statistics: replaces the BN running statistics of the active configuration by
// their average over the first `images` images of a fixed seeded shuffle of `dataset` (training
// preprocessing, as OFA recalibrates on augmented training images), at `resolution`. The batch
// means and variances are averaged exactly (momentum 1/(k+1) for the k-th batch).
void recalibrate_batch_norm(Network& network, std::shared_ptr<const Dataset> dataset, const DataProfile& profile,
                            std::int64_t resolution, std::int64_t images, std::uint64_t seed,
                            std::int64_t batch_size = 100);

}  // namespace ofa
