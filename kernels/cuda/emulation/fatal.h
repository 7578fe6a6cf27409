#pragma once

#include <string>

namespace ofa::emu::detail {

// A kernel bug the emulator found (divergent barrier, deadlock, bad warp mask): fibers cannot
// unwind through the scheduler, so it prints the message and aborts.
[[noreturn]] void fatal(const std::string& message);

}  // namespace ofa::emu::detail
