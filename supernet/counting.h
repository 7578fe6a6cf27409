#pragma once

#include <cstdint>

#include "supernet/search_space.h"
#include "supernet/subnet.h"

// What a subnet costs, counted from the space alone (no weights needed), for the network that
// extraction builds: stem, the fixed first block, the first d blocks of each stage at their
// chosen kernel and expand ratio, and the head, at the subnet's resolution.
namespace ofa {

struct SubnetCost {
  // Multiply-accumulates of one image, OFA's profiler convention: every convolution
  // Ho*Wo*Cout*(Cin/groups)*k*k (the squeeze-and-excitation 1x1 convolutions included, at 1x1)
  // and the classifier in*out; batch norm, activations, pooling, the SE scale and residual
  // adds are not counted.
  double macs = 0.0;
  // Every learnable tensor of the extracted subnet: convolution weights at their active size,
  // batch-norm gamma and beta, SE and classifier biases. Not the running statistics, not the
  // supernet's kernel-transformation matrices.
  std::int64_t params = 0;
  // Batch-1 float32 inference where every convolution, pooling and linear layer reads its input
  // and writes a separate output; batch norm, activations, the SE channel scale and residual
  // adds work in place; a block with a residual keeps its input alive until the add. The peak
  // is the maximum over layers of bytes(input) + bytes(output) + bytes(the held block input, once
  // the layer's input is no longer the block input itself). Squeeze-and-excitation counts as one
  // layer holding its feature map, the pooled vector and the hidden vector (the most alive at any
  // of its steps). The input image counts as the stem's input.
  std::int64_t peak_activation_bytes = 0;
};

// Validates `subnet` against `space` (ofa::Error naming the field otherwise).
SubnetCost count_subnet(const SearchSpace& space, const Subnet& subnet);

}  // namespace ofa
