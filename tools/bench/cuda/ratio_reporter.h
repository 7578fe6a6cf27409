#pragma once

// The console output of Google Benchmark, followed by a table that sets each hand-written kernel
// beside cuDNN or cuBLAS doing the same work (median of the repetitions where there are several).

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace ofa::cuda::yardstick {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal, so that files of the output read plainly.
  RatioReporter();
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  // The line that opens the table (tools/scripts/gpu-check.sh prints from it on).
  static constexpr const char* kTableTitle = "Speed of ours against the yardstick";

 private:
  // "<op>_<direction>/<shape>" -> implementation -> seconds per run
  std::map<std::string, std::map<std::string, double>> seconds_;
};

}  // namespace ofa::cuda::yardstick
