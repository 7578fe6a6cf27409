#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cuda/emulation/call_site.h"
#include "kernels/cuda/emulation/context.h"
#include "kernels/cuda/emulation/fiber_stacks.h"
#include "kernels/cuda/emulation/grid.h"
#include "kernels/cuda/emulation/thread_block.h"
#include "kernels/cuda/emulation/warp_rules.h"

namespace ofa::emu::detail {

// Runs the threads of one block as fibers on the calling OS thread. A thread runs until it
// waits (barrier, warp operation) or ends, and hands control straight to the next runnable
// thread in the block's order (forward or reverse), which is how a missing barrier turns into
// a wrong value: the first thread reads shared memory its successors have not written yet.
// Each OS thread owns one Block and reuses its fibers' stacks.
class Block {
 public:
  Block();
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  void run(const LaunchPlan& plan, api::uint3 block_idx, bool reverse);

  // The Block whose fiber is running on this OS thread.
  static Block& current();

  // Called by the running fiber (thread_block.h, warp_functions.h).
  int barrier(int predicate, const CallSite& where);
  std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width,
                                const CallSite& where);

 private:
  enum class State : std::uint8_t { runnable, at_barrier, in_warp_op, exited };

  struct Thread {
    Context context;
    void* fake_stack;  // ASan's state for the fiber while it is switched out
    api::uint3 index;
    State state;
    // The posted warp operation, valid while in_warp_op.
    WarpOp op;
    unsigned mask;
    int arg;
    int width;
    std::uint64_t value;
    std::uint64_t result;
    CallSite site;  // of the barrier or warp operation it waits at
  };

  [[noreturn]] static void fiber_main();
  // Never returns, but is not declared [[noreturn]]: ASan would clear the whole fiber stack
  // before each call of a noreturn function.
  void finish_current();

  // The thread at position `p` of the run order (the mapping is its own inverse).
  std::size_t in_order(std::size_t p) const { return reverse_ ? size_ - 1 - p : p; }
  // The first runnable thread after `thread` in the run order, wrapping; size_ if none.
  std::size_t next_runnable(std::size_t thread) const;
  void switch_to(std::size_t next);
  void wait_for_others();
  void exchange(std::size_t warp_base, unsigned mask);
  // Aborts if a warp-mate waits at a warp operation whose mask includes `thread`, which is
  // about to wait at a barrier (or end) and so can never join it.
  void check_no_warp_waits_for(std::size_t thread, const char* doing, const CallSite* where) const;
  std::size_t first_in_state(State state) const;

  std::string describe(std::size_t thread) const;
  std::string describe_site(const CallSite& site) const;
  [[noreturn]] void deadlock(const char* context) const;

  FiberStacks stacks_;
  std::vector<Thread> threads_;
  std::unique_ptr<std::byte[]> dynamic_shared_;
  BlockInfo info_{};
  const LaunchPlan* plan_ = nullptr;
  std::size_t size_ = 0;
  bool reverse_ = false;
  std::size_t running_ = 0;
  std::size_t live_ = 0;
  std::size_t exited_ = 0;
  // Per warp, how many lanes wait in a warp operation (spares barriers the scan of the warp).
  std::array<int, FiberStacks::capacity / 32> in_warp_op_{};
  // The barrier being gathered: how many wait at it, where, and the predicate count.
  std::size_t at_barrier_ = 0;
  std::size_t barrier_first_ = 0;
  int barrier_tally_ = 0;
  int barrier_result_ = 0;
  // The OS thread's own context and stack, to return to when the last fiber ends.
  Context scheduler_{};
  void* scheduler_fake_stack_ = nullptr;
  const void* scheduler_stack_bottom_ = nullptr;
  std::size_t scheduler_stack_bytes_ = 0;
};

}  // namespace ofa::emu::detail
