#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "kernels/tensor.h"
#include "kernels/collectives/communicator.h"

// `ofa train`: trains a supernet with a recipe on a dataset into a run directory:
//   run.json                the run's identity (space, recipe, data, seed); --resume checks it
//   checkpoint.safetensors  weights, optimiser, teacher and position (atomic, every N steps and epoch)
//   metrics.jsonl           one record per logged step, validation and final evaluation
//   supernet.safetensors    the final supernet
//   results.json            final test accuracy of the largest and smallest subnets
// In a data-parallel job (distill/data_parallel.h) every rank runs train() with the same options
// and rank 0 alone writes the run directory.
namespace ofa {

struct TrainOptions {
  std::string space = "mbv3-small";
  std::string data = "fashion-mnist";
  std::string recipe = "demo";
  std::string out;
  bool resume = false;
  int threads = 2;
  int loader_workers = 2;
  std::uint64_t seed = 0;
  // Where parameters, optimiser state and activations live. Not part of the run's identity:
  // checkpoints are the same files on either device, so a run may resume on the other one.
  Device device = Device::cpu;
  int micro_batches = 1;         // shards of each rank's part of the batch, run one after another
  bool sync_batch_norm = false;  // batch norm statistics over the whole global batch (--sync-bn)
};

// Returns the contents of results.json (on every rank of a job).
nlohmann::json train(const TrainOptions& options, Communicator& communicator);
// As a job of one process.
nlohmann::json train(const TrainOptions& options);

}  // namespace ofa
