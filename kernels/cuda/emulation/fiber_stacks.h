#pragma once

#include <cstddef>

#include "kernels/cuda/emulation/config.h"

namespace ofa::emu::detail {

// The stacks of one block's fibers: one mapping, each stack above an inaccessible guard region,
// so a stack overflow faults instead of writing into the neighbouring fiber's stack. Only
// address space is reserved up front; pages are committed as touched, and an OS thread keeps
// its stacks for all the blocks it runs.
class FiberStacks {
 public:
  static constexpr std::size_t capacity = 1024;  // CUDA's most threads per block
  // Usable bytes per stack: kernels keep little on the stack; ASan's frames and reports more.
  static constexpr std::size_t stack_bytes = OFA_EMU_ASAN ? 256 * 1024 : 64 * 1024;
  // Stacks start at staggered offsets: slots are a power of two apart, so equal offsets would
  // put every fiber's top frame in one cache set and every switch would miss (6x slower).
  static constexpr std::size_t stagger_bytes = 128 * 1024;
  static constexpr std::size_t region_bytes = stack_bytes + stagger_bytes;
  static constexpr std::size_t guard_bytes = 64 * 1024;

  FiberStacks();
  FiberStacks(const FiberStacks&) = delete;
  FiberStacks& operator=(const FiberStacks&) = delete;
  ~FiberStacks();

  // The lowest usable address of stack `index` < capacity; its region is region_bytes long.
  std::byte* low(std::size_t index) const { return mapping_ + index * slot_bytes + guard_bytes; }
  // Where the stack starts (it grows down), staggered across cache lines and pages.
  std::byte* top(std::size_t index) const {
    return low(index) + region_bytes - (index % 64) * 64 - (index / 64 % 32) * 4096;
  }

 private:
  static constexpr std::size_t slot_bytes = guard_bytes + region_bytes;
  std::byte* mapping_;
};

}  // namespace ofa::emu::detail
