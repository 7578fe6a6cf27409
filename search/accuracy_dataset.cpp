#include "search/accuracy_dataset.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <tuple>

#include "distill/evaluation.h"
#include "kernels/error.h"
#include "supernet/atomic_file.h"

namespace ofa {
namespace {

using Key =
    std::tuple<std::uint64_t, std::int64_t, std::int64_t, std::int64_t>;  // seed, index, calibration, validation

CachedMeasurement parse_line(const std::string& line, const SearchSpace& space, const std::string& where) {
  CachedMeasurement m;
  try {
    const nlohmann::json record = nlohmann::json::parse(line);
    m.seed = record.at("seed").get<std::uint64_t>();
    m.index = record.at("index").get<std::int64_t>();
    m.calibration_images = record.at("calibration_images").get<std::int64_t>();
    m.validation_images = record.at("validation_images").get<std::int64_t>();
    m.sample.subnet = parse_subnet(record.at("subnet"), space, where + ": subnet");
    m.sample.top1 = record.at("top1").get<double>();
  } catch (const nlohmann::json::exception& e) {
    fail(where,
         "is not a measurement record {seed, index, calibration_images, validation_images, subnet, top1}: ", e.what(),
         "; fix or delete the line (measurements are never silently redone over it)");
  }
  OFA_CHECK(m.index >= 0 && m.sample.top1 >= 0 && m.sample.top1 <= 1, where, "index ", m.index, " or top1 ",
            m.sample.top1, " out of range (expected index >= 0 and top1 in [0, 1])");
  OFA_CHECK(m.sample.subnet == sample_subnet(space, {}, m.seed, static_cast<std::uint64_t>(m.index)), where,
            "the subnet is not sample ", m.index, " of seed ", m.seed,
            " of this run's search space: the file belongs to another run");
  return m;
}

// One line per call, appended with O_APPEND and synced, so a kill leaves at most one torn last line.
void append_line(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  OFA_CHECK(fd >= 0, path, "cannot be opened for appending: ", std::strerror(errno));
  std::size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      fail(path, "cannot be appended to: ", std::strerror(error));
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  OFA_CHECK(synced, path, "cannot be synced: ", std::strerror(error));
}

double measure(const SearchRun& run, const Subnet& subnet, const std::shared_ptr<const Dataset>& validation) {
  ExtractedNetwork network = calibrated_subnet(run, subnet);
  return evaluate(*network.network, validation, run.profile, subnet.resolution).top1;
}

}  // namespace

std::string accuracy_cache_path(const std::string& run_directory) {
  return (std::filesystem::path(run_directory) / "accuracy_samples.jsonl").string();
}

std::vector<CachedMeasurement> read_accuracy_cache(const std::string& path, const SearchSpace& space) {
  if (!std::filesystem::exists(path)) return {};
  std::ifstream in(path, std::ios::binary);
  OFA_CHECK(in.good(), path, "cannot be read");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<CachedMeasurement> measurements;
  std::size_t begin = 0;
  for (std::int64_t line_number = 1; begin < text.size(); ++line_number) {
    const std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) {
      // A torn append: the measurement it held is redone; every complete line is kept.
      const std::string kept = text.substr(0, begin);
      write_file_atomically(path, std::as_bytes(std::span(kept.data(), kept.size())));
      break;
    }
    const std::string line = text.substr(begin, end - begin);
    if (!line.empty()) measurements.push_back(parse_line(line, space, concat(path, ":", line_number)));
    begin = end + 1;
  }
  return measurements;
}

std::vector<AccuracySample> measure_accuracy_dataset(
    const SearchRun& run, const AccuracyDatasetOptions& options,
    const std::function<void(std::int64_t done, std::int64_t total)>& progress) {
  OFA_CHECK(options.samples > 0 && options.validation_images >= 0, "measure_accuracy_dataset", "samples is ",
            options.samples, " and validation_images ", options.validation_images,
            "; expected samples > 0 and validation_images >= 0");
  std::shared_ptr<const Dataset> validation = run.valid;
  if (options.validation_images > 0 && options.validation_images < run.valid->size()) {
    std::vector<std::int64_t> first(static_cast<std::size_t>(options.validation_images));
    for (std::size_t i = 0; i < first.size(); ++i) first[i] = static_cast<std::int64_t>(i);
    validation = std::make_shared<SubsetDataset>(run.valid, std::move(first), run.valid->name() + " (first images)");
  }
  const std::int64_t validation_images = validation->size();

  const std::string path = accuracy_cache_path(run.directory);
  std::map<Key, double> cached;
  for (const CachedMeasurement& m : read_accuracy_cache(path, run.space()))
    cached[{m.seed, m.index, m.calibration_images, m.validation_images}] = m.sample.top1;

  std::vector<AccuracySample> samples;
  for (std::int64_t i = 0; i < options.samples; ++i) {
    const Subnet subnet = sample_subnet(run.space(), {}, options.seed, static_cast<std::uint64_t>(i));
    const auto found = cached.find({options.seed, i, run.calibration_images, validation_images});
    double top1 = 0;
    if (found != cached.end()) {
      top1 = found->second;
    } else {
      top1 = measure(run, subnet, validation);
      const nlohmann::json record = {{"seed", options.seed},
                                     {"index", i},
                                     {"calibration_images", run.calibration_images},
                                     {"validation_images", validation_images},
                                     {"subnet", subnet_to_json(subnet)},
                                     {"top1", top1}};
      append_line(path, record.dump() + "\n");
    }
    samples.push_back({subnet, top1});
    if (progress) progress(i + 1, options.samples);
  }
  return samples;
}

}  // namespace ofa
