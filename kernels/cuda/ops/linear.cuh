#pragma once

#include <algorithm>
#include <cstddef>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/gemm.cuh"
#include "kernels/cuda/ops/partial_sums.cuh"
#include "kernels/error.h"

// The CUDA twin of kernels/ops/linear.h: y[rows, out] = x[rows, in] weight[:out, :in]^T
// (+ bias[:out]) on the max-size [Out_max, in_max] weight, read and written in place through its
// leading dimension in_max. x, y, dx, dy are contiguous.

namespace ofa::cuda {

struct LinearShape {
  int rows, in, out, in_max;
};

inline void check_linear(const char* op, const LinearShape& s) {
  OFA_CHECK(s.rows > 0 && s.in > 0 && s.out > 0 && s.in <= s.in_max, op,
            "needs positive sizes and in <= in_max, got rows ", s.rows, ", in ", s.in, ", out ", s.out, ", in_max ",
            s.in_max);
}

// partials[chunk, c] = sum of x[r, c] over the chunk's rows, x being [rows, cols]. Columns run
// along threadIdx.x (coalesced loads), the chunk's rows are spread over threadIdx.y and their
// sums added in shared memory in a fixed order.
template <int Columns, int Rows>
__global__ void __launch_bounds__(Columns* Rows)
    column_partial_sums_kernel(const float* __restrict__ x, int rows, int cols, long long rows_per_chunk,
                               float* __restrict__ partials) {
  __shared__ float sums[Rows][Columns];
  const int tx = int(threadIdx.x), ty = int(threadIdx.y);
  const int c = int(blockIdx.x) * Columns + tx;
  const long long begin = blockIdx.y * rows_per_chunk, end = min(static_cast<long long>(rows), begin + rows_per_chunk);
  float sum = 0.0f;
  if (c < cols)
    for (long long r = begin + ty; r < end; r += Rows) sum += x[r * cols + c];
  sums[ty][tx] = sum;
  __syncthreads();
  if (ty != 0 || c >= cols) return;
  float total = 0.0f;
  for (int i = 0; i < Rows; ++i) total += sums[i][tx];
  partials[blockIdx.y * static_cast<long long>(cols) + c] = total;
}

inline constexpr int kColumnSumColumns = 32, kColumnSumRows = 8;

// How the backward pass splits its reductions over rows, and the workspace that takes.
struct LinearBackwardPlan {
  int weight_splits;                       // slices of the rows for dweight's GEMM; 1 adds into dweight directly
  Chunking bias;                           // chunks of rows for dbias
  std::size_t weight_floats, bias_floats;  // their partial results, in this order in the workspace

  std::size_t workspace() const { return weight_floats + bias_floats; }
};

inline LinearBackwardPlan plan_linear_backward(const LinearShape& s) {
  // dweight has few tiles and a long k (every row): split k until the tiles fill the GPU, with
  // at least 256 rows per slice.
  const int tiles = ceil_div(s.out, kGemmTileM) * ceil_div(s.in, kGemmTileN);
  const int splits = gemm_splits(s.rows, std::clamp(kReductionBlocks / tiles, 1, std::max(1, s.rows / 256)));
  const int column_blocks = ceil_div(s.out, kColumnSumColumns);
  const Chunking bias = chunk_evenly(s.rows, std::min(kReductionBlocks / column_blocks, ceil_div(s.rows, 64)));
  const std::size_t weight_floats = splits > 1 ? std::size_t(splits) * std::size_t(s.out) * std::size_t(s.in) : 0;
  return {splits, bias, weight_floats, std::size_t(bias.count) * std::size_t(s.out)};
}

// Floats of workspace linear_backward needs.
inline std::size_t linear_backward_workspace(const LinearShape& s) { return plan_linear_backward(s).workspace(); }

// bias may be null.
template <Launcher L>
void linear_forward(const L& launcher, const float* x, const float* weight, const float* bias, float* y,
                    const LinearShape& s) {
  check_linear("cuda linear_forward", s);
  gemm<false, true>(launcher, GemmArgs{x, weight, y, bias, s.in, s.in_max, s.out, s.rows, s.out, s.in, 0, 0, false}, 1);
}

// dx = dy weight[:out, :in] (overwritten; skipped when null). dweight[:out, :in] += dy^T x and,
// when dbias is not null, dbias[:out] += the column sums of dy: accumulated so that the
// subnets of one step add into one shared gradient, through `workspace`
// (linear_backward_workspace floats) in a fixed order, so the bits do not vary between runs.
template <Launcher L>
void linear_backward(const L& launcher, const float* x, const float* weight, const float* dy, float* dx, float* dweight,
                     float* dbias, float* workspace, const LinearShape& s) {
  check_linear("cuda linear_backward", s);
  const LinearBackwardPlan plan = plan_linear_backward(s);
  if (dx != nullptr)
    gemm<false, false>(launcher,
                       GemmArgs{dy, weight, dx, nullptr, s.out, s.in_max, s.in, s.rows, s.in, s.out, 0, 0, false}, 1);

  // dweight[o, i] = sum_r dy[r, o] x[r, i]: A = dy^T (transposed), B = x.
  const long long slice = static_cast<long long>(s.out) * s.in;
  if (plan.weight_splits == 1) {
    gemm<true, false>(launcher,
                      GemmArgs{dy, x, dweight, nullptr, s.out, s.in, s.in_max, s.out, s.in, s.rows, 0, 0, true}, 1);
  } else {
    gemm<true, false>(launcher,
                      GemmArgs{dy, x, workspace, nullptr, s.out, s.in, s.in, s.out, s.in, s.rows, 0, slice, false},
                      plan.weight_splits);
    sum_partials(launcher, PartialSums{workspace, slice, plan.weight_splits, s.out, s.in}, dweight, s.in_max, true);
  }

  if (dbias == nullptr) return;
  float* const bias_partials = workspace + plan.weight_floats;
  const dim3 grid(ceil_div(s.out, kColumnSumColumns), plan.bias.count);
  launcher.launch(column_partial_sums_kernel<kColumnSumColumns, kColumnSumRows>, grid,
                  dim3(kColumnSumColumns, kColumnSumRows), 0, dy, s.rows, s.out, plan.bias.size, bias_partials);
  sum_partials(launcher, PartialSums{bias_partials, s.out, plan.bias.count, 1, s.out}, dbias, s.out, true);
}

}  // namespace ofa::cuda
