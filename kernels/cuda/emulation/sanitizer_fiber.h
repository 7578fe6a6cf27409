#pragma once

#include <cstddef>

#include "kernels/cuda/emulation/config.h"

#if OFA_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

// ASan keeps one stack per OS thread; every fiber switch must be announced, or it takes the
// fiber stacks for corruption and clears whole stacks per switch (50x slower).

namespace ofa::emu::detail {

// Before switching to the stack [bottom, bottom + size). `fake_stack` keeps the leaving
// fiber's ASan state; nullptr when the leaving fiber has ended.
inline void announce_switch(void** fake_stack, const void* bottom, std::size_t size) {
#if OFA_EMU_ASAN
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#else
  (void)fake_stack, (void)bottom, (void)size;
#endif
}

// First thing after a switch lands, with what the arriving fiber left (nullptr when it starts).
inline void complete_switch(void* fake_stack) {
#if OFA_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#else
  (void)fake_stack;
#endif
}

// An ending fiber's frames never return, so their redzones would stay poisoned under the next
// fiber that takes the stack (and ASan would report the runtime's own stores there). Clears
// [from, top) of the stack, from somewhat below the caller's frame.
inline void forget_frames(std::byte* top) {
#if OFA_EMU_ASAN
  std::byte* const from = static_cast<std::byte*>(__builtin_frame_address(0)) - 4096;
  __asan_unpoison_memory_region(from, std::size_t(top - from));
#else
  (void)top;
#endif
}

}  // namespace ofa::emu::detail
