#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "distill/gradient_reducer.h"
#include "distill/shard_plan.h"
#include "kernels/collectives/communicator.h"
#include "kernels/collectives/gradient_transport.h"
#include "kernels/ops/batch_norm.h"
#include "supernet/parameter.h"

// Data parallelism as the trainer sees it: the job's ranks, the shard of every global batch this
// rank computes (shard_plan.h), the gradient all-reduce (gradient_reducer.h) and the agreements
// that keep the ranks in step. In a job of one without micro-batches every call is free and the
// run is exactly the single-process one.
//
// What every rank does the same way, so that no state is exchanged for it: subnets, resolutions,
// data order and augmentation are pure functions of (seed, position); the weights start equal
// (the seed, or the same checkpoint) and stay equal (equal summed gradients, equal SGD). Batch
// norm statistics are per rank unless --sync-bn; rank 0's are the ones checkpoints keep. Rank 0
// alone writes the run directory.
namespace ofa {

struct DataParallelOptions {
  int micro_batches = 1;         // shards per rank, run one after another (same gradients as more ranks)
  bool sync_batch_norm = false;  // batch statistics over the whole global batch (CPU tensors)
};

class DataParallel {
 public:
  // Throws ofa::Error naming the option when the batch cannot be split or options conflict.
  DataParallel(Communicator& communicator, std::int64_t global_batch, const DataParallelOptions& options);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  Communicator& communicator() { return communicator_; }
  int rank() const { return communicator_.rank(); }
  int size() const { return communicator_.size(); }
  bool is_root() const { return communicator_.rank() == 0; }
  const ShardPlan& shards() const { return shards_; }

  // Start-up: throws ofa::Error on every rank when the ranks' configurations (space, recipe, data,
  // seed, options) differ.
  void require_same_configuration(const nlohmann::json& configuration);
  // At a checkpoint: throws ofa::Error on every rank unless `tensors` are bit-identical on all.
  void require_same_tensors(std::span<const Tensor> tensors, std::int64_t global_step);

  // Rank 0 runs `work`; an ofa::Error it throws is thrown on every rank, so that the job stops
  // together with rank 0's message instead of leaving the others waiting in a collective.
  void on_root(std::string_view what, const std::function<void()>& work);
  // Items 0..count-1, item i computed by rank i mod size(); returns every item's result on every
  // rank (an ofa::Error of any item is thrown on every rank).
  std::vector<nlohmann::json> share_out(std::size_t count, std::string_view what,
                                        const std::function<nlohmann::json(std::size_t)>& work);
  // Sum over the ranks, in place (running loss and accuracy of the log line).
  void sum(std::span<double> values, std::string_view what);

  // The networks' batch norm: `base` with the job's communicator when --sync-bn in a job of many.
  BatchNormConfig batch_norm_config(BatchNormConfig base) const;
  // Dropout stream of micro-batch m: the shard's own, so that shards draw independent masks (the
  // job-wide shard 0 keeps `stream` itself).
  std::uint64_t dropout_stream(std::uint64_t stream, int m) const;

  // Gradients. attach() once, with the network's parameters; each step then: begin_step, one
  // backward per (micro-batch, subnet) with backward_hook(last), finish_step. Only a job of
  // several ranks reduces anything.
  void attach(ParameterList& parameters);
  void begin_step(std::int64_t global_step);
  GradientHook* backward_hook(bool last);
  void finish_step();
  double reduce_seconds() const { return reduce_seconds_; }   // of the last step
  std::int64_t reduced_bytes() const { return reducer_ ? reducer_->reduced_bytes() : 0; }

 private:
  Communicator& communicator_;
  DataParallelOptions options_;
  ShardPlan shards_;
  std::unique_ptr<GradientTransport> transport_;
  std::unique_ptr<GradientReducer> reducer_;
  double reduce_seconds_ = 0;
};

}  // namespace ofa
