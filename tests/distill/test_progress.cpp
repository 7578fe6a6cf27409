#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "distill/progress.h"
#include "tests/distill/data_fixtures.h"

namespace ofa {
namespace {

using json = nlohmann::json;
using testing::expect_error;
using testing::TempDir;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// What a log printed to its `out`: a temporary file read back (never a terminal, so the
// terminal mode's width falls back to 80 columns).
class Output {
 public:
  Output() : file_(std::tmpfile()) {}
  ~Output() { std::fclose(file_); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  std::FILE* get() const { return file_; }
  std::string text() const {
    std::fflush(file_);
    std::rewind(file_);
    std::string text;
    for (int c; (c = std::fgetc(file_)) != EOF;) text += static_cast<char>(c);
    return text;
  }

 private:
  std::FILE* file_;
};

StepReport report_at(std::int64_t step) {
  StepReport r;
  r.recipe = "ps";
  r.phase = "depth-1";
  r.phase_index = 3;
  r.phases = 6;
  r.epoch = 2;
  r.epochs = 5;
  r.step = step;
  r.steps_in_epoch = 750;
  r.global_step = 4000 + step;
  r.loss = 0.41234;
  r.accuracy = 0.875;
  r.learning_rate = 0.0123;
  r.images_per_second = 412.2;
  r.eta_seconds = 725;
  return r;
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

TEST(ProgressLogTest, WritesOneJsonRecordPerLoggedStepAndRecord) {
  TempDir dir;
  const std::string path = dir / "metrics.jsonl";
  Output out;
  ProgressLog log(path, out.get(), false);
  log.step(report_at(120), true);
  log.step(report_at(121), false);
  log.record("validation", {{"phase", "depth-1"}, {"epoch", 2}, {"largest", {{"top1", 0.9125}, {"resolution", 28}}}});

  // Read while the log is alive: every record is flushed as it is written.
  const std::vector<std::string> lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind(R"({"type":"step",)", 0), 0u) << lines[0];
  const json step = json::parse(lines[0]);
  EXPECT_EQ(step["recipe"], "ps");
  EXPECT_EQ(step["phase"], "depth-1");
  EXPECT_EQ(step["phase_index"], 3);
  EXPECT_EQ(step["phases"], 6);
  EXPECT_EQ(step["epoch"], 2);
  EXPECT_EQ(step["epochs"], 5);
  EXPECT_EQ(step["step"], 120);
  EXPECT_EQ(step["steps_in_epoch"], 750);
  EXPECT_EQ(step["global_step"], 4120);
  EXPECT_DOUBLE_EQ(step["loss"].get<double>(), 0.41234);
  EXPECT_DOUBLE_EQ(step["accuracy"].get<double>(), 0.875);
  EXPECT_DOUBLE_EQ(step["learning_rate"].get<double>(), 0.0123);
  EXPECT_DOUBLE_EQ(step["images_per_second"].get<double>(), 412.2);
  EXPECT_DOUBLE_EQ(step["eta_seconds"].get<double>(), 725);
  EXPECT_GT(step["time"].get<double>(), 1.6e9);

  EXPECT_EQ(lines[1].rfind(R"({"type":"validation",)", 0), 0u) << lines[1];
  const json validation = json::parse(lines[1]);
  EXPECT_EQ(validation["epoch"], 2);
  EXPECT_DOUBLE_EQ(validation["largest"]["top1"].get<double>(), 0.9125);
  EXPECT_EQ(validation["largest"]["resolution"], 28);
}

TEST(ProgressLogTest, AppendsToAnExistingLogAndRepairsAKilledRunsLastLine) {
  TempDir dir;
  const std::string path = dir / "metrics.jsonl";
  Output out;
  {
    ProgressLog log(path, out.get(), false);
    log.record("first", {{"n", 1}});
  }
  std::ofstream(path, std::ios::app) << R"({"type":"step","phase":"ker)";  // SIGKILL mid-record
  {
    ProgressLog log(path, out.get(), false);
    log.record("resumed", {{"n", 2}});
  }
  const std::vector<std::string> lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(json::parse(lines[0])["type"], "first");
  EXPECT_FALSE(json::accept(lines[1]));
  EXPECT_EQ(json::parse(lines[2])["type"], "resumed");
  EXPECT_EQ(json::parse(lines[2])["n"], 2);
}

TEST(ProgressLogTest, OffATerminalPrintsOneLinePerLoggingStep) {
  Output out;
  {
    ProgressLog log("", out.get(), false);
    for (std::int64_t step = 1; step <= 100; ++step) log.step(report_at(step), step % 20 == 0);
  }
  const std::string text = out.text();
  EXPECT_EQ(count(text, "\n"), 5u);
  EXPECT_EQ(count(text, "\r"), 0u);
  EXPECT_EQ(count(text, "\x1b"), 0u);
  std::istringstream lines(text);
  std::string first;
  std::getline(lines, first);
  EXPECT_EQ(first, "[ps 3/6 depth-1] epoch 2/5 step 20/750 loss 0.4123 acc 87.5% lr 0.0123 412 img/s ETA 12m05s");
}

TEST(ProgressLogTest, PrintsRecordsAndMessagesAsPlainLines) {
  Output out;
  {
    ProgressLog log("", out.get(), false);
    log.message("phase 2/6 'kernel': 2343 steps");
    log.record("validation", {{"epoch", 1}, {"largest", {{"top1", 0.91234}}}});
  }
  EXPECT_EQ(out.text(), "phase 2/6 'kernel': 2343 steps\nvalidation: epoch=1 largest={top1=0.9123}\n");
}

TEST(ProgressLogTest, OnATerminalRedrawsOneLineAndClearsItForMessages) {
  Output out;
  {
    ProgressLog log("", out.get(), true);
    log.step(report_at(1), false);
    // Redrawn at most every 100 ms: these 49 steps take microseconds (a loaded machine may still
    // let a few through, so the count below has room).
    for (std::int64_t step = 2; step <= 50; ++step) log.step(report_at(step), false);
    log.message("a warning");
    log.step(report_at(51), false);  // the bar comes back below the message
    log.step(report_at(60), true);   // logging steps always redraw
  }
  const std::string text = out.text();
  EXPECT_EQ(text.rfind("\r[ps 3/6 depth-1] epoch 2/5 step 1/750", 0), 0u) << text;
  EXPECT_GE(count(text, "\r["), 3u) << text;
  EXPECT_LT(count(text, "\r["), 10u) << text;
  EXPECT_NE(text.find("\r[ps 3/6 depth-1] epoch 2/5 step 60/750"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\x1b[Ka warning\n\r[ps 3/6 depth-1] epoch 2/5 step 51/750"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');  // the last bar is kept, on a finished line
  std::istringstream rows(text);
  for (std::string row; std::getline(rows, row, '\r');) {
    const std::string drawn = row.substr(0, row.find("\x1b[K"));
    EXPECT_LE(drawn.size(), 79u) << "a bar wider than the terminal wraps and cannot be redrawn: " << drawn;
  }
}

TEST(ProgressLogTest, ABadMetricsPathIsAnErrorNamingIt) {
  TempDir dir;
  const std::string path = (dir.path() / "no-such-dir" / "metrics.jsonl").string();
  expect_error([&] { ProgressLog log(path, stderr, false); }, {path, "cannot open the metrics log"});
  Output out;
  ProgressLog log("", out.get(), false);
  expect_error([&] { log.record("bad", json::array({1, 2})); }, {"'bad' record must be a JSON object"});
}

TEST(FormatDurationTest, ReadsLikeAClock) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(12.4), "12s");
  EXPECT_EQ(format_duration(59.6), "1m00s");
  EXPECT_EQ(format_duration(245), "4m05s");
  EXPECT_EQ(format_duration(3599), "59m59s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(100 * 3600 + 60), "100h01m");
  EXPECT_EQ(format_duration(-1), "--");
  EXPECT_EQ(format_duration(std::numeric_limits<double>::quiet_NaN()), "--");
  EXPECT_EQ(format_duration(std::numeric_limits<double>::infinity()), "--");
}

}  // namespace
}  // namespace ofa
