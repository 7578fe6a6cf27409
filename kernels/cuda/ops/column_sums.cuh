#pragma once

#include <algorithm>
#include <cstddef>

#include "kernels/cuda/launch.h"
#include "kernels/error.h"

// Per-channel sums over the rows of NHWC data: batch norm's statistics and gradient sums over
// N*H*W rows, global pooling's sums over each image's H*W rows. Two launches with a fixed
// order of addition, so results are deterministic without atomics:
//   1. a block of 32 channels x 8 row-threads sums one chunk of rows: each thread every 8th
//      row of the chunk in double, then the 8 row-threads of a channel in order;
//   2. a block per 32 channels of a segment sums the chunks the same way and hands the totals
//      to a finisher, which writes the op's per-channel results.
// The data is `segments` independent [rows, channels] blocks (images, or one batch).
//
// Terms is a trivially copyable functor with
//   __device__ Channel for_channel(int segment, int channel) const;
// whose Channel holds per-channel constants and has
//   __device__ void operator()(long long element, float (&terms)[K]) const;
// giving K values to sum for the element at flat index `element` (and free to write that
// element's outputs: each element is visited exactly once). Finish has
//   __device__ void operator()(int segment, int channel, const double (&totals)[K]) const.

namespace ofa::cuda::columns {

inline constexpr int kTile = 32;  // channels per block: a warp reads 128 contiguous bytes of a row
inline constexpr int kRowThreads = 8;
// Stage 1 aims at this many blocks (several waves on an H100), each chunk at least 4 rows a thread.
inline constexpr long long kTargetBlocks = 2048;
inline constexpr long long kMinChunkRows = 4 * kRowThreads;

struct Grid {
  long long rows;  // per segment
  int channels;
  int segments;
  int chunks;  // per segment
  long long chunk_rows;

  int tiles() const { return (channels + kTile - 1) / kTile; }
  // Doubles of stage 1's partial sums for K terms.
  std::size_t partial_count(int k) const {
    return std::size_t(segments) * std::size_t(chunks) * std::size_t(k) * std::size_t(channels);
  }
};

inline Grid grid_for(const char* op, long long rows, int channels, int segments) {
  OFA_CHECK(rows >= 1 && channels >= 1 && segments >= 1, op, "needs at least one row, channel and segment, got ", rows,
            " rows, ", channels, " channels, ", segments, " segments");
  OFA_CHECK(segments <= 65535, op, "at most 65535 images per call, got ", segments);
  Grid g{rows, channels, segments, 1, rows};
  const long long blocks_per_chunk = static_cast<long long>(g.tiles()) * segments;
  const long long chunks = std::clamp<long long>(
      std::min((rows + kMinChunkRows - 1) / kMinChunkRows, kTargetBlocks / blocks_per_chunk), 1, 65535);
  g.chunk_rows = (rows + chunks - 1) / chunks;
  g.chunks = int((rows + g.chunk_rows - 1) / g.chunk_rows);  // no empty chunk
  return g;
}

template <int K, class Terms>
__global__ void __launch_bounds__(kTile* kRowThreads) partial_sums_kernel(Terms terms, Grid g, double* partials) {
  __shared__ double staged[K][kRowThreads][kTile];
  const int tx = int(threadIdx.x), ty = int(threadIdx.y);
  const int channel = int(blockIdx.x) * kTile + tx, chunk = int(blockIdx.y), segment = int(blockIdx.z);
  double sums[K] = {};
  if (channel < g.channels) {
    const auto at = terms.for_channel(segment, channel);
    const long long begin = chunk * g.chunk_rows;
    const long long end = begin + g.chunk_rows < g.rows ? begin + g.chunk_rows : g.rows;
    const long long segment_row = static_cast<long long>(segment) * g.rows;
    for (long long row = begin + ty; row < end; row += kRowThreads) {
      float t[K];
      at((segment_row + row) * g.channels + channel, t);
      OFA_UNROLL
      for (int k = 0; k < K; ++k) sums[k] += double(t[k]);
    }
  }
  OFA_UNROLL
  for (int k = 0; k < K; ++k) staged[k][ty][tx] = sums[k];
  __syncthreads();
  if (ty != 0 || channel >= g.channels) return;
  const long long out = (static_cast<long long>(segment) * g.chunks + chunk) * K;
  OFA_UNROLL
  for (int k = 0; k < K; ++k) {
    double total = 0.0;
    for (int y = 0; y < kRowThreads; ++y) total += staged[k][y][tx];
    partials[(out + k) * g.channels + channel] = total;
  }
}

template <int K, class Finish>
__global__ void __launch_bounds__(kTile* kRowThreads)
    totals_kernel(const double* __restrict__ partials, Grid g, Finish finish) {
  __shared__ double staged[K][kRowThreads][kTile];
  const int tx = int(threadIdx.x), ty = int(threadIdx.y);
  const int channel = int(blockIdx.x) * kTile + tx, segment = int(blockIdx.y);
  double sums[K] = {};
  if (channel < g.channels)
    for (int chunk = ty; chunk < g.chunks; chunk += kRowThreads) {
      const long long at = (static_cast<long long>(segment) * g.chunks + chunk) * K;
      OFA_UNROLL
      for (int k = 0; k < K; ++k) sums[k] += partials[(at + k) * g.channels + channel];
    }
  OFA_UNROLL
  for (int k = 0; k < K; ++k) staged[k][ty][tx] = sums[k];
  __syncthreads();
  if (ty != 0 || channel >= g.channels) return;
  double totals[K];
  OFA_UNROLL
  for (int k = 0; k < K; ++k) {
    totals[k] = 0.0;
    for (int y = 0; y < kRowThreads; ++y) totals[k] += staged[k][y][tx];
  }
  finish(segment, channel, totals);
}

// Runs both stages; `partials` holds g.partial_count(K) doubles.
template <int K, Launcher L, class Terms, class Finish>
void sum_columns(const L& launcher, const Grid& g, const Terms& terms, const Finish& finish, double* partials) {
  const dim3 block(kTile, kRowThreads);
  launcher.launch(partial_sums_kernel<K, Terms>, dim3(unsigned(g.tiles()), unsigned(g.chunks), unsigned(g.segments)),
                  block, 0, terms, g, partials);
  launcher.launch(totals_kernel<K, Finish>, dim3(unsigned(g.tiles()), unsigned(g.segments)), block, 0, partials, g,
                  finish);
}

}  // namespace ofa::cuda::columns
