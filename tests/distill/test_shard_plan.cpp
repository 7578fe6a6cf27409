#include <gtest/gtest.h>

#include "distill/shard_plan.h"
#include "kernels/error.h"
#include "tests/support/expect_error.h"

namespace ofa {
namespace {

// Every row of the batch in exactly one shard, shards differing by at most one row, weights
// summing to one: the summed gradients are the batch mean's for any split.
void check_split(std::int64_t batch, int ranks, int micro_batches) {
  std::int64_t next = 0, smallest = batch, largest = 0;
  double weights = 0;
  for (int r = 0; r < ranks; ++r) {
    const ShardPlan plan(batch, ranks, r, micro_batches);
    const RowRange rows = plan.rank_rows();
    EXPECT_EQ(rows.begin, next) << batch << " over " << ranks << "x" << micro_batches << ", rank " << r;
    std::int64_t in_rank = 0;
    for (int m = 0; m < micro_batches; ++m) {
      const RowRange micro = plan.micro_batch(m);
      EXPECT_EQ(micro.begin, in_rank);
      EXPECT_EQ(plan.shard(m), static_cast<std::int64_t>(r) * micro_batches + m);
      in_rank = micro.end;
      smallest = std::min(smallest, micro.size());
      largest = std::max(largest, micro.size());
      weights += plan.weight(m);
    }
    EXPECT_EQ(in_rank, rows.size());
    next = rows.end;
  }
  EXPECT_EQ(next, batch);
  EXPECT_LE(largest - smallest, 1);
  EXPECT_NEAR(weights, 1.0, 1e-12);
}

TEST(ShardPlan, SplitsEvenAndUnevenBatches) {
  check_split(64, 1, 1);
  check_split(64, 2, 1);
  check_split(32, 2, 2);
  check_split(10, 3, 1);  // 3, 3, 4
  check_split(23, 2, 3);
  check_split(256, 8, 4);
}

TEST(ShardPlan, OneProcessWithoutMicroBatchesIsTheWholeBatch) {
  const ShardPlan plan(48, 1, 0, 1);
  EXPECT_EQ(plan.rank_rows().begin, 0);
  EXPECT_EQ(plan.rank_rows().end, 48);
  EXPECT_EQ(plan.weight(0), 1.0);
  EXPECT_EQ(plan.shard(0), 0);
}

TEST(ShardPlan, RejectsShardsTooSmallForBatchNorm) {
  testing::expect_error_naming([] { ShardPlan(8, 4, 0, 2); }, "--micro-batches", "4 rank(s) x 2 micro-batch(es)");
  testing::expect_error_naming([] { ShardPlan(8, 1, 0, 0); }, "--micro-batches", "expected at least 1");
}

}  // namespace
}  // namespace ofa
