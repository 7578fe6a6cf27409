#pragma once

#include <cstdint>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/block_reduce.cuh"
#include "kernels/cuda/ops/cross_entropy.cuh"
#include "kernels/error.h"

// Top-1 and top-k correct counts on the GPU, with kernels/ops/accuracy.h's tie rule: a row is
// correct at k when fewer than k classes score strictly higher than the label (a NaN label
// logit, or a label outside [0, classes), is never correct).

namespace ofa::cuda {

// One block per row counts the classes above the label's logit; thread 0 adds the row's hits.
template <int MaxThreads>
__global__ void __launch_bounds__(MaxThreads)
    accuracy_kernel(const float* __restrict__ logits, LogitsShape s, const std::int32_t* __restrict__ labels, int top,
                    unsigned long long* counts) {
  const float* z = logits + static_cast<long long>(blockIdx.x) * s.ld;
  const std::int32_t label = labels[blockIdx.x];
  const bool valid = label >= 0 && label < s.classes;
  const float target = valid ? z[label] : 0.0f;
  int higher = 0;
  for (int k = int(threadIdx.x); k < s.classes; k += int(blockDim.x)) higher += z[k] > target ? 1 : 0;
  higher = reduction::block_sum(higher);
  if (threadIdx.x != 0 || !valid || isnan(target)) return;
  // Integer additions commute exactly: the counts do not depend on the order rows finish in.
  if (higher < 1) atomicAdd(counts, 1ull);
  if (higher < top) atomicAdd(counts + 1, 1ull);
}

// ADDS this batch's top-1 and top-k hits to counts[0] and counts[1] (device), so that an
// evaluation zeroes them once and reads them once at the end, with no host synchronisation per
// batch. k >= 1; k > classes counts every valid row as a top-k hit.
template <Launcher L>
void accuracy_counts(const L& launcher, const float* logits, const LogitsShape& s, const std::int32_t* labels, int k,
                     unsigned long long* counts) {
  const char* op = "accuracy_counts";
  softmax_detail::check(op, s);
  OFA_CHECK(k >= 1, op, "k must be >= 1, got ", k);
  launcher.launch(accuracy_kernel<reduction::kMaxRowThreads>, dim3(unsigned(s.rows)),
                  dim3(unsigned(reduction::row_threads(s.classes))), 0, logits, s, labels,
                  k < s.classes ? k : s.classes, counts);
}

}  // namespace ofa::cuda
