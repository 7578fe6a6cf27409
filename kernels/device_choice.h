#pragma once

#include <string>
#include <string_view>

#include "kernels/tensor.h"

// The device a command runs on, as users name it (`--device`).
namespace ofa {

// "cpu", "cuda" or "cuda:0". Device::cuda is the first CUDA device: the GPU where there is one,
// the emulation otherwise (kernels/cuda/backend.h). Anything else throws ofa::Error naming
// `option` and the accepted forms; "cuda:N" for N > 0 says how to reach that GPU instead (ofa
// uses the first visible one).
Device parse_device(std::string_view text, std::string_view option);

// "cpu", or "cuda" with the backend it runs on, warning when that is the emulation (which runs
// the CUDA kernels on the CPU, orders of magnitude slower than either real device). Starts the
// CUDA backend, so a forced OFA_CUDA_BACKEND that cannot be had fails here, before any work.
std::string describe_device(Device device);

}  // namespace ofa
