#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

// What a long training run shows: on a terminal, one progress line redrawn in place (phase,
// epoch, step, loss, accuracy, images/s, ETA); otherwise plain log lines every N steps; and in
// both cases a JSONL metrics file in the run directory, one record per logged step and per
// validation, flushed per record so a killed run keeps everything it logged.
namespace ofa {

struct StepReport {
  std::string recipe;  // shown before the phase when set: "[ps 3/6 depth-1]"
  std::string phase;
  std::int64_t phase_index = 0, phases = 0;
  std::int64_t epoch = 0, epochs = 0;        // within the phase
  std::int64_t step = 0, steps_in_epoch = 0;  // within the epoch
  std::int64_t global_step = 0;
  // Means over the steps up to the last log line (the trainer reads them from the device only
  // there); accuracy in [0, 1]. NaN before the first log line: the bar shows "--".
  double loss = 0, accuracy = 0;
  double learning_rate = 0;
  double images_per_second = 0;
  double eta_seconds = 0;          // of the whole run
  // Training on cuda: cudaMalloc calls the steps since the last report made (0 once the caching
  // allocator has seen every shape), and the device memory it holds. -1: not on cuda (omitted).
  std::int64_t device_allocations = -1;
  double device_reserved_mb = 0;
  // Data parallelism (in the metrics only when ranks > 1): the mean time per step of the gradient
  // all-reduce (what the step waited for it) and the bytes the last step all-reduced.
  int ranks = 1;
  double allreduce_ms = 0;
  std::int64_t allreduce_bytes = 0;
};

class ProgressLog {
 public:
  // metrics_path: the JSONL file, appended to (a resumed run continues it); empty: no metrics
  // file. `terminal`: whether to redraw a bar (pass isatty(fileno(out))). Throws ofa::Error
  // naming the path when it cannot be opened.
  ProgressLog(std::string metrics_path, std::FILE* out, bool terminal);
  ~ProgressLog();
  ProgressLog(const ProgressLog&) = delete;
  ProgressLog& operator=(const ProgressLog&) = delete;

  // Every step on a terminal (redrawn at most ~10 times a second); `log_line` says whether this
  // step is a logging step (a plain line off a terminal, and a JSONL "step" record).
  void step(const StepReport& report, bool log_line);
  // A JSONL record {"type": TYPE, ...fields} and a plain line (ends the bar's line first).
  void record(const std::string& type, const nlohmann::json& fields);
  // A message line (warnings, phase starts), never lost under the bar.
  void message(const std::string& text);

 private:
  void write_metrics(const nlohmann::ordered_json& line);
  void print_line(const std::string& text);  // ends the bar's line first

  std::string metrics_path_;
  std::FILE* metrics_ = nullptr;
  std::FILE* out_;
  bool terminal_;
  bool bar_open_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

std::string format_duration(double seconds);  // "1h02m", "4m05s", "12s"

}  // namespace ofa
