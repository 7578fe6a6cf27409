#include "kernels/cuda/emulation/grid.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "kernels/cuda/emulation/block.h"
#include "kernels/cuda/emulation/runtime_api.h"
#include "kernels/error.h"

namespace ofa::emu {
namespace {

std::atomic<ThreadOrder> order{ThreadOrder::forward};
std::atomic<int> workers{0};

// Limits of the GPUs we build for (sm_80, sm_90).
constexpr std::uint64_t max_block_threads = 1024;
constexpr std::size_t max_dynamic_shared_bytes = 227 * 1024;

detail::Block& this_thread_block() {
  thread_local detail::Block block;
  return block;
}

// The kernel's name for messages: its symbol when the executable exports it (-rdynamic),
// otherwise its address.
std::string kernel_name(const void* kernel) {
  Dl_info info{};
  if (dladdr(kernel, &info) != 0 && info.dli_sname != nullptr) {
    int status = 0;
    const std::unique_ptr<char, decltype(&std::free)> demangled(
        abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status), &std::free);
    return status == 0 ? demangled.get() : info.dli_sname;
  }
  return concat("the kernel at ", kernel);
}

std::string format(api::dim3 v) { return concat("(", v.x, ",", v.y, ",", v.z, ")"); }

void validate(const detail::LaunchPlan& plan, const void* kernel) {
  const api::dim3 grid = plan.grid, block = plan.block;
  const auto reject = [&](const auto&... why) {
    fail(concat("CUDA launch of ", kernel_name(kernel), " with grid ", format(grid), " and block ", format(block)), why...);
  };
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0)
    reject("a dimension is 0");
  if (block.x > 1024 || block.y > 1024 || block.z > 64) reject("the block exceeds (1024,1024,64)");
  if (std::uint64_t{block.x} * block.y * block.z > max_block_threads)
    reject("the block has ", std::uint64_t{block.x} * block.y * block.z, " threads; at most ", max_block_threads);
  if (grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) reject("the grid exceeds (2^31-1,65535,65535)");
  if (plan.shared_bytes > max_dynamic_shared_bytes)
    reject(plan.shared_bytes, " bytes of dynamic shared memory; at most ", max_dynamic_shared_bytes);
  for (std::size_t i = 0; i < plan.argument_count; ++i) {
    const void* pointer = plan.pointer_arguments[i];
    if (pointer != nullptr && !is_device_range(pointer, 0))
      reject("argument ", i + 1, " (", pointer, ") is not device memory; allocate it with cudaMalloc");
  }
}

}  // namespace

void set_thread_order(ThreadOrder value) { order = value; }

void set_worker_threads(int threads) { workers = std::max(threads, 0); }

namespace detail {

void run_grid(const LaunchPlan& plan, const void* kernel) {
  validate(plan, kernel);
  const api::dim3 grid = plan.grid;
  const auto blocks = std::int64_t{grid.x} * grid.y * grid.z;
  const bool reverse = order == ThreadOrder::reverse;
  // Reverse order runs the blocks backwards too, for kernels that assume an order of blocks.
  const auto block_index = [&](std::int64_t i) {
    const auto b = std::uint64_t(reverse ? blocks - 1 - i : i);
    return api::uint3{unsigned(b % grid.x), unsigned(b / grid.x % grid.y), unsigned(b / (std::uint64_t{grid.x} * grid.y))};
  };
  const int requested = workers > 0 ? workers.load() : omp_get_max_threads();
  const auto threads = plan.shared_statics_are_global ? 1 : int(std::min<std::int64_t>(requested, blocks));
  if (threads <= 1) {
    Block& block = this_thread_block();
    for (std::int64_t i = 0; i < blocks; ++i) block.run(plan, block_index(i), reverse);
    return;
  }
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (std::int64_t i = 0; i < blocks; ++i) this_thread_block().run(plan, block_index(i), reverse);
}

}  // namespace detail
}  // namespace ofa::emu
