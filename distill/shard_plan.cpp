#include "distill/shard_plan.h"

#include "kernels/error.h"

namespace ofa {

ShardPlan::ShardPlan(std::int64_t global_batch, int ranks, int rank, int micro_batches)
    : global_batch_(global_batch), ranks_(ranks), rank_(rank), micro_batches_(micro_batches) {
  OFA_CHECK(micro_batches_ >= 1, "--micro-batches", micro_batches_, ", expected at least 1");
  OFA_CHECK(ranks_ >= 1 && rank_ >= 0 && rank_ < ranks_, "ShardPlan", "rank ", rank_, " of ", ranks_);
  const std::int64_t shards = static_cast<std::int64_t>(ranks_) * micro_batches_;
  OFA_CHECK(global_batch_ / shards >= 2, "--micro-batches",
            concat("the recipe's batch of ", global_batch_, " images split over ", ranks_, " rank(s) x ",
                   micro_batches_, " micro-batch(es) leaves shards of ", global_batch_ / shards,
                   " image(s); batch norm needs at least 2 per shard: use fewer ranks or micro-batches"));
}

RowRange ShardPlan::rows_of_shard_block(std::int64_t first, std::int64_t count) const {
  const std::int64_t shards = static_cast<std::int64_t>(ranks_) * micro_batches_;
  return {global_batch_ * first / shards, global_batch_ * (first + count) / shards};
}

RowRange ShardPlan::micro_batch(int m) const {
  const RowRange rows = rows_of_shard_block(shard(m), 1);
  const std::int64_t base = rank_rows().begin;
  return {rows.begin - base, rows.end - base};
}

double ShardPlan::weight(int m) const {
  return static_cast<double>(micro_batch(m).size()) / static_cast<double>(global_batch_);
}

}  // namespace ofa
