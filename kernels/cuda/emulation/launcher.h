#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/cuda/emulation/config.h"
#include "kernels/cuda/emulation/grid.h"
#include "kernels/cuda/emulation/runtime_api.h"

namespace ofa::cuda {

// The launcher the host compiler instantiates host wrappers with: it runs the kernel on the
// CPU and returns when the grid has finished. Pointer arguments must point into emulated
// device memory (cudaMalloc), as they must on a GPU; configuration errors throw ofa::Error.
// It takes a stream as NvccLauncher does, so host code is written once; launches run at once,
// which serialises them in call order on every stream.
class EmulatedLauncher {
 public:
  explicit EmulatedLauncher(emu::api::cudaStream_t stream = nullptr) : stream_(stream) {}

  emu::api::cudaStream_t stream() const { return stream_; }

  template <class... Params, class... Args>
  void launch(void (*kernel)(Params...), emu::api::dim3 grid, emu::api::dim3 block, std::size_t shared_bytes,
              Args&&... args) const {
    static_assert(sizeof...(Params) == sizeof...(Args), "a kernel launch takes one argument per kernel parameter");
    static_assert((std::is_trivially_copyable_v<Params> && ...),
                  "kernel parameters are copied to the device bytewise: pass trivially copyable values");
    using Call = std::tuple<void (*)(Params...), Params...>;
    const Call call(kernel, static_cast<Params>(std::forward<Args>(args))...);
    const std::array<const void*, sizeof...(Params)> pointers =
        pointer_arguments(call, std::index_sequence_for<Params...>{});
    emu::detail::run_grid({grid, block, shared_bytes, &invoke<Call>, &call, pointers.data(), pointers.size(),
                           OFA_EMU_ASAN != 0},
                          reinterpret_cast<const void*>(kernel));
  }

 private:
  template <class Call>
  static void invoke(const void* call) {
    // By value: each emulated thread gets its own copy of the parameters, as on the GPU.
    std::apply([](auto kernel, auto... params) { kernel(params...); }, *static_cast<const Call*>(call));
  }

  template <class T>
  static const void* as_pointer(const T& value) {
    if constexpr (std::is_pointer_v<T> && !std::is_function_v<std::remove_pointer_t<T>>) {
      return static_cast<const void*>(value);
    } else {
      return nullptr;
    }
  }

  // The pointer-typed arguments, nullptr for the others (element 0 of the call is the kernel).
  template <class Call, std::size_t... I>
  static std::array<const void*, sizeof...(I)> pointer_arguments(const Call& call, std::index_sequence<I...>) {
    return {as_pointer(std::get<I + 1>(call))...};
  }

  emu::api::cudaStream_t stream_;
};

}  // namespace ofa::cuda
