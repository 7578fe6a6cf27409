#pragma once

#include <cstdint>

// How a data-parallel step splits its global batch. The global batch is the recipe's batch size B,
// whatever the number of ranks, so a run's position (phase, step) means the same data with any
// number of ranks and a run may resume on more or fewer. It is cut into S = ranks x micro_batches
// shards: shard s holds rows [B*s/S, B*(s+1)/S) of the batch (when S does not divide B the shards
// differ by one row); rank r computes shards r*M .. r*M+M-1 (a contiguous block of rows), one
// forward/backward per shard. Each shard's loss is weighted by its share of the batch, rows/B,
// so the sum of all shards' gradients is the gradient of the batch's mean loss: the all-reduce
// sums and needs no division, and uneven shards are weighted exactly.
namespace ofa {

struct RowRange {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
};

class ShardPlan {
 public:
  // Throws ofa::Error naming --micro-batches and the rank count when a shard would hold fewer than
  // two rows (batch norm's batch statistics need two).
  ShardPlan(std::int64_t global_batch, int ranks, int rank, int micro_batches);

  std::int64_t global_batch() const { return global_batch_; }
  int micro_batches() const { return micro_batches_; }
  // This rank's rows of every global batch.
  RowRange rank_rows() const { return rows_of_shard_block(rank_ * micro_batches_, micro_batches_); }
  // Micro-batch m's rows, relative to rank_rows().begin.
  RowRange micro_batch(int m) const;
  // The job-wide index of micro-batch m: what tells the shards' dropout masks apart.
  std::int64_t shard(int m) const { return static_cast<std::int64_t>(rank_) * micro_batches_ + m; }
  // Micro-batch m's share of the global batch: the weight of its loss.
  double weight(int m) const;

 private:
  RowRange rows_of_shard_block(std::int64_t first, std::int64_t count) const;

  std::int64_t global_batch_;
  int ranks_, rank_, micro_batches_;
};

}  // namespace ofa
