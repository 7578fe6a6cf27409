#include "kernels/cuda/emulation/fiber_stacks.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "kernels/error.h"

namespace ofa::emu::detail {

FiberStacks::FiberStacks() {
  void* mapping = mmap(nullptr, capacity * slot_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  OFA_CHECK(mapping != MAP_FAILED, "CUDA emulation", "cannot map fiber stacks: ", std::strerror(errno));
  mapping_ = static_cast<std::byte*>(mapping);
  for (std::size_t i = 0; i < capacity; ++i)
    OFA_CHECK(mprotect(mapping_ + i * slot_bytes, guard_bytes, PROT_NONE) == 0, "CUDA emulation",
              "cannot protect a fiber stack guard: ", std::strerror(errno));
}

FiberStacks::~FiberStacks() { munmap(mapping_, capacity * slot_bytes); }

}  // namespace ofa::emu::detail
