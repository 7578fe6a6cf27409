#include "tools/bench/cuda/ratio_reporter.h"

#include <unistd.h>

#include <cstdio>
#include <ostream>

#include "tools/bench/cuda/bench_context.h"

namespace ofa::cuda::yardstick {

namespace {

// Successful cases count their work; failed ones (SkipWithError) have no counters.
bool measured(const benchmark::BenchmarkReporter::Run& run) {
  return run.counters.count("GB/s") != 0 || run.counters.count("TFLOP/s") != 0;
}

double seconds_per_run(const benchmark::BenchmarkReporter::Run& run) {
  return run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
}

}  // namespace

RatioReporter::RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

void RatioReporter::ReportRuns(const std::vector<Run>& runs) {
  ConsoleReporter::ReportRuns(runs);
  for (const Run& run : runs) {
    if (!measured(run)) continue;
    // With repetitions, their median stands for the case.
    const bool single = run.run_type == Run::RT_Iteration;
    if (single ? run.repetitions > 1 : run.aggregate_name != "median") continue;
    const std::string& name = run.run_name.function_name;
    const std::size_t slash = name.rfind('/');
    if (slash == std::string::npos) continue;
    seconds_[name.substr(0, slash)][name.substr(slash + 1)] = seconds_per_run(run);
  }
}

void RatioReporter::Finalize() {
  ConsoleReporter::Finalize();
  std::ostream& out = GetOutputStream();
  char line[512];
  out << "\n" << kTableTitle << " (speed = yardstick time / our time; > 1: ours faster)\n";
  std::snprintf(line, sizeof line, "%-58s %-8s %12s %12s %8s\n", "case", "vs", "ours us", "theirs us", "speed");
  out << line;
  for (const auto& [key, by_implementation] : seconds_) {
    const auto ours = by_implementation.find(kOurs);
    for (const auto& [implementation, seconds] : by_implementation) {
      if (implementation == kOurs) continue;
      if (ours == by_implementation.end()) {
        std::snprintf(line, sizeof line, "%-58s %-8s %12s %12.2f %8s\n", key.c_str(), implementation.c_str(), "-",
                      seconds * 1e6, "-");
      } else {
        std::snprintf(line, sizeof line, "%-58s %-8s %12.2f %12.2f %8.2f\n", key.c_str(), implementation.c_str(),
                      ours->second * 1e6, seconds * 1e6, seconds / ours->second);
      }
      out << line;
    }
  }
  out.flush();
}

}  // namespace ofa::cuda::yardstick
