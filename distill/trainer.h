#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "kernels/tensor.h"

// `ofa train`: trains a supernet with a recipe on a dataset into a run directory:
//   run.json                the run's identity (space, recipe, data, seed); --resume checks it
//   checkpoint.safetensors  weights, optimiser, teacher and position (atomic, every N steps and epoch)
//   metrics.jsonl           one record per logged step, validation and final evaluation
//   supernet.safetensors    the final supernet
//   results.json            final test accuracy of the largest and smallest subnets
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
};

// Returns the contents of results.json.
nlohmann::json train(const TrainOptions& options);

}  // namespace ofa
