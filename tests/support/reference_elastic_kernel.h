#pragma once

#include <cstdint>
#include <vector>

#include "kernels/tensor.h"

namespace ofa::testing {

// OFA's chain, literally: from the whole max kernel, per step take the centre window, flatten its
// taps row-major and multiply by the step's matrix (F.linear: out_a = sum_b M[a,b] in_b).
// Returns the row-major [k,k,c] effective kernel.
inline std::vector<double> reference_effective_kernel(const Tensor& weight, const std::vector<std::int64_t>& sizes,
                                                      const std::vector<Tensor>& transforms, std::int64_t k, std::int64_t c) {
  std::int64_t size = sizes[0];
  std::vector<double> current;
  for (std::int64_t u = 0; u < size; ++u)
    for (std::int64_t v = 0; v < size; ++v)
      for (std::int64_t ch = 0; ch < c; ++ch) current.push_back(weight.at({u, v, ch}));
  for (std::size_t step = 0; sizes[step] != k; ++step) {
    const std::int64_t next = sizes[step + 1], offset = (size - next) / 2, taps = next * next;
    std::vector<double> transformed(static_cast<std::size_t>(taps * c), 0.0);
    for (std::int64_t a = 0; a < taps; ++a)
      for (std::int64_t b = 0; b < taps; ++b) {
        const std::int64_t from = (offset + b / next) * size + offset + b % next;
        for (std::int64_t ch = 0; ch < c; ++ch)
          transformed[static_cast<std::size_t>(a * c + ch)] +=
              double(transforms[step].at({a, b})) * current[static_cast<std::size_t>(from * c + ch)];
      }
    current = transformed;
    size = next;
  }
  return current;
}

}  // namespace ofa::testing
