#include "kernels/cuda/emulation/context.h"

#if !OFA_EMU_ASSEMBLY_CONTEXT

namespace ofa::emu::detail {

void context_init(Context& context, std::byte* stack_low, std::size_t size, void (*entry)()) {
  getcontext(&context.state);
  context.state.uc_stack.ss_sp = stack_low;
  context.state.uc_stack.ss_size = size;
  context.state.uc_link = nullptr;
  makecontext(&context.state, entry, 0);
}

void context_switch(Context& from, const Context& to) { swapcontext(&from.state, &to.state); }

}  // namespace ofa::emu::detail

#endif
