#pragma once

#include <string>

// What a latency was measured on. Two measurements are comparable only when every field but
// `threads` matches: the same processor, the same build of our kernels, the same backend. The
// thread count is a setting of the measurement, stored so a table says what it describes.
namespace ofa {

struct LatencyDevice {
  std::string backend = "cpu";  // "cpu" or "cuda:N"
  int threads = 1;
};

// "cpu" or "cuda:N"; anything else throws ofa::Error naming `option`.
LatencyDevice parse_latency_device(const std::string& text, int threads, const std::string& option);

struct DeviceDescription {
  std::string backend;    // "cpu" or "cuda:N"
  std::string processor;  // /proc/cpuinfo's model name (a GPU's name for cuda:N)
  int threads = 0;
  std::string compiler;   // e.g. "GCC 12.2.0"
  std::string build;      // optimisation, assertions, sanitizers, vector ISA, BLAS
  bool operator==(const DeviceDescription& other) const = default;
};

// This machine and build, running `device`. Throws ofa::Error for a backend this build lacks.
DeviceDescription describe_this_device(const LatencyDevice& device);

// "processor: table 'A', here 'B'; build: ..." for the fields other than threads that differ;
// empty when the two describe the same device.
std::string device_differences(const DeviceDescription& table, const DeviceDescription& here);

}  // namespace ofa
