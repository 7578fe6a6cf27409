#pragma once

#include <cstdint>
#include <vector>

#include "kernels/tensor.h"
#include "supernet/mbconv_block.h"

namespace ofa {

// Reorders axis `axis` of a contiguous cpu tensor in place: new[..., i, ...] = old[..., order[i], ...].
void permute_axis(Tensor& t, int axis, const std::vector<std::int64_t>& order);

// Indices of `importance` sorted by decreasing value (ties keep their order).
std::vector<std::int64_t> order_by_importance(const std::vector<double>& importance);

// OFA's re_organize_middle_weights on one block: the expanded channels sorted by the L1 norm of
// their projection weights, applied to every tensor indexed by them (expand conv rows and its BN,
// depthwise weight and its BN, SE reduce columns and expand rows and bias, projection columns);
// then the SE hidden channels sorted by the L1 norm of their SE-expand weights. Weights on cuda are
// sorted on host copies and uploaded.
void sort_middle_channels_by_importance(MBConvWeights& weights);

}  // namespace ofa
