#pragma once

#include "kernels/cuda/launch.h"

namespace ofa::cuda {

// C[m, n] = sum_k A(m, k) B(k, n) (+ bias[n]), row-major operands with leading dimensions, so
// a prefix view of a max-size weight is read in place. A(m, k) is a[m * lda + k], or
// a[k * lda + m] when transposed; B(k, n) is b[k * ldb + n], or b[n * ldb + k] when transposed.
// Split k: block z of the grid sums k in [z * k_per_split, (z + 1) * k_per_split) and writes its
// own C, c_split_stride floats after the previous one; the splits are added afterwards in a
// fixed order (partial_sums.cuh).
struct GemmArgs {
  const float* a;
  const float* b;
  float* c;
  const float* bias;  // null for none
  int lda, ldb, ldc;
  int m, n, k;
  int k_per_split;
  long long c_split_stride;
  bool accumulate;  // C += instead of C =
};

inline constexpr int kGemmTileM = 64, kGemmTileN = 64, kGemmTileK = 16;
inline constexpr int kGemmThreads = 256;  // 16 x 16, each computing 4 x 4 of C

// A 64 x 64 tile of C per block. Each step stages a 64 x 16 slice of A and a 16 x 64 slice of B
// in shared memory, k-major, so that a thread reads its 4 rows of A and 4 columns of B as one
// float4 each; the rows of A are padded by 4 floats to spread the transposing stores over the
// banks. Entries outside the matrices are staged as zeros, so any m, n, k works.
template <bool TransA, bool TransB>
__global__ void __launch_bounds__(kGemmThreads) gemm_kernel(GemmArgs g) {
  constexpr int TM = kGemmTileM, TN = kGemmTileN, TK = kGemmTileK;
  __shared__ __align__(16) float a_tile[TK][TM + 4];
  __shared__ __align__(16) float b_tile[TK][TN];
  const int tid = int(threadIdx.x), tx = tid % 16, ty = tid / 16;
  const int m0 = int(blockIdx.y) * TM, n0 = int(blockIdx.x) * TN;
  const int k_begin = int(blockIdx.z) * g.k_per_split;
  const int k_end = min(g.k, k_begin + g.k_per_split);

  float acc[4][4] = {};
  for (int k0 = k_begin; k0 < k_end; k0 += TK) {
    // Consecutive threads walk the operand's contiguous axis, so the global loads coalesce.
    OFA_UNROLL
    for (int r = 0; r < TM * TK / kGemmThreads; ++r) {
      const int e = tid + r * kGemmThreads;
      const int mm = TransA ? e % TM : e / TK, kk = TransA ? e / TM : e % TK;
      const int row = m0 + mm, depth = k0 + kk;
      const bool inside = row < g.m && depth < k_end;
      a_tile[kk][mm] =
          inside
              ? g.a[TransA ? static_cast<long long>(depth) * g.lda + row : static_cast<long long>(row) * g.lda + depth]
              : 0.0f;
    }
    OFA_UNROLL
    for (int r = 0; r < TN * TK / kGemmThreads; ++r) {
      const int e = tid + r * kGemmThreads;
      const int nn = TransB ? e / TK : e % TN, kk = TransB ? e % TK : e / TN;
      const int col = n0 + nn, depth = k0 + kk;
      const bool inside = col < g.n && depth < k_end;
      b_tile[kk][nn] =
          inside
              ? g.b[TransB ? static_cast<long long>(col) * g.ldb + depth : static_cast<long long>(depth) * g.ldb + col]
              : 0.0f;
    }
    __syncthreads();
    OFA_UNROLL
    for (int kk = 0; kk < TK; ++kk) {
      const float4 a = *reinterpret_cast<const float4*>(&a_tile[kk][ty * 4]);
      const float4 b = *reinterpret_cast<const float4*>(&b_tile[kk][tx * 4]);
      const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
      OFA_UNROLL
      for (int i = 0; i < 4; ++i) {
        OFA_UNROLL
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
      }
    }
    __syncthreads();  // before the next step overwrites the tiles
  }

  float* const c = g.c + blockIdx.z * g.c_split_stride;
  OFA_UNROLL
  for (int i = 0; i < 4; ++i) {
    const int row = m0 + ty * 4 + i;
    OFA_UNROLL
    for (int j = 0; j < 4; ++j) {
      const int col = n0 + tx * 4 + j;
      if (row >= g.m || col >= g.n) continue;
      const float value = acc[i][j] + (g.bias != nullptr ? g.bias[col] : 0.0f);
      float* const target = c + static_cast<long long>(row) * g.ldc + col;
      *target = g.accumulate ? *target + value : value;
    }
  }
}

// k per split: whole tiles, as evenly as at most `splits` slices allow.
inline int gemm_k_per_split(int k, int splits) { return ceil_div(ceil_div(k, splits), kGemmTileK) * kGemmTileK; }

// How many slices of k the GEMM below runs when asked for at most `splits`.
inline int gemm_splits(int k, int splits) { return ceil_div(k, gemm_k_per_split(k, splits)); }

// Runs the GEMM in gemm_splits(args.k, splits) slices of k (GemmArgs; args.k_per_split is set
// here). m, n and k are positive.
template <bool TransA, bool TransB, Launcher L>
void gemm(const L& launcher, GemmArgs args, int splits) {
  args.k_per_split = gemm_k_per_split(args.k, splits);
  const dim3 grid(ceil_div(args.n, kGemmTileN), ceil_div(args.m, kGemmTileM), gemm_splits(args.k, splits));
  launcher.launch(gemm_kernel<TransA, TransB>, grid, dim3(kGemmThreads), 0, args);
}

}  // namespace ofa::cuda
