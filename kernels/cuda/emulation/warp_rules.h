#pragma once

#include <cstdint>

namespace ofa::emu::detail {

enum class WarpOp : std::uint8_t { sync, shfl_idx, shfl_up, shfl_down, shfl_xor, ballot, any, all };

const char* warp_op_name(WarpOp op);

constexpr bool is_shuffle(WarpOp op) {
  return op == WarpOp::shfl_idx || op == WarpOp::shfl_up || op == WarpOp::shfl_down || op == WarpOp::shfl_xor;
}

// The lane whose value `lane` receives from a shuffle, by the PTX shfl.sync rules with the c
// operand CUDA's __shfl_*_sync build from `width`: ((32 - width) << 8), plus 0x1f for all but
// up. Only the low five bits of `arg` count, as in the instruction; a source outside the
// lane's segment yields the lane itself.
constexpr unsigned shuffle_source(WarpOp op, unsigned lane, int arg, int width) {
  const unsigned segment_mask = (32u - unsigned(width)) & 31u;
  const unsigned b = unsigned(arg) & 31u;
  const unsigned first = lane & segment_mask;
  const unsigned last = first | (31u & ~segment_mask);
  switch (op) {
    case WarpOp::shfl_up: {
      const int j = int(lane) - int(b);
      return j >= int(first) ? unsigned(j) : lane;
    }
    case WarpOp::shfl_down: {
      const unsigned j = lane + b;
      return j <= last ? j : lane;
    }
    case WarpOp::shfl_xor: {
      const unsigned j = lane ^ b;
      return j <= last ? j : lane;
    }
    case WarpOp::shfl_idx: {
      const unsigned j = first | (b & ~segment_mask);
      return j <= last ? j : lane;
    }
    default:
      return lane;
  }
}

}  // namespace ofa::emu::detail
