#pragma once

#include <cstdint>
#include <string>

#include "kernels/random.h"
#include "supernet/parameter.h"

namespace ofa::testing {

// A fresh network's BN gammas (1), betas, biases (0), running statistics (0 and 1) and kernel
// transforms (identity) are values under which a wrong layout, a missed fold or a swapped
// statistic goes unnoticed. This replaces each with seeded values of a plausible size: gammas
// in [0.5, 1.5), betas and biases in [-0.5, 0.5), means in [-1, 1), variances in [0.25, 2.25),
// transforms identity plus [-0.1, 0.1) noise. He-initialised weights stay as they are.
inline void perturb_constant_initialised(ParameterList& list, std::uint64_t seed) {
  const auto ends_with = [](const std::string& name, const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::uint64_t stream = 0;
  const auto fill = [&](Tensor& tensor, float low, float width) {
    Tensor host = tensor.to(Device::cpu);
    float* data = host.f32();
    for (std::int64_t i = 0; i < host.numel(); ++i)
      data[i] = low + width * uniform01(seed, stream, static_cast<std::uint64_t>(i));
    ++stream;
    tensor.copy_from(host);
  };
  for (Parameter& p : list.parameters) {
    if (ends_with(p.name, ".gamma")) fill(p.value, 0.5f, 1.0f);
    if (ends_with(p.name, ".beta") || ends_with(p.name, ".bias")) fill(p.value, -0.5f, 1.0f);
    if (p.name.find(".transform_") != std::string::npos) {
      const std::int64_t n = p.value.dim(0);
      Tensor noise = Tensor::empty(p.value.shape());
      fill(noise, -0.1f, 0.2f);
      for (std::int64_t i = 0; i < n; ++i) noise.at({i, i}) += 1.0f;
      p.value.copy_from(noise);
    }
  }
  for (Buffer& b : list.buffers) {
    if (ends_with(b.name, ".running_mean")) fill(b.value, -1.0f, 2.0f);
    if (ends_with(b.name, ".running_var")) fill(b.value, 0.25f, 2.0f);
  }
}

}  // namespace ofa::testing
