// ofa_compare_weights A.safetensors B.safetensors ABS REL [SKIP_SUBSTRING]: every tensor of A must
// be in B with the same shape and |a - b| <= ABS + REL * |b| for every entry; tensors whose name
// contains SKIP_SUBSTRING are left out. Prints the largest differences; exit 0 when within
// tolerance, 1 when not, 2 on bad input. The data-parallel tests compare runs with it.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/error.h"
#include "supernet/safetensors.h"

int main(int argc, char** argv) {
  if (argc < 5 || argc > 6) {
    std::fprintf(stderr, "usage: %s A.safetensors B.safetensors ABS REL [SKIP_SUBSTRING]\n", argv[0]);
    return 2;
  }
  try {
    const ofa::SafetensorsFile a = ofa::load_safetensors(argv[1]);
    const ofa::SafetensorsFile b = ofa::load_safetensors(argv[2]);
    const double absolute = std::atof(argv[3]), relative = std::atof(argv[4]);
    const std::string skip = argc == 6 ? argv[5] : "";
    double worst_ratio = 0;
    std::size_t compared = 0, outside = 0;
    for (const ofa::NamedTensor& t : a.tensors) {
      if (!skip.empty() && t.name.find(skip) != std::string::npos) continue;
      const ofa::Tensor& other = b.at(t.name, t.tensor.shape());
      const float* x = t.tensor.f32();
      const float* y = other.f32();
      double tensor_ratio = 0, tensor_difference = 0;
      for (std::int64_t i = 0; i < t.tensor.numel(); ++i) {
        const double difference = std::abs(static_cast<double>(x[i]) - y[i]);
        const double ratio = difference / (absolute + relative * std::abs(static_cast<double>(y[i])));
        if (!(ratio <= tensor_ratio)) tensor_ratio = ratio;
        if (!(difference <= tensor_difference)) tensor_difference = difference;
      }
      if (!(tensor_ratio <= 1.0) && outside++ < 10)
        std::printf("  %s: largest difference %.3g, %.3g times the tolerance\n", t.name.c_str(), tensor_difference,
                    tensor_ratio);
      if (!(tensor_ratio <= worst_ratio)) worst_ratio = tensor_ratio;
      ++compared;
    }
    std::printf("compared %zu tensors against |a - b| <= %g + %g |b|: %zu outside, worst at %.3g of the tolerance\n",
                compared, absolute, relative, outside, worst_ratio);
    return worst_ratio <= 1.0 ? 0 : 1;
  } catch (const ofa::Error& e) {
    std::fprintf(stderr, "ofa_compare_weights: %s\n", e.what());
    return 2;
  }
}
