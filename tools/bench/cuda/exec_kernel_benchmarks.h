#pragma once

// `ofa bench kernels` hands over to ofa-bench-kernels, built beside `ofa` in CUDA builds: the
// kernel benchmarks link cuDNN and cuBLAS, which `ofa` itself must start without.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace ofa::bench {

// Replaces this process with ofa-bench-kernels from ofa's own directory, passing the filter and
// the extra Google Benchmark flags. Returns (with a one-line message) only if that fails: 2.
inline int exec_kernel_benchmarks(const std::string& filter, const std::vector<std::string>& extra) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::filesystem::path program = (error ? std::filesystem::path(".") : self.parent_path()) / "ofa-bench-kernels";
  if (!std::filesystem::exists(program)) {
    std::fprintf(stderr, "ofa bench kernels: %s is missing; build it with `cmake --build <build dir> --target ofa-bench-kernels`\n",
                 program.c_str());
    return 2;
  }
  std::vector<std::string> args = {program.string(), "--benchmark_filter=" + filter};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  execv(program.c_str(), argv.data());
  std::fprintf(stderr, "ofa bench kernels: cannot run %s: %s\n", program.c_str(), std::strerror(errno));
  return 2;
}

}  // namespace ofa::bench
