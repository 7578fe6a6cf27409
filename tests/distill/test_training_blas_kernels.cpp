#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "kernels/blas_kernels.h"

namespace ofa {
namespace {

// OpenBLAS prints "Core: NAME" when it loads with OPENBLAS_VERBOSE=2; after `ofa` re-runs itself
// with wider kernels the last such line names them.
std::string last_loaded_core(const std::string& output) {
  const std::string marker = "Core: ";
  const std::size_t at = output.rfind(marker);
  if (at == std::string::npos) return "";
  const std::size_t end = output.find('\n', at);
  return output.substr(at + marker.size(), end == std::string::npos ? std::string::npos : end - at - marker.size());
}

TEST(TrainingBlasKernels, OfaRunsGemmsWithKernelsAsWideAsTheCpus) {
  const std::string command =
      std::string("env -u OPENBLAS_CORETYPE OPENBLAS_VERBOSE=2 ") + OFA_BINARY_PATH + " info --space mbv3-small 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 4096> chunk{};
  while (std::fgets(chunk.data(), chunk.size(), pipe) != nullptr) output += chunk.data();
  ASSERT_EQ(pclose(pipe), 0) << output;
  const std::string core = last_loaded_core(output);
  ASSERT_FALSE(core.empty()) << "OpenBLAS printed no core type:\n" << output;
  const int level = blas_core_vector_level(core);
  if (level < 0) GTEST_SKIP() << "OpenBLAS core " << core << " is not an x86-64 core this check knows";
  EXPECT_GE(level, cpu_vector_level()) << "ofa ran with OpenBLAS's " << core << " kernels\n" << output;
}

}  // namespace
}  // namespace ofa
