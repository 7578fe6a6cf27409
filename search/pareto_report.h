#pragma once

#include <span>
#include <string>
#include <vector>

#include "search/nsga2.h"
#include "supernet/search_space.h"

// A Pareto front as files a person reads: a CSV table and a self-contained SVG plot of accuracy
// against the metric, with the subnets chosen for targets marked and labelled. Both are written
// atomically (supernet/atomic_file.h).
namespace ofa {

struct ParetoAxis {
  std::string metric;  // "macs", "params", "memory", "latency"
  std::string unit;    // "M", "KB", "ms"
};

// A chosen subnet drawn over the front.
struct MarkedSubnet {
  std::string label;
  double metric = 0;
  double accuracy = 0;
};

// Columns: METRIC_UNIT,predicted_top1,resolution,depths,kernels,expands (lists space-separated,
// so no field needs quoting), one row per point in the given order.
void write_pareto_csv(const std::string& path, const ParetoAxis& axis, std::span<const ParetoPoint> front);

void write_pareto_svg(const std::string& path, const ParetoAxis& axis, std::span<const ParetoPoint> front,
                      std::span<const MarkedSubnet> marked, const std::string& title);

// Ticks inside [low, high] at multiples of 1, 2 or 5 times a power of ten, about `count` intervals apart.
std::vector<double> nice_ticks(double low, double high, int count);

}  // namespace ofa
