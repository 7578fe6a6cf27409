#include "kernels/cuda/emulation/fatal.h"

#include <cstdio>
#include <cstdlib>

namespace ofa::emu::detail {

void fatal(const std::string& message) {
  std::fprintf(stderr, "ofa CUDA emulation: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace ofa::emu::detail
