#include "kernels/cuda/emulation/runtime_api.h"

#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>

namespace ofa::emu {

namespace api {
struct EmulatedStream {};
}  // namespace api

namespace {

// Live allocations by start address, for the pointer checks, and their total against the
// emulated device's size.
struct Allocations {
  std::mutex mutex;
  std::map<std::uintptr_t, std::size_t> sizes;
  std::size_t in_use = 0;
  std::size_t limit = std::numeric_limits<std::size_t>::max();
};

Allocations& allocations() {
  static Allocations instance;
  return instance;
}

constexpr std::align_val_t device_alignment{256};  // cudaMalloc's guarantee

// Like CUDA's, the last error sticks per host thread until read.
thread_local api::cudaError_t last_error = api::cudaSuccess;

api::cudaError_t record(api::cudaError_t error) {
  if (error != api::cudaSuccess) last_error = error;
  return error;
}

bool is_host_range(const void* pointer, std::size_t bytes) {
  return pointer != nullptr && !is_device_range(pointer, bytes);
}

// Streams created and not yet destroyed; the null (default) stream always exists.
struct Streams {
  std::mutex mutex;
  std::set<api::cudaStream_t> live;
};

Streams& streams() {
  static Streams instance;
  return instance;
}

bool is_live_stream(api::cudaStream_t stream) {
  if (stream == nullptr) return true;
  Streams& all = streams();
  const std::lock_guard lock(all.mutex);
  return all.live.count(stream) != 0;
}

bool copy_is_valid(void* dst, const void* src, std::size_t bytes, api::cudaMemcpyKind kind) {
  switch (kind) {
    case api::cudaMemcpyHostToHost:
      return is_host_range(dst, bytes) && is_host_range(src, bytes);
    case api::cudaMemcpyHostToDevice:
      return is_device_range(dst, bytes) && is_host_range(src, bytes);
    case api::cudaMemcpyDeviceToHost:
      return is_host_range(dst, bytes) && is_device_range(src, bytes);
    case api::cudaMemcpyDeviceToDevice:
      return is_device_range(dst, bytes) && is_device_range(src, bytes);
    case api::cudaMemcpyDefault:
      return dst != nullptr && src != nullptr;
  }
  return false;
}

}  // namespace

bool is_device_range(const void* pointer, std::size_t bytes) {
  const auto begin = reinterpret_cast<std::uintptr_t>(pointer);
  Allocations& all = allocations();
  const std::lock_guard lock(all.mutex);
  auto after = all.sizes.upper_bound(begin);
  if (after == all.sizes.begin()) return false;
  const auto& [start, size] = *std::prev(after);
  return begin - start <= size && bytes <= size - (begin - start);
}

void set_device_memory_limit(std::size_t bytes) {
  Allocations& all = allocations();
  const std::lock_guard lock(all.mutex);
  all.limit = bytes;
}

std::size_t device_memory_in_use() {
  Allocations& all = allocations();
  const std::lock_guard lock(all.mutex);
  return all.in_use;
}

namespace api {

cudaError_t cudaMalloc(void** pointer, std::size_t bytes) {
  if (pointer == nullptr) return record(cudaErrorInvalidValue);
  Allocations& all = allocations();
  {
    const std::lock_guard lock(all.mutex);
    if (bytes > all.limit - all.in_use) return record(cudaErrorMemoryAllocation);
    all.in_use += bytes;  // reserved before the lock is dropped, so racing calls cannot overshoot
  }
  void* memory = ::operator new(bytes == 0 ? 1 : bytes, device_alignment, std::nothrow);
  const std::lock_guard lock(all.mutex);
  if (memory == nullptr) {
    all.in_use -= bytes;
    return record(cudaErrorMemoryAllocation);
  }
  std::memset(memory, 0xFF, bytes);
  all.sizes[reinterpret_cast<std::uintptr_t>(memory)] = bytes;
  *pointer = memory;
  return cudaSuccess;
}

cudaError_t cudaFree(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  {
    Allocations& all = allocations();
    const std::lock_guard lock(all.mutex);
    const auto found = all.sizes.find(reinterpret_cast<std::uintptr_t>(pointer));
    if (found == all.sizes.end()) return record(cudaErrorInvalidDevicePointer);
    all.in_use -= found->second;
    all.sizes.erase(found);
  }
  ::operator delete(pointer, device_alignment);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  if (!copy_is_valid(dst, src, bytes, kind)) return record(cudaErrorInvalidValue);
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  if (!is_live_stream(stream)) return record(cudaErrorInvalidResourceHandle);
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* pointer, int value, std::size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  if (!is_device_range(pointer, bytes)) return record(cudaErrorInvalidValue);
  std::memset(pointer, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* pointer, int value, std::size_t bytes, cudaStream_t stream) {
  if (!is_live_stream(stream)) return record(cudaErrorInvalidResourceHandle);
  return cudaMemset(pointer, value, bytes);
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  if (stream == nullptr) return record(cudaErrorInvalidValue);
  auto created = std::make_unique<EmulatedStream>();
  Streams& all = streams();
  const std::lock_guard lock(all.mutex);
  *stream = created.release();
  all.live.insert(*stream);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  Streams& all = streams();
  {
    const std::lock_guard lock(all.mutex);
    if (stream == nullptr || all.live.erase(stream) == 0) return record(cudaErrorInvalidResourceHandle);
  }
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  return is_live_stream(stream) ? cudaSuccess : record(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaGetLastError() {
  const cudaError_t error = last_error;
  last_error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() { return last_error; }

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidDevicePointer:
      return "invalid device pointer";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
  }
  return "unrecognized error code";
}

}  // namespace api
}  // namespace ofa::emu
