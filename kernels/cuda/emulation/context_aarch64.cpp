#include "kernels/cuda/emulation/context.h"

#if OFA_EMU_ASSEMBLY_CONTEXT && defined(__aarch64__)

#include <cstdint>
#include <cstring>

// The aarch64 twin of context_x86_64.cpp: saves x19-x30, d8-d15 and FPCR in a 176-byte frame.
// A new fiber's first switch returns (x30) to ofa_emu_fiber_start, which calls the entry in x19.
asm(R"(
  .text
  .p2align 4
  .globl ofa_emu_switch
  .hidden ofa_emu_switch
  .type ofa_emu_switch, %function
ofa_emu_switch:
  sub sp, sp, #176
  stp x19, x20, [sp, #0]
  stp x21, x22, [sp, #16]
  stp x23, x24, [sp, #32]
  stp x25, x26, [sp, #48]
  stp x27, x28, [sp, #64]
  stp x29, x30, [sp, #80]
  stp d8, d9, [sp, #96]
  stp d10, d11, [sp, #112]
  stp d12, d13, [sp, #128]
  stp d14, d15, [sp, #144]
  mrs x9, fpcr
  str x9, [sp, #160]
  mov x9, sp
  str x9, [x0]
  mov sp, x1
  ldr x9, [sp, #160]
  msr fpcr, x9
  ldp x19, x20, [sp, #0]
  ldp x21, x22, [sp, #16]
  ldp x23, x24, [sp, #32]
  ldp x25, x26, [sp, #48]
  ldp x27, x28, [sp, #64]
  ldp x29, x30, [sp, #80]
  ldp d8, d9, [sp, #96]
  ldp d10, d11, [sp, #112]
  ldp d12, d13, [sp, #128]
  ldp d14, d15, [sp, #144]
  add sp, sp, #176
  ret
  .size ofa_emu_switch, .-ofa_emu_switch

  .p2align 4
  .globl ofa_emu_fiber_start
  .hidden ofa_emu_fiber_start
  .type ofa_emu_fiber_start, %function
ofa_emu_fiber_start:
  .cfi_startproc
  .cfi_undefined x30
  blr x19
  brk #0
  .cfi_endproc
  .size ofa_emu_fiber_start, .-ofa_emu_fiber_start
)");

extern "C" void ofa_emu_switch(void** save, void* load);
extern "C" void ofa_emu_fiber_start();

namespace ofa::emu::detail {

// The frame ofa_emu_switch pops, lowest address first.
struct InitialFrame {
  std::uint64_t x19_to_x28[10];
  std::uint64_t x29, x30;
  std::uint64_t d8_to_d15[8];
  std::uint64_t fpcr;
  std::uint64_t padding;
};
static_assert(sizeof(InitialFrame) == 176);

void context_init(Context& context, std::byte* stack_low, std::size_t size, void (*entry)()) {
  const auto top = reinterpret_cast<std::uintptr_t>(stack_low + size) & ~std::uintptr_t{15};
  InitialFrame frame{};
  asm volatile("mrs %0, fpcr" : "=r"(frame.fpcr));
  frame.x19_to_x28[0] = reinterpret_cast<std::uint64_t>(entry);
  frame.x30 = reinterpret_cast<std::uint64_t>(&ofa_emu_fiber_start);
  void* frame_address = reinterpret_cast<void*>(top - sizeof(InitialFrame));
  std::memcpy(frame_address, &frame, sizeof frame);
  context.stack_pointer = frame_address;
}

void context_switch(Context& from, const Context& to) { ofa_emu_switch(&from.stack_pointer, to.stack_pointer); }

}  // namespace ofa::emu::detail

#endif
