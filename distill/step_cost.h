#pragma once

#include "distill/recipe.h"
#include "supernet/search_space.h"

// What one training step of a phase costs, for the progress bar's ETA. Phases differ by up to
// 4x in subnets per step and by 9x in those subnets' MACs, so counting steps (or subnets)
// misjudges the time left: a ps run's expand-2 step costs about twice a teacher step, not four
// times.
namespace ofa {

// Per subnet trained, the work that does not scale with its MACs (batch norm, activations,
// squeeze-and-excitation, the memory-bound depthwise convolutions), as a fraction of the MACs of
// the space's largest subnet at the batch's resolution. Fitted to the CPU backend's measured step
// times of the ps phases (distill/README.md, "ETA").
inline constexpr double kSubnetOverheadOfLargest = 0.33;

// The expected cost of one step of `phase` (its subnets' forward and backward passes, and the
// frozen teacher's forward pass where it has one) relative to one step that trains only the
// space's largest subnet at the largest resolution. Averaged over the phase's resolutions (one per
// batch) and, for the random subnets, over a fixed sample of them.
double relative_step_cost(const SearchSpace& space, const Phase& phase);

}  // namespace ofa
