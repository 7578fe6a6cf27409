#pragma once

#include <cmath>
#include <span>

#include "kernels/cuda/launch.h"
#include "kernels/error.h"
#include "kernels/ops/sgd.h"

// The SGD (Nesterov) step on the GPU, as kernels/ops/sgd.h, over every parameter in ONE launch:
// the parameters are a device array of descriptors laid end to end in one flat index space, so
// the hundreds of small batch-norm and bias tensors of a supernet cost no launches of their own.

namespace ofa::cuda {

// One parameter tensor (param, grad and momentum buffer of `count` contiguous floats) at
// `offset` in the flat index space. sgd_lay_out fills the offsets.
struct SgdDeviceTensor {
  float* param;
  const float* grad;
  float* momentum_buffer;
  long long offset;
  long long count;
  int weight_decay;  // 0 where OFA excludes decay (batch norm, biases)
};

// Sets the offsets of tensors laid end to end and returns the total element count.
inline long long sgd_lay_out(std::span<SgdDeviceTensor> tensors) {
  long long total = 0;
  for (SgdDeviceTensor& t : tensors) {
    OFA_CHECK(t.count >= 0, "sgd_lay_out", "negative element count ", t.count);
    t.offset = total;
    total += t.count;
  }
  return total;
}

// Each thread updates ItemsPerThread elements a block apart (coalesced), finding the first one's
// tensor by binary search over the offsets and the rest by stepping forward.
template <int Threads, int ItemsPerThread>
__global__ void __launch_bounds__(Threads)
    sgd_step_kernel(const SgdDeviceTensor* __restrict__ tensors, int tensor_count, long long total, SgdConfig config) {
  long long e = static_cast<long long>(blockIdx.x) * Threads * ItemsPerThread + threadIdx.x;
  if (e >= total) return;
  int lo = 0, hi = tensor_count - 1;  // the last tensor whose offset is <= e
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (tensors[mid].offset <= e) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  int t = lo;
  for (int item = 0; item < ItemsPerThread && e < total; ++item, e += Threads) {
    while (e >= tensors[t].offset + tensors[t].count) ++t;  // skips empty tensors too
    const SgdDeviceTensor& p = tensors[t];
    const long long i = e - p.offset;
    const float decay = p.weight_decay ? config.weight_decay : 0.0f;
    const float d = p.grad[i] + decay * p.param[i];
    const float velocity = config.momentum * p.momentum_buffer[i] + d;
    p.momentum_buffer[i] = velocity;
    p.param[i] -= config.lr * (config.nesterov ? d + config.momentum * velocity : velocity);
  }
}

// One step over `tensor_count` descriptors in device memory (laid out by sgd_lay_out, `total`
// elements in all). The descriptors change only when the parameters move, so they are uploaded
// once; the config (the learning rate changes every step) travels with the launch.
template <Launcher L>
void sgd_step(const L& launcher, const SgdDeviceTensor* tensors, int tensor_count, long long total,
              const SgdConfig& config) {
  const char* op = "sgd_step";
  OFA_CHECK(config.lr >= 0.0f && std::isfinite(config.lr), op, "lr must be set, finite and >= 0, got ", config.lr);
  OFA_CHECK(config.momentum >= 0.0f && config.momentum < 1.0f, op, "momentum must be in [0, 1), got ", config.momentum);
  OFA_CHECK(config.weight_decay >= 0.0f && std::isfinite(config.weight_decay), op,
            "weight_decay must be finite and >= 0, got ", config.weight_decay);
  OFA_CHECK(tensor_count >= 0 && total >= 0, op, "negative sizes: ", tensor_count, " tensors, ", total, " elements");
  if (total == 0) return;
  constexpr int threads = 256, items = 4;
  const long long blocks = (total + threads * items - 1) / (threads * items);
  OFA_CHECK(blocks <= 0x7fffffffLL, op, total, " elements are more than one launch covers");
  launcher.launch(sgd_step_kernel<threads, items>, dim3(unsigned(blocks)), dim3(threads), 0, tensors, tensor_count,
                  total, config);
}

}  // namespace ofa::cuda
