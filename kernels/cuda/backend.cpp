#include "kernels/cuda/backend.h"

#include <cstdlib>
#include <string_view>

#include "kernels/error.h"

namespace ofa::cuda {
namespace {

Backend* initial_backend() {
  const char* requested = std::getenv("OFA_CUDA_BACKEND");
  if (requested == nullptr || *requested == '\0') {
    Backend* gpu = gpu_backend();
    return gpu != nullptr ? gpu : &emulated_backend();
  }
  const std::string_view name(requested);
  if (name == "emulated") return &emulated_backend();
  OFA_CHECK(name == "gpu", "OFA_CUDA_BACKEND", "unknown backend '", name, "'; use 'gpu' or 'emulated'");
  Backend* gpu = gpu_backend();
  OFA_CHECK(gpu != nullptr, "OFA_CUDA_BACKEND", "asks for the GPU, but ",
            "this build has no GPU backend or the machine has no GPU; unset it to run the emulation");
  return gpu;
}

Backend*& active() {
  static Backend* backend = initial_backend();
  return backend;
}

}  // namespace

Backend& active_backend() { return *active(); }

void use_backend(Backend& backend) {
  Backend*& current = active();
  if (current == &backend) return;
  const AllocatorStats stats = current->allocator.stats();
  OFA_CHECK(stats.bytes_in_use == 0, "cuda::use_backend", "cannot switch from the ", current->name, " backend to the ",
            backend.name, " one while ", stats.bytes_in_use, " bytes of its device memory are in use");
  current = &backend;
}

}  // namespace ofa::cuda
