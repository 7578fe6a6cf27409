#include "kernels/blas_kernels.h"

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace ofa {
namespace {

constexpr int kSse = 0, kAvx = 1, kAvx2 = 2, kAvx512 = 3;

// OpenBLAS's x86-64 core names (openblas_get_corename, lower-cased) by vector width.
constexpr std::array<std::pair<std::string_view, int>, 25> kCoreLevels = {{
    {"katmai", kSse},      {"coppermine", kSse},   {"northwood", kSse},   {"prescott", kSse},
    {"banias", kSse},      {"core2", kSse},        {"penryn", kSse},      {"dunnington", kSse},
    {"nehalem", kSse},     {"atom", kSse},         {"opteron", kSse},     {"opteron_sse3", kSse},
    {"barcelona", kSse},   {"bobcat", kSse},       {"nano", kSse},        {"sandybridge", kAvx},
    {"bulldozer", kAvx},   {"piledriver", kAvx},   {"steamroller", kAvx}, {"haswell", kAvx2},
    {"excavator", kAvx2},  {"zen", kAvx2},         {"skylakex", kAvx512}, {"cooperlake", kAvx512},
    {"sapphirerapids", kAvx512},
}};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

int blas_core_vector_level(std::string_view core_name) {
  const std::string name = lower(core_name);
  for (const auto& [core, level] : kCoreLevels)
    if (core == name) return level;
  return -1;
}

std::string blas_core_to_request(std::string_view loaded_core, int cpu_level) {
  const int loaded_level = blas_core_vector_level(loaded_core);
  if (loaded_level < 0 || loaded_level >= cpu_level) return "";
  // SkylakeX rather than Cooperlake or SapphireRapids: their sgemm is the same or slower (the
  // mbv3-small training step on one thread, one measurement each: 636 against 529 images/s).
  if (cpu_level >= kAvx512) return "SkylakeX";
  if (cpu_level >= kAvx2) return "Haswell";
  return "";
}

int cpu_vector_level() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    return kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kAvx2;
  if (__builtin_cpu_supports("avx")) return kAvx;
#endif
  return kSse;
}

std::string loaded_blas_core() { return openblas_get_corename(); }

void match_blas_kernels_to_cpu(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const std::string core = blas_core_to_request(loaded_blas_core(), cpu_vector_level());
  if (core.empty()) return;
  // The executable's own path rather than /proc/self/exe, which would rename the process "exe"
  // for ps, top and pkill.
  std::array<char, 4096> path{};
  const ssize_t length = readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (length <= 0 || static_cast<std::size_t>(length) >= path.size() - 1) return;
  if (setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0) return;
  execv(path.data(), argv);
  std::fprintf(stderr,
               "ofa: warning: could not restart with OPENBLAS_CORETYPE=%s (%s); GEMMs use OpenBLAS's %s kernels\n",
               core.c_str(), std::strerror(errno), loaded_blas_core().c_str());
  unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace ofa
