#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "kernels/tensor.h"

// `ofa eval`: the accuracy of one subnet of a trained run (or of a weight file) after BN
// recalibration, on the held-out validation split or the test split.
namespace ofa {

struct EvalOptions {
  std::string run;      // a run directory (its run.json and supernet.safetensors), or
  std::string weights;  // a supernet or extracted-subnet safetensors file
  std::string subnet = "max";  // max, min or a subnet JSON file (ignored for an extracted subnet)
  std::string split = "test";  // valid or test
  std::string data = "fashion-mnist";  // with --weights only; a run knows its data
  std::uint64_t seed = 0;              // with --weights only: the validation split's seed
  std::int64_t calibration_images = 2000;
  int threads = 2;
  Device device = Device::cpu;  // where the network runs; the result is the same up to rounding
};

nlohmann::json evaluate_run(const EvalOptions& options);

}  // namespace ofa
