#pragma once

#include <cstddef>
#include <span>

#include "kernels/tensor.h"

// What a backward pass tells its caller as it goes, so that the caller can start using a layer's
// gradients (e.g. all-reducing them across data-parallel processes) while earlier layers are still
// being differentiated.
namespace ofa {

// One parameter gradient a layer's backward has finished: the parameter's index in its network's
// ParameterList, and the prefix (the first extent[i] entries along every axis) the active
// configuration can have written. Entries outside the prefix are left as they were.
struct GradientExtent {
  std::size_t parameter = 0;
  Shape extent;
};

class GradientHook {
 public:
  virtual ~GradientHook() = default;
  // Called once per layer per backward pass, as soon as the layer's parameter gradients are final
  // for this pass, in the order the pass finishes them (classifier first, stem last).
  virtual void layer_finished(std::span<const GradientExtent> gradients) = 0;
};

}  // namespace ofa
