#pragma once

#include <cstdint>

namespace ofa {

// The learning rate of step `step` (0-based) of a phase with `total_steps` steps: linear warm-up
// from `warmup_start` to `peak` over `warmup_steps`, then cosine annealing from `peak` to 0 over
// the remaining steps (OFA's cosine schedule with warm-up, per step).
double learning_rate(std::int64_t step, std::int64_t total_steps, std::int64_t warmup_steps, double peak,
                     double warmup_start);

}  // namespace ofa
