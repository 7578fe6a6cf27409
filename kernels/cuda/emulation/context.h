#pragma once

#include <cstddef>

// A fiber's saved machine state and the switch between two of them. x86-64 and aarch64 use a
// few lines of assembly (callee-saved registers, the floating-point control words, the stack
// pointer): glibc's swapcontext makes a signal-mask system call on every switch, which made
// barrier-heavy kernels 8x slower. Other machines, or OFA_EMU_UCONTEXT, take swapcontext.
#if !defined(OFA_EMU_UCONTEXT) && (defined(__x86_64__) || defined(__aarch64__))
#define OFA_EMU_ASSEMBLY_CONTEXT 1
#else
#define OFA_EMU_ASSEMBLY_CONTEXT 0
#include <ucontext.h>
#endif

namespace ofa::emu::detail {

#if OFA_EMU_ASSEMBLY_CONTEXT
struct Context {
  void* stack_pointer = nullptr;
};
#else
struct Context {
  ucontext_t state;
};
#endif

// Prepares `context` to start `entry` on the stack [stack_low, stack_low + size) at the next
// switch to it. `entry` must never return: a fiber ends by switching away for the last time.
void context_init(Context& context, std::byte* stack_low, std::size_t size, void (*entry)());

// Saves the running state into `from` and resumes `to`; returns when something switches back.
void context_switch(Context& from, const Context& to);

}  // namespace ofa::emu::detail
