#include "search/device_description.h"

#include <cblas.h>

#include <charconv>
#include <fstream>

#include "kernels/error.h"

namespace ofa {
namespace {

std::string cpu_model_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const std::size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "unknown" : line.substr(start);
  }
  return "unknown";
}

// The compile-time facts that change kernel speed: optimisation, assertions, sanitizers and the
// widest vector ISA the compiler was allowed to use (-march=native makes this the build machine's).
std::string build_flags() {
  std::string flags;
#ifdef __OPTIMIZE__
  flags += "optimized";
#else
  flags += "unoptimized";
#endif
#ifdef NDEBUG
  flags += " NDEBUG";
#endif
#if defined(__SANITIZE_ADDRESS__)
  flags += " asan";
#endif
#if defined(__AVX512F__)
  flags += " avx512f";
#elif defined(__AVX2__)
  flags += " avx2";
#elif defined(__SSE4_2__)
  flags += " sse4.2";
#endif
#ifdef __FMA__
  flags += " fma";
#endif
  flags += concat("; ", openblas_get_config());
  return flags;
}

std::string compiler_name() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

LatencyDevice parse_latency_device(const std::string& text, int threads, const std::string& option) {
  OFA_CHECK(threads >= 1, option, "threads must be >= 1, got ", threads);
  if (text == "cpu") return {text, threads};
  constexpr std::string_view cuda = "cuda:";
  if (text.rfind(cuda, 0) == 0 && text.size() > cuda.size()) {
    int index = -1;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data() + cuda.size(), end, index);
    if (error == std::errc() && stop == end && index >= 0) return {text, threads};
  }
  fail(option, "expected cpu or cuda:N (N a GPU index), got '", text, "'");
}

DeviceDescription describe_this_device(const LatencyDevice& device) {
  // The CUDA op dispatch does not exist yet; when it does, a cuda:N device is described by the
  // GPU's name and compute capability and timed with CUDA events.
  OFA_CHECK(device.backend == "cpu", concat("--device ", device.backend),
            "the CUDA backend is not available for latency measurement yet (this build times layers on the "
            "CPU only); use --device cpu");
  return {device.backend, cpu_model_name(), device.threads, compiler_name(), build_flags()};
}

std::string device_differences(const DeviceDescription& table, const DeviceDescription& here) {
  std::string differences;
  const auto compare = [&](const char* field, const std::string& a, const std::string& b) {
    if (a != b) differences += concat(differences.empty() ? "" : "; ", field, ": table '", a, "', here '", b, "'");
  };
  compare("backend", table.backend, here.backend);
  compare("processor", table.processor, here.processor);
  compare("compiler", table.compiler, here.compiler);
  compare("build", table.build, here.build);
  return differences;
}

}  // namespace ofa
