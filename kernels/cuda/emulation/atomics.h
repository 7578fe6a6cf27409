#pragma once

#include <atomic>

// CUDA's atomics for the types CUDA has them for. Blocks run on several OS threads at once,
// so these are real atomic read-modify-writes (relaxed, as on the GPU).

namespace ofa::emu::detail {

template <class T>
std::atomic_ref<T> atomic(T* address) {
  return std::atomic_ref<T>(*address);
}

// Applies `update(old)` atomically and returns the old value.
template <class T, class Update>
T atomic_update(T* address, Update update) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load(std::memory_order_relaxed);
  while (!ref.compare_exchange_weak(old, update(old), std::memory_order_relaxed)) {
  }
  return old;
}

template <class T>
T atomic_min(T* a, T v) {
  return atomic_update(a, [v](T old) { return v < old ? v : old; });
}

template <class T>
T atomic_max(T* a, T v) {
  return atomic_update(a, [v](T old) { return v > old ? v : old; });
}

template <class T>
T atomic_cas(T* a, T compare, T value) {
  atomic(a).compare_exchange_strong(compare, value, std::memory_order_relaxed);
  return compare;  // holds the old value whether or not the exchange happened
}

}  // namespace ofa::emu::detail

namespace ofa::emu::api {

inline int atomicAdd(int* a, int v) { return detail::atomic(a).fetch_add(v, std::memory_order_relaxed); }
inline unsigned int atomicAdd(unsigned int* a, unsigned int v) {
  return detail::atomic(a).fetch_add(v, std::memory_order_relaxed);
}
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
  return detail::atomic(a).fetch_add(v, std::memory_order_relaxed);
}
inline float atomicAdd(float* a, float v) { return detail::atomic(a).fetch_add(v, std::memory_order_relaxed); }
inline double atomicAdd(double* a, double v) { return detail::atomic(a).fetch_add(v, std::memory_order_relaxed); }

inline int atomicSub(int* a, int v) { return detail::atomic(a).fetch_sub(v, std::memory_order_relaxed); }
inline unsigned int atomicSub(unsigned int* a, unsigned int v) {
  return detail::atomic(a).fetch_sub(v, std::memory_order_relaxed);
}

inline int atomicExch(int* a, int v) { return detail::atomic(a).exchange(v, std::memory_order_relaxed); }
inline unsigned int atomicExch(unsigned int* a, unsigned int v) {
  return detail::atomic(a).exchange(v, std::memory_order_relaxed);
}
inline unsigned long long atomicExch(unsigned long long* a, unsigned long long v) {
  return detail::atomic(a).exchange(v, std::memory_order_relaxed);
}
inline float atomicExch(float* a, float v) { return detail::atomic(a).exchange(v, std::memory_order_relaxed); }

inline int atomicMin(int* a, int v) { return detail::atomic_min(a, v); }
inline unsigned int atomicMin(unsigned int* a, unsigned int v) { return detail::atomic_min(a, v); }
inline long long atomicMin(long long* a, long long v) { return detail::atomic_min(a, v); }
inline unsigned long long atomicMin(unsigned long long* a, unsigned long long v) { return detail::atomic_min(a, v); }
inline int atomicMax(int* a, int v) { return detail::atomic_max(a, v); }
inline unsigned int atomicMax(unsigned int* a, unsigned int v) { return detail::atomic_max(a, v); }
inline long long atomicMax(long long* a, long long v) { return detail::atomic_max(a, v); }
inline unsigned long long atomicMax(unsigned long long* a, unsigned long long v) { return detail::atomic_max(a, v); }

inline unsigned int atomicInc(unsigned int* a, unsigned int limit) {
  return detail::atomic_update(a, [limit](unsigned int old) { return old >= limit ? 0u : old + 1u; });
}
inline unsigned int atomicDec(unsigned int* a, unsigned int limit) {
  return detail::atomic_update(a, [limit](unsigned int old) { return old == 0u || old > limit ? limit : old - 1u; });
}

inline int atomicCAS(int* a, int compare, int value) { return detail::atomic_cas(a, compare, value); }
inline unsigned int atomicCAS(unsigned int* a, unsigned int compare, unsigned int value) {
  return detail::atomic_cas(a, compare, value);
}
inline unsigned long long atomicCAS(unsigned long long* a, unsigned long long compare, unsigned long long value) {
  return detail::atomic_cas(a, compare, value);
}
inline unsigned short atomicCAS(unsigned short* a, unsigned short compare, unsigned short value) {
  return detail::atomic_cas(a, compare, value);
}

inline int atomicAnd(int* a, int v) { return detail::atomic(a).fetch_and(v, std::memory_order_relaxed); }
inline unsigned int atomicAnd(unsigned int* a, unsigned int v) {
  return detail::atomic(a).fetch_and(v, std::memory_order_relaxed);
}
inline int atomicOr(int* a, int v) { return detail::atomic(a).fetch_or(v, std::memory_order_relaxed); }
inline unsigned int atomicOr(unsigned int* a, unsigned int v) {
  return detail::atomic(a).fetch_or(v, std::memory_order_relaxed);
}
inline int atomicXor(int* a, int v) { return detail::atomic(a).fetch_xor(v, std::memory_order_relaxed); }
inline unsigned int atomicXor(unsigned int* a, unsigned int v) {
  return detail::atomic(a).fetch_xor(v, std::memory_order_relaxed);
}

inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_signal_fence(std::memory_order_seq_cst); }

}  // namespace ofa::emu::api
