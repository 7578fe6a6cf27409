#include "distill/data/validation_split.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "distill/data/random_streams.h"
#include "kernels/error.h"

namespace ofa {

TrainValidSplit split_validation(std::shared_ptr<const Dataset> train, std::int64_t validation_size,
                                 std::uint64_t seed) {
  const std::int64_t total = train->size();
  OFA_CHECK(validation_size > 0 && validation_size < total, train->name(), "cannot hold out ", validation_size,
            " of its ", total, " images for validation: expected between 1 and ", total - 1);
  const std::vector<std::int64_t> order = data_streams::permutation(total, seed, data_streams::kValidationSplit);
  const auto cut = order.begin() + validation_size;
  std::vector<std::int64_t> valid(order.begin(), cut), rest(cut, order.end());
  std::sort(valid.begin(), valid.end());
  std::sort(rest.begin(), rest.end());
  const std::string name = train->name();
  return {std::make_shared<SubsetDataset>(train, std::move(rest), name + " (training part)"),
          std::make_shared<SubsetDataset>(train, std::move(valid), name + " (validation part)")};
}

}  // namespace ofa
