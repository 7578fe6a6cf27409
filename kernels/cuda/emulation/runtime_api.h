#pragma once

#include <cstddef>

// The part of the CUDA runtime API that host code around kernels uses, so that code (tests,
// host wrappers) is one source too. Device memory is host memory: cudaMalloc fills it with
// 0xFF bytes, so a never-written float reads as NaN, and records it, so that copies and kernel
// arguments can be checked for pointers on the wrong side. Everything is synchronous.

namespace ofa::emu::api {

enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidResourceHandle = 400,
};
using cudaError_t = cudaError;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

struct EmulatedStream;
using cudaStream_t = EmulatedStream*;

cudaError_t cudaMalloc(void** pointer, std::size_t bytes);
template <class T>
cudaError_t cudaMalloc(T** pointer, std::size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(pointer), bytes);
}
cudaError_t cudaFree(void* pointer);
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* pointer, int value, std::size_t bytes);
cudaError_t cudaMemsetAsync(void* pointer, int value, std::size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaDeviceSynchronize();
// Streams exist so that host code written for a GPU runs unchanged; work on them runs at once,
// in call order. Using a stream after cudaStreamDestroy fails as on a GPU.
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t error);

}  // namespace ofa::emu::api

namespace ofa::emu {

// Whether [pointer, pointer + bytes) lies inside one emulated device allocation. A pointer
// one past the end of an allocation counts when bytes is 0, as C++ allows forming it.
bool is_device_range(const void* pointer, std::size_t bytes);

// The emulated device's memory size: cudaMalloc fails with cudaErrorMemoryAllocation where the
// live allocations would exceed it, so out-of-memory handling is testable. Unlimited by default.
void set_device_memory_limit(std::size_t bytes);
std::size_t device_memory_in_use();

}  // namespace ofa::emu
