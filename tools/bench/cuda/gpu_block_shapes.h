#pragma once

// The MBConv block shapes the kernel benchmarks run at: OFA-MobileNetV3 (width 1.0) at a 224x224
// input, batch 64, one block per stage at the largest expand ratio (6), the first block of a
// stage where it has stride 2, and stage 1's smaller expand ratios as the active part of the
// max-size block. The kernel size is a separate axis (3, 5, 7).

#include <array>
#include <cstdint>
#include <string>

#include "tools/bench/block_shapes.h"

namespace ofa::cuda::yardstick {

using bench::BlockShape;

inline constexpr std::array<BlockShape, 8> kGpuBlockShapes = {{
    {"b64_112x112_c16_e6_s2", 64, 112, 16, 6, 7, 2, 16, 6, 7},
    {"b64_56x56_c24_e6", 64, 56, 24, 6, 7, 1, 24, 6, 7},
    {"b64_56x56_c24_e4_active", 64, 56, 24, 4, 7, 1, 24, 6, 7},
    {"b64_56x56_c24_e3_active", 64, 56, 24, 3, 7, 1, 24, 6, 7},
    {"b64_28x28_c40_e6", 64, 28, 40, 6, 7, 1, 40, 6, 7},
    {"b64_14x14_c80_e6", 64, 14, 80, 6, 7, 1, 80, 6, 7},
    {"b64_14x14_c112_e6_s2", 64, 14, 112, 6, 7, 2, 112, 6, 7},
    {"b64_7x7_c160_e6", 64, 7, 160, 6, 7, 1, 160, 6, 7},
}};

inline constexpr std::array<int, 3> kKernelSizes = {3, 5, 7};

inline std::string with_kernel(const BlockShape& shape, int kernel) {
  return std::string(shape.name) + "_k" + std::to_string(kernel);
}

inline int as_int(std::int64_t v) { return static_cast<int>(v); }

}  // namespace ofa::cuda::yardstick
