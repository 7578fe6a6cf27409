#include "distill/progress.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "kernels/error.h"

namespace ofa {
namespace {

using ordered_json = nlohmann::ordered_json;

double unix_seconds() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::round(std::chrono::duration<double>(now).count() * 1000.0) / 1000.0;
}

// A line longer than the terminal wraps, and `\r` then only returns to the start of its last
// row: the bar must fit in one row to be redrawn in place.
std::size_t terminal_columns(std::FILE* out) {
  winsize size{};
  if (ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

std::string bar(std::int64_t done, std::int64_t total) {
  constexpr std::int64_t cells = 20;
  const std::int64_t filled = total > 0 ? std::clamp<std::int64_t>(done * cells / total, 0, cells) : 0;
  std::string text(cells + 2, '.');
  text.front() = '[';
  text.back() = ']';
  std::fill_n(text.begin() + 1, filled, '#');
  return text;
}

// "[ps 3/6 depth-1] epoch 2/5 step 120/750 loss 0.4123 acc 87.5% lr 0.0123 412 img/s ETA 12m05s",
// with a bar of the epoch's progress before "step" when the line still fits in `width` columns.
std::string step_line(const StepReport& r, std::size_t width) {
  const std::string head = concat('[', r.recipe, r.recipe.empty() ? "" : " ", r.phase_index, '/', r.phases, ' ',
                                  r.phase, "] epoch ", r.epoch, '/', r.epochs, ' ');
  char tail[160], loss[32] = "--", accuracy[32] = "--";
  if (std::isfinite(r.loss)) std::snprintf(loss, sizeof loss, "%.4f", r.loss);
  if (std::isfinite(r.accuracy)) std::snprintf(accuracy, sizeof accuracy, "%.1f%%", 100.0 * r.accuracy);
  std::snprintf(tail, sizeof tail, "step %lld/%lld loss %s acc %s lr %.4g %.0f img/s ETA %s",
                static_cast<long long>(r.step), static_cast<long long>(r.steps_in_epoch), loss, accuracy,
                r.learning_rate, r.images_per_second, format_duration(r.eta_seconds).c_str());
  const std::string with_bar = head + bar(r.step, r.steps_in_epoch) + ' ' + tail;
  return with_bar.size() <= width ? with_bar : head + tail;
}

// A record's fields for a human: key=value pairs, objects in braces, fractions to 4 digits.
std::string plain(const nlohmann::json& value) {
  if (value.is_object()) {
    std::string text;
    for (const auto& item : value.items()) text += concat(text.empty() ? "" : " ", item.key(), '=', plain(item.value()));
    return "{" + text + "}";
  }
  if (value.is_number_float()) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", value.get<double>());
    return text;
  }
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

// A run killed in the middle of writing a record leaves a partial last line; the next record
// must still start a line of its own so every complete line parses.
bool ends_mid_line(const std::string& path) {
  std::error_code error;
  if (std::filesystem::file_size(path, error) == 0 || error) return false;
  std::ifstream in(path, std::ios::binary);
  in.seekg(-1, std::ios::end);
  char last = '\n';
  in.get(last);
  return last != '\n';
}

}  // namespace

ProgressLog::ProgressLog(std::string metrics_path, std::FILE* out, bool terminal)
    : metrics_path_(std::move(metrics_path)), out_(out), terminal_(terminal) {
  if (metrics_path_.empty()) return;
  const bool partial = ends_mid_line(metrics_path_);
  metrics_ = std::fopen(metrics_path_.c_str(), "a");
  if (metrics_ == nullptr) fail(metrics_path_, "cannot open the metrics log for appending: ", std::strerror(errno));
  if (partial) std::fputc('\n', metrics_);
}

ProgressLog::~ProgressLog() {
  if (bar_open_) std::fputc('\n', out_);
  std::fflush(out_);
  if (metrics_ != nullptr) std::fclose(metrics_);
}

void ProgressLog::write_metrics(const ordered_json& line) {
  if (metrics_ == nullptr) return;
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (std::fwrite(text.data(), 1, text.size(), metrics_) != text.size() || std::fflush(metrics_) != 0)
    fail(metrics_path_, "cannot write the metrics log: ", std::strerror(errno));
}

void ProgressLog::print_line(const std::string& text) {
  if (bar_open_) std::fputs("\r\x1b[K", out_);
  bar_open_ = false;
  std::fputs((text + "\n").c_str(), out_);
  std::fflush(out_);
}

void ProgressLog::step(const StepReport& report, bool log_line) {
  if (log_line) {
    ordered_json line = {{"type", "step"}, {"time", unix_seconds()}};
    if (!report.recipe.empty()) line["recipe"] = report.recipe;
    line["phase"] = report.phase;
    line["phase_index"] = report.phase_index;
    line["phases"] = report.phases;
    line["epoch"] = report.epoch;
    line["epochs"] = report.epochs;
    line["step"] = report.step;
    line["steps_in_epoch"] = report.steps_in_epoch;
    line["global_step"] = report.global_step;
    line["loss"] = report.loss;
    line["accuracy"] = report.accuracy;
    line["learning_rate"] = report.learning_rate;
    line["images_per_second"] = report.images_per_second;
    line["eta_seconds"] = report.eta_seconds;
    if (report.device_allocations >= 0) {
      line["device_allocations"] = report.device_allocations;
      line["device_reserved_mb"] = report.device_reserved_mb;
    }
    if (report.ranks > 1) {
      line["ranks"] = report.ranks;
      line["allreduce_ms"] = report.allreduce_ms;
      line["allreduce_bytes"] = report.allreduce_bytes;
    }
    write_metrics(line);
  }
  if (!terminal_) {
    if (log_line) print_line(step_line(report, 0));
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (bar_open_ && !log_line && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  // One column spare: a line that fills the last column wraps on some terminals.
  const std::size_t width = terminal_columns(out_) - 1;
  std::string text = step_line(report, width);
  text.resize(std::min(text.size(), width));
  std::fputs(("\r" + text + "\x1b[K").c_str(), out_);
  std::fflush(out_);
  bar_open_ = true;
}

void ProgressLog::record(const std::string& type, const nlohmann::json& fields) {
  OFA_CHECK(fields.is_object() || fields.is_null(), "ProgressLog::record", "the fields of a '", type,
            "' record must be a JSON object, got ", fields.type_name());
  ordered_json line = {{"type", type}, {"time", unix_seconds()}};
  for (const auto& item : fields.items()) line[item.key()] = item.value();
  write_metrics(line);
  std::string text = type + ':';
  for (const auto& item : fields.items()) text += concat(' ', item.key(), '=', plain(item.value()));
  print_line(text);
}

void ProgressLog::message(const std::string& text) { print_line(text); }

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  const long long total = std::llround(std::min(seconds, 1e9));
  char text[32];
  if (total < 60)
    std::snprintf(text, sizeof text, "%llds", total);
  else if (total < 3600)
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  else
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, total / 60 % 60);
  return text;
}

}  // namespace ofa
