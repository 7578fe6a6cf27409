#include "kernels/device_choice.h"

#include <charconv>

#include "kernels/cuda/backend.h"
#include "kernels/error.h"

namespace ofa {

Device parse_device(std::string_view text, std::string_view option) {
  if (text == "cpu") return Device::cpu;
  if (text == "cuda" || text == "cuda:0") return Device::cuda;
  constexpr std::string_view cuda_prefix = "cuda:";
  if (text.starts_with(cuda_prefix)) {
    const std::string_view index = text.substr(cuda_prefix.size());
    int device = -1;
    const auto [end, error] = std::from_chars(index.data(), index.data() + index.size(), device);
    if (error == std::errc() && end == index.data() + index.size() && device > 0)
      fail(option, "'", text, "': ofa runs on CUDA device 0 only (the first visible GPU); to run on GPU ", device,
           ", set CUDA_VISIBLE_DEVICES=", device, " and pass --device cuda");
  }
  fail(option, "'", text, "' is not a device; use cpu, cuda or cuda:0");
}

std::string describe_device(Device device) {
  if (device == Device::cpu) return "cpu";
  const cuda::Backend& backend = cuda::active_backend();
  const cuda::Backend* gpu = cuda::gpu_backend();
  if (&backend == gpu) return "cuda (GPU)";
  return concat("cuda (", backend.name, " backend, ",
                gpu == nullptr ? "no GPU in this build or machine" : "chosen by OFA_CUDA_BACKEND",
                ": the CUDA kernels run on the CPU, far slower than --device cpu; meant for testing)");
}

}  // namespace ofa
