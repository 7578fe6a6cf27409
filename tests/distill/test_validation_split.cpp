#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "distill/data/validation_split.h"
#include "tests/distill/data_fixtures.h"

namespace ofa {
namespace {

using testing::expect_error;
using testing::synthetic_dataset;

TEST(ValidationSplitTest, DisjointCompleteAndSeeded) {
  const auto data = synthetic_dataset(1000, 2, 2, 1, 10);
  const TrainValidSplit split = split_validation(data, 150, 7);
  ASSERT_EQ(split.valid->size(), 150);
  ASSERT_EQ(split.train->size(), 850);
  EXPECT_EQ(split.train->num_classes(), 10);
  EXPECT_NE(split.valid->name().find("validation"), std::string::npos);

  std::set<std::int64_t> all(split.train->indices().begin(), split.train->indices().end());
  for (const std::int64_t i : split.valid->indices()) EXPECT_TRUE(all.insert(i).second) << "image " << i << " in both";
  EXPECT_EQ(all.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(split.valid->indices().begin(), split.valid->indices().end()));
  // The held-out images are spread over the set, not its first 150.
  EXPECT_GT(split.valid->indices().back(), 800);

  // Reads go through to the base dataset.
  const std::int64_t base = split.valid->base_index(3);
  EXPECT_EQ(split.valid->label(3), data->label(base));
  std::vector<std::uint8_t> scratch;
  EXPECT_EQ(split.valid->image(3, scratch).pixels, data->image(base, scratch).pixels);

  EXPECT_EQ(split_validation(data, 150, 7).valid->indices(), split.valid->indices());
  EXPECT_NE(split_validation(data, 150, 8).valid->indices(), split.valid->indices());
}

TEST(ValidationSplitTest, RejectsSizesThatLeaveNothing) {
  const auto data = synthetic_dataset(10, 2, 2, 1, 2);
  expect_error([&] { split_validation(data, 10, 1); },
               {"synthetic", "cannot hold out 10 of its 10", "between 1 and 9"});
  expect_error([&] { split_validation(data, 0, 1); }, {"cannot hold out 0"});
  expect_error([&] { split_validation(data, 1, 1).valid->label(1); }, {"image index 1 is outside [0, 1)"});
}

}  // namespace
}  // namespace ofa
