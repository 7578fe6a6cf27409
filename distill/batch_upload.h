#pragma once

#include "kernels/tensor.h"

namespace ofa {

// Where a batch meets the network. The loader makes images on the host; a network on the cpu
// takes that tensor itself, one on cuda gets an upload (Tensor::to: a block of the caching
// allocator, so no cudaMalloc once the batch's resolution has been seen, and an asynchronous
// copy). Labels stay on the host: the loss and accuracy ops take them from there.
inline Tensor images_on(Device device, const Tensor& host_images) {
  return host_images.device() == device ? host_images : host_images.to(device);
}

}  // namespace ofa
