#include "distill/lr_schedule.h"

#include <cmath>
#include <numbers>

#include "kernels/error.h"

namespace ofa {

// As OFA's warm-up, step s of the warm-up already takes (s + 1) / warmup_steps of the way, so no
// step trains at warmup_start (often 0) and the last warm-up step reaches the peak; the cosine
// then starts at the peak and ends one step short of 0, so no step is wasted there either.
double learning_rate(std::int64_t step, std::int64_t total_steps, std::int64_t warmup_steps, double peak,
                     double warmup_start) {
  constexpr const char* where = "learning_rate";
  OFA_CHECK(total_steps > 0, where, "the phase needs at least one step, got ", total_steps);
  OFA_CHECK(step >= 0 && step < total_steps, where, "step ", step, " is outside the phase's ", total_steps, " steps");
  OFA_CHECK(warmup_steps >= 0 && warmup_steps <= total_steps, where, "warm-up steps must be in [0, ", total_steps,
            "], got ", warmup_steps);
  OFA_CHECK(std::isfinite(peak) && peak >= 0, where, "the peak learning rate must be finite and >= 0, got ", peak);
  OFA_CHECK(std::isfinite(warmup_start) && warmup_start >= 0, where,
            "the warm-up start learning rate must be finite and >= 0, got ", warmup_start);
  if (step < warmup_steps)
    return warmup_start +
           (peak - warmup_start) * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const auto t = static_cast<double>(step - warmup_steps) / static_cast<double>(total_steps - warmup_steps);
  return 0.5 * peak * (1.0 + std::cos(std::numbers::pi * t));
}

}  // namespace ofa
