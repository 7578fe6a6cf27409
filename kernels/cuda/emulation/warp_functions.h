#pragma once

#include <concepts>
#include <cstdint>
#include <cstring>

#include "kernels/cuda/emulation/call_site.h"
#include "kernels/cuda/emulation/warp_rules.h"

// Warp shuffles, votes and __syncwarp. Each lane posts its operand and waits; once every lane
// of the mask has posted the same operation the exchange happens at once (block.cpp).

namespace ofa::emu::detail {

// Posts this lane's operand and returns what the operation gives it. Aborts, naming block and
// thread, on a mask that leaves out the caller or names an exited or missing lane, on lanes of
// one mask at different operations, and on deadlock.
std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width, CallSite where);

// The types CUDA overloads the shuffles for.
template <class T>
concept ShuffleType = std::same_as<T, int> || std::same_as<T, unsigned int> || std::same_as<T, long> ||
                      std::same_as<T, unsigned long> || std::same_as<T, long long> ||
                      std::same_as<T, unsigned long long> || std::same_as<T, float> || std::same_as<T, double>;

template <ShuffleType T>
T shuffle(WarpOp op, unsigned mask, T value, int arg, int width, CallSite where) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof value);
  bits = warp_collective(op, mask, bits, arg, width, where);
  T result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

}  // namespace ofa::emu::detail

namespace ofa::emu::api {

template <detail::ShuffleType T>
T __shfl_sync(unsigned mask, T var, int srcLane, int width = 32, detail::CallSite where = detail::CallSite::here()) {
  return detail::shuffle(detail::WarpOp::shfl_idx, mask, var, srcLane, width, where);
}

template <detail::ShuffleType T>
T __shfl_up_sync(unsigned mask, T var, unsigned int delta, int width = 32,
                 detail::CallSite where = detail::CallSite::here()) {
  return detail::shuffle(detail::WarpOp::shfl_up, mask, var, int(delta), width, where);
}

template <detail::ShuffleType T>
T __shfl_down_sync(unsigned mask, T var, unsigned int delta, int width = 32,
                   detail::CallSite where = detail::CallSite::here()) {
  return detail::shuffle(detail::WarpOp::shfl_down, mask, var, int(delta), width, where);
}

template <detail::ShuffleType T>
T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = 32,
                  detail::CallSite where = detail::CallSite::here()) {
  return detail::shuffle(detail::WarpOp::shfl_xor, mask, var, laneMask, width, where);
}

inline unsigned __ballot_sync(unsigned mask, int predicate, detail::CallSite where = detail::CallSite::here()) {
  return unsigned(detail::warp_collective(detail::WarpOp::ballot, mask, predicate != 0, 0, 32, where));
}

inline int __any_sync(unsigned mask, int predicate, detail::CallSite where = detail::CallSite::here()) {
  return int(detail::warp_collective(detail::WarpOp::any, mask, predicate != 0, 0, 32, where));
}

inline int __all_sync(unsigned mask, int predicate, detail::CallSite where = detail::CallSite::here()) {
  return int(detail::warp_collective(detail::WarpOp::all, mask, predicate != 0, 0, 32, where));
}

inline void __syncwarp(unsigned mask = 0xffffffffu, detail::CallSite where = detail::CallSite::here()) {
  detail::warp_collective(detail::WarpOp::sync, mask, 0, 0, 32, where);
}

}  // namespace ofa::emu::api
