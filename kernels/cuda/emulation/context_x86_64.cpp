#include "kernels/cuda/emulation/context.h"

#if OFA_EMU_ASSEMBLY_CONTEXT && defined(__x86_64__)

#include <cstdint>
#include <cstring>

// ofa_emu_switch(void** save, void* load): pushes the callee-saved registers and the MXCSR and
// x87 control words, stores the stack pointer in *save, takes `load` as the stack pointer and
// pops the same frame from it. Everything else the System V ABI lets a call clobber.
//
// ofa_emu_fiber_start: where a new fiber's first switch "returns" to; calls the entry in r12.
// It is the outermost frame of a fiber stack (.cfi_undefined rip ends backtraces there).
asm(R"(
  .text
  .p2align 4
  .globl ofa_emu_switch
  .hidden ofa_emu_switch
  .type ofa_emu_switch, @function
ofa_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $16, %rsp
  stmxcsr 8(%rsp)
  fnstcw (%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr 8(%rsp)
  fldcw (%rsp)
  addq $16, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size ofa_emu_switch, .-ofa_emu_switch

  .p2align 4
  .globl ofa_emu_fiber_start
  .hidden ofa_emu_fiber_start
  .type ofa_emu_fiber_start, @function
ofa_emu_fiber_start:
  .cfi_startproc
  .cfi_undefined rip
  callq *%r12
  ud2
  .cfi_endproc
  .size ofa_emu_fiber_start, .-ofa_emu_fiber_start
)");

extern "C" void ofa_emu_switch(void** save, void* load);
extern "C" void ofa_emu_fiber_start();

namespace ofa::emu::detail {

// The frame ofa_emu_switch pops, lowest address first.
struct InitialFrame {
  std::uint16_t x87_control;
  std::uint16_t padding[3];
  std::uint32_t mxcsr;
  std::uint32_t padding2;
  std::uint64_t r15, r14, r13, r12, rbx, rbp;
  void (*return_address)();
};
static_assert(sizeof(InitialFrame) == 72);

void context_init(Context& context, std::byte* stack_low, std::size_t size, void (*entry)()) {
  // After the frame is popped and `ret` taken, rsp is 16-byte aligned for the call in
  // ofa_emu_fiber_start, as the ABI requires at a call.
  const auto top = (reinterpret_cast<std::uintptr_t>(stack_low + size) & ~std::uintptr_t{15}) - 16;
  InitialFrame frame{};
  asm volatile("fnstcw %0" : "=m"(frame.x87_control));
  asm volatile("stmxcsr %0" : "=m"(frame.mxcsr));
  frame.r12 = reinterpret_cast<std::uint64_t>(entry);
  frame.return_address = &ofa_emu_fiber_start;
  void* frame_address = reinterpret_cast<void*>(top - sizeof(InitialFrame));
  std::memcpy(frame_address, &frame, sizeof frame);
  context.stack_pointer = frame_address;
}

void context_switch(Context& from, const Context& to) { ofa_emu_switch(&from.stack_pointer, to.stack_pointer); }

}  // namespace ofa::emu::detail

#endif
