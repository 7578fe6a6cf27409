#pragma once

#include <cstdint>
#include <memory>

#include "distill/data/dataset.h"

namespace ofa {

// Training data divided into what the optimiser sees and a held-out validation set that model
// selection sees, so the test set stays untouched until the final evaluation.
struct TrainValidSplit {
  std::shared_ptr<const SubsetDataset> train;
  std::shared_ptr<const SubsetDataset> valid;
};

// `validation_size` images of a seeded permutation of `train` become the validation set, the
// rest the training set; both keep the original index order (sequential reads from folders).
// The same seed gives the same split. Throws ofa::Error naming the dataset unless
// 0 < validation_size < train->size().
TrainValidSplit split_validation(std::shared_ptr<const Dataset> train, std::int64_t validation_size,
                                 std::uint64_t seed);

}  // namespace ofa
