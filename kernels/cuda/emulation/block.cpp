#include "kernels/cuda/emulation/block.h"

#include <pthread.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "kernels/cuda/emulation/fatal.h"
#include "kernels/cuda/emulation/sanitizer_fiber.h"
#include "kernels/error.h"

namespace ofa::emu::detail {

constinit thread_local const api::uint3* current_thread_idx = nullptr;
constinit thread_local const BlockInfo* current_block_info = nullptr;

namespace {

constinit thread_local Block* current_block = nullptr;

// What a lane receives from a lane outside the shuffle's mask (undefined in CUDA): NaN or -1.
constexpr std::uint64_t poison_bits = ~std::uint64_t{0};

std::string format(api::uint3 v) { return concat("(", v.x, ",", v.y, ",", v.z, ")"); }

std::string hex(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

bool in_mask(unsigned mask, std::size_t lane) { return ((mask >> lane) & 1u) != 0; }

}  // namespace

bool same_site(const CallSite& a, const CallSite& b) {
  return a.line == b.line && a.column == b.column && (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

const char* warp_op_name(WarpOp op) {
  switch (op) {
    case WarpOp::sync:
      return "__syncwarp";
    case WarpOp::shfl_idx:
      return "__shfl_sync";
    case WarpOp::shfl_up:
      return "__shfl_up_sync";
    case WarpOp::shfl_down:
      return "__shfl_down_sync";
    case WarpOp::shfl_xor:
      return "__shfl_xor_sync";
    case WarpOp::ballot:
      return "__ballot_sync";
    case WarpOp::any:
      return "__any_sync";
    case WarpOp::all:
      return "__all_sync";
  }
  return "a warp operation";
}

int block_barrier(int predicate, CallSite where) { return Block::current().barrier(predicate, where); }

std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width, CallSite where) {
  return Block::current().warp_collective(op, mask, value, arg, width, where);
}

Block::Block() : threads_(FiberStacks::capacity) {
  // ASan must be told the OS thread's own stack when the last fiber switches back to it.
  pthread_attr_t attributes;
  void* bottom = nullptr;
  if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
    pthread_attr_getstack(&attributes, &bottom, &scheduler_stack_bytes_);
    pthread_attr_destroy(&attributes);
  }
  scheduler_stack_bottom_ = bottom;
}

Block& Block::current() {
  if (current_block == nullptr) fatal("a device function (__syncthreads, a warp operation) was called outside a kernel");
  return *current_block;
}

void Block::run(const LaunchPlan& plan, api::uint3 block_idx, bool reverse) {
  plan_ = &plan;
  reverse_ = reverse;
  const api::dim3 dim = plan.block;
  size_ = std::size_t{dim.x} * dim.y * dim.z;
  // Exactly the requested size, so ASan sees overruns; 0xFF bytes read as NaN until written.
  dynamic_shared_ = std::make_unique_for_overwrite<std::byte[]>(plan.shared_bytes);
  std::memset(dynamic_shared_.get(), 0xFF, plan.shared_bytes);
  info_ = {block_idx, plan.block, plan.grid, dynamic_shared_.get()};
  for (std::size_t i = 0; i < size_; ++i) {
    Thread& thread = threads_[i];
    thread.fake_stack = nullptr;
    thread.index = {unsigned(i % dim.x), unsigned(i / dim.x % dim.y), unsigned(i / (std::size_t{dim.x} * dim.y))};
    thread.state = State::runnable;
    context_init(thread.context, stacks_.low(i), std::size_t(stacks_.top(i) - stacks_.low(i)), &Block::fiber_main);
  }
  live_ = size_;
  exited_ = 0;
  at_barrier_ = 0;
  std::fill(in_warp_op_.begin(), in_warp_op_.end(), 0);

  current_block = this;
  current_block_info = &info_;
  running_ = in_order(0);
  current_thread_idx = &threads_[running_].index;
  announce_switch(&scheduler_fake_stack_, stacks_.low(running_), FiberStacks::region_bytes);
  context_switch(scheduler_, threads_[running_].context);
  complete_switch(scheduler_fake_stack_);

  current_block = nullptr;
  current_block_info = nullptr;
  current_thread_idx = nullptr;
  dynamic_shared_.reset();
}

void Block::fiber_main() {
  complete_switch(nullptr);
  Block& block = *current_block;
  block.plan_->invoke(block.plan_->call);
  block.finish_current();
  __builtin_unreachable();
}

void Block::finish_current() {
  Thread& self = threads_[running_];
  if (at_barrier_ > 0)
    fatal(concat(describe(running_), " returned while ", describe(barrier_first_), " waits at __syncthreads ",
                 describe_site(threads_[barrier_first_].site), "; every thread of a block must reach every barrier"));
  check_no_warp_waits_for(running_, "returned", nullptr);
  self.state = State::exited;
  --live_;
  ++exited_;
  forget_frames(stacks_.top(running_));
  if (live_ == 0) {
    announce_switch(nullptr, scheduler_stack_bottom_, scheduler_stack_bytes_);
    context_switch(self.context, scheduler_);
  } else {
    const std::size_t next = next_runnable(running_);
    if (next == size_) deadlock("after a thread returned");
    running_ = next;
    current_thread_idx = &threads_[next].index;
    announce_switch(nullptr, stacks_.low(next), FiberStacks::region_bytes);
    context_switch(self.context, threads_[next].context);
  }
}

std::size_t Block::next_runnable(std::size_t thread) const {
  const std::size_t position = in_order(thread);
  for (std::size_t step = 1; step <= size_; ++step) {
    const std::size_t candidate = in_order((position + step) % size_);
    if (threads_[candidate].state == State::runnable) return candidate;
  }
  return size_;
}

void Block::switch_to(std::size_t next) {
  Thread& self = threads_[running_];
  running_ = next;
  current_thread_idx = &threads_[next].index;
  announce_switch(&self.fake_stack, stacks_.low(next), FiberStacks::region_bytes);
  context_switch(self.context, threads_[next].context);
  complete_switch(self.fake_stack);
}

void Block::wait_for_others() {
  const std::size_t next = next_runnable(running_);
  if (next == size_) deadlock("no thread can run");
  switch_to(next);
}

int Block::barrier(int predicate, const CallSite& where) {
  if (exited_ > 0)
    fatal(concat(describe(running_), " waits at __syncthreads ", describe_site(where), " but ",
                 describe(first_in_state(State::exited)), " has returned; every thread of a block must reach every barrier"));
  check_no_warp_waits_for(running_, "waits at __syncthreads", &where);
  if (at_barrier_ == 0) {
    barrier_first_ = running_;
    barrier_tally_ = 0;
  } else if (!same_site(where, threads_[barrier_first_].site)) {
    fatal(concat("divergent __syncthreads: ", describe(running_), " waits ", describe_site(where), " but ",
                 describe(barrier_first_), " waits ", describe_site(threads_[barrier_first_].site)));
  }
  Thread& self = threads_[running_];
  self.state = State::at_barrier;
  self.site = where;
  barrier_tally_ += predicate != 0;
  if (++at_barrier_ == live_) {
    barrier_result_ = barrier_tally_;
    at_barrier_ = 0;
    for (std::size_t i = 0; i < size_; ++i) threads_[i].state = State::runnable;
    // Every phase between barriers starts again from the head of the order.
    if (in_order(0) != running_) switch_to(in_order(0));
  } else {
    wait_for_others();
  }
  // Still this barrier's count: the next one cannot complete before this thread arrives there.
  return barrier_result_;
}

std::uint64_t Block::warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width,
                                     const CallSite& where) {
  const std::size_t lane = running_ % 32, base = running_ - lane;
  const auto calls = [&] {
    return concat(describe(running_), " calls ", warp_op_name(op), " ", describe_site(where), " with mask ", hex(mask));
  };
  if (!in_mask(mask, lane)) fatal(concat(calls(), ", which leaves out its own lane ", lane));
  if (is_shuffle(op) && (width < 1 || width > 32 || !std::has_single_bit(unsigned(width))))
    fatal(concat(calls(), " and width ", width, "; the width must be a power of two up to 32"));
  Thread& self = threads_[running_];
  self.state = State::in_warp_op;
  self.op = op;
  self.mask = mask;
  self.arg = arg;
  self.width = width;
  self.value = value;
  self.site = where;
  ++in_warp_op_[running_ / 32];

  int waiting = 0;
  for (std::size_t j = 0; j < 32; ++j) {
    if (!in_mask(mask, j)) continue;
    const std::size_t other = base + j;
    if (other >= size_)
      fatal(concat(calls(), ", which names lane ", j, ", but the block has ", size_,
                   " threads and its last warp is partial: leave the missing lanes out of the mask"));
    const Thread& peer = threads_[other];
    switch (peer.state) {
      case State::exited:
        fatal(concat(calls(), ", which names lane ", j, ", but ", describe(other), " has returned"));
      case State::at_barrier:
        fatal(concat("deadlock: ", calls(), ", which names lane ", j, ", but ", describe(other),
                     " waits at __syncthreads ", describe_site(peer.site)));
      case State::in_warp_op:
        if (peer.op != op || peer.mask != mask || peer.width != width)
          fatal(concat("mismatched warp operations: ", calls(), " and width ", width, ", but ", describe(other),
                       " calls ", warp_op_name(peer.op), " ", describe_site(peer.site), " with mask ", hex(peer.mask),
                       " and width ", peer.width));
        ++waiting;
        break;
      case State::runnable:
        break;
    }
  }
  if (waiting == std::popcount(mask)) {
    exchange(base, mask);
  } else {
    wait_for_others();
  }
  return self.result;
}

void Block::exchange(std::size_t base, unsigned mask) {
  const WarpOp op = threads_[base + std::size_t(std::countr_zero(mask))].op;
  if (is_shuffle(op)) {
    for (std::size_t j = 0; j < 32; ++j) {
      if (!in_mask(mask, j)) continue;
      Thread& thread = threads_[base + j];
      const unsigned source = shuffle_source(op, unsigned(j), thread.arg, thread.width);
      thread.result = in_mask(mask, source) ? threads_[base + source].value : poison_bits;
    }
  } else {
    unsigned votes = 0;
    for (std::size_t j = 0; j < 32; ++j)
      if (in_mask(mask, j) && threads_[base + j].value != 0) votes |= 1u << j;
    const std::uint64_t result = op == WarpOp::ballot ? votes : op == WarpOp::any ? votes != 0 : votes == mask;
    for (std::size_t j = 0; j < 32; ++j)
      if (in_mask(mask, j)) threads_[base + j].result = result;
  }
  for (std::size_t j = 0; j < 32; ++j)
    if (in_mask(mask, j)) threads_[base + j].state = State::runnable;
  in_warp_op_[base / 32] -= std::popcount(mask);
}

void Block::check_no_warp_waits_for(std::size_t thread, const char* doing, const CallSite* where) const {
  const std::size_t lane = thread % 32, base = thread - lane;
  if (in_warp_op_[base / 32] == 0) return;
  for (std::size_t other = base; other < base + 32 && other < size_; ++other) {
    const Thread& peer = threads_[other];
    if (peer.state == State::in_warp_op && in_mask(peer.mask, lane))
      fatal(concat("deadlock: ", describe(thread), " ", doing, where ? concat(" ", describe_site(*where)) : "",
                   " while ", describe(other), " waits for it in ", warp_op_name(peer.op), " ",
                   describe_site(peer.site), " with mask ", hex(peer.mask)));
  }
}

std::size_t Block::first_in_state(State state) const {
  std::size_t i = 0;
  while (i < size_ && threads_[i].state != state) ++i;
  return i;
}

std::string Block::describe(std::size_t thread) const {
  return concat("thread ", format(threads_[thread].index), " of block ", format(info_.block_idx));
}

std::string Block::describe_site(const CallSite& site) const {
  return concat("at ", site.file, ":", site.line, ":", site.column, " (", site.function, ")");
}

void Block::deadlock(const char* context) const {
  std::string waits;
  int listed = 0;
  for (std::size_t i = 0; i < size_ && listed < 8; ++i) {
    const Thread& thread = threads_[i];
    if (thread.state == State::in_warp_op) {
      waits += concat("\n  ", describe(i), " waits in ", warp_op_name(thread.op), " ", describe_site(thread.site),
                      " with mask ", hex(thread.mask));
      ++listed;
    } else if (thread.state == State::at_barrier) {
      waits += concat("\n  ", describe(i), " waits at __syncthreads ", describe_site(thread.site));
      ++listed;
    }
  }
  fatal(concat("deadlock in block ", format(info_.block_idx), " (", context, "):", waits));
}

}  // namespace ofa::emu::detail
