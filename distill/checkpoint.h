#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "supernet/extraction.h"
#include "supernet/supernet.h"

// Everything a training run needs to continue exactly: the supernet's parameters and BN
// statistics, the optimiser's momentum buffers, the frozen teacher (once distillation started),
// and the position. All randomness is counter-based on (seed, position), so the position is the
// whole RNG state. One safetensors file, written atomically: a crash or a full disk while writing
// leaves the previous checkpoint intact.
namespace ofa {

struct TrainingPosition {
  std::int64_t phase = 0;        // index into the recipe's phases
  std::int64_t step = 0;         // next step to run within the phase
  std::int64_t global_step = 0;  // steps run since the start of the run
};

struct TrainingState {
  Supernet* supernet = nullptr;
  std::vector<Tensor>* momentum = nullptr;         // one per supernet parameter, same shapes and device
  std::unique_ptr<ExtractedNetwork>* teacher = nullptr;
  TrainingPosition position;
  nlohmann::json run;  // the run's identity (space, recipe, data, seed): must match on resume
};

void save_checkpoint(const std::string& path, const TrainingState& state);
// Checks the file completely (format, run identity, every tensor and shape) before overwriting
// anything in `state`.
void load_checkpoint(const std::string& path, TrainingState& state);

}  // namespace ofa
