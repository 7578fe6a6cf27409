#include "search/pareto_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "kernels/error.h"
#include "supernet/atomic_file.h"

namespace ofa {
namespace {

template <class T>
std::string joined(const std::vector<T>& values) {
  std::ostringstream out;
  for (std::size_t i = 0; i < values.size(); ++i) out << (i ? " " : "") << values[i];
  return out.str();
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// Enough decimals to tell neighbouring ticks apart.
int tick_decimals(const std::vector<double>& ticks) {
  if (ticks.size() < 2) return 2;
  const double step = ticks[1] - ticks[0];
  return std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 6);
}

std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

void write_text(const std::string& path, const std::string& text) {
  write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

// A range that is never empty, padded a little so points do not sit on the frame.
std::pair<double, double> padded_range(double low, double high) {
  if (high <= low) {
    const double half = low != 0 ? std::abs(low) * 0.05 : 0.5;
    return {low - half, high + half};
  }
  const double pad = (high - low) * 0.05;
  return {low - pad, high + pad};
}

}  // namespace

std::vector<double> nice_ticks(double low, double high, int count) {
  OFA_CHECK(high > low && count > 0, "nice_ticks", "expected low < high and count > 0, got ", low, ", ", high, " and ",
            count);
  // The 1-2-5 step whose number of intervals comes closest to `count`.
  const double power = std::pow(10.0, std::floor(std::log10((high - low) / count)));
  double step = power;
  for (double factor : {1.0, 2.0, 5.0, 10.0})
    if (std::abs((high - low) / (factor * power) - count) < std::abs((high - low) / step - count))
      step = factor * power;
  std::vector<double> ticks;
  for (double t = std::ceil(low / step - 1e-9) * step; t <= high + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

void write_pareto_csv(const std::string& path, const ParetoAxis& axis, std::span<const ParetoPoint> front) {
  std::ostringstream out;
  out.precision(8);
  out << axis.metric << '_' << axis.unit << ",predicted_top1,resolution,depths,kernels,expands\n";
  for (const ParetoPoint& p : front)
    out << p.metric << ',' << p.accuracy << ',' << p.subnet.resolution << ',' << joined(p.subnet.depth) << ','
        << joined(p.subnet.kernel) << ',' << joined(p.subnet.expand) << '\n';
  write_text(path, out.str());
}

void write_pareto_svg(const std::string& path, const ParetoAxis& axis, std::span<const ParetoPoint> front,
                      std::span<const MarkedSubnet> marked, const std::string& title) {
  constexpr double kWidth = 720, kHeight = 480, kLeft = 80, kRight = 30, kTop = 50, kBottom = 60;
  constexpr double kPlotWidth = kWidth - kLeft - kRight, kPlotHeight = kHeight - kTop - kBottom;
  double x_low = 0, x_high = 0, y_low = 0, y_high = 0;
  bool any = false;
  const auto include = [&](double x, double y) {
    x_low = any ? std::min(x_low, x) : x;
    x_high = any ? std::max(x_high, x) : x;
    y_low = any ? std::min(y_low, y) : y;
    y_high = any ? std::max(y_high, y) : y;
    any = true;
  };
  for (const ParetoPoint& p : front) include(p.metric, 100.0 * p.accuracy);
  for (const MarkedSubnet& m : marked) include(m.metric, 100.0 * m.accuracy);
  OFA_CHECK(any, "write_pareto_svg", path, ": nothing to plot (an empty front and no marked subnets)");
  std::tie(x_low, x_high) = padded_range(x_low, x_high);
  std::tie(y_low, y_high) = padded_range(y_low, y_high);
  const auto sx = [&](double x) { return kLeft + (x - x_low) / (x_high - x_low) * kPlotWidth; };
  const auto sy = [&](double y) { return kTop + (1.0 - (y - y_low) / (y_high - y_low)) * kPlotHeight; };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" viewBox=\"0 0 " << kWidth << ' ' << kHeight << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << kWidth / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" << escaped(title)
      << "</text>\n";

  const std::vector<double> x_ticks = nice_ticks(x_low, x_high, 8), y_ticks = nice_ticks(y_low, y_high, 6);
  const int x_decimals = tick_decimals(x_ticks), y_decimals = tick_decimals(y_ticks);
  for (double t : x_ticks) {
    svg << "<line x1=\"" << sx(t) << "\" y1=\"" << kTop << "\" x2=\"" << sx(t) << "\" y2=\"" << kTop + kPlotHeight
        << "\" stroke=\"#eeeeee\"/>\n";
    svg << "<line x1=\"" << sx(t) << "\" y1=\"" << kTop + kPlotHeight << "\" x2=\"" << sx(t) << "\" y2=\""
        << kTop + kPlotHeight + 5 << "\" stroke=\"black\"/>\n";
    svg << "<text x=\"" << sx(t) << "\" y=\"" << kTop + kPlotHeight + 18 << "\" text-anchor=\"middle\">"
        << fixed(t, x_decimals) << "</text>\n";
  }
  for (double t : y_ticks) {
    svg << "<line x1=\"" << kLeft << "\" y1=\"" << sy(t) << "\" x2=\"" << kLeft + kPlotWidth << "\" y2=\"" << sy(t)
        << "\" stroke=\"#eeeeee\"/>\n";
    svg << "<line x1=\"" << kLeft - 5 << "\" y1=\"" << sy(t) << "\" x2=\"" << kLeft << "\" y2=\"" << sy(t)
        << "\" stroke=\"black\"/>\n";
    svg << "<text x=\"" << kLeft - 8 << "\" y=\"" << sy(t) + 4 << "\" text-anchor=\"end\">" << fixed(t, y_decimals)
        << "</text>\n";
  }
  svg << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << kPlotWidth << "\" height=\"" << kPlotHeight
      << "\" fill=\"none\" stroke=\"black\"/>\n";
  svg << "<text x=\"" << kLeft + kPlotWidth / 2 << "\" y=\"" << kHeight - 15 << "\" text-anchor=\"middle\">"
      << escaped(axis.metric) << " (" << escaped(axis.unit) << ")</text>\n";
  svg << "<text transform=\"translate(20," << kTop + kPlotHeight / 2
      << ") rotate(-90)\" text-anchor=\"middle\">predicted top-1 accuracy (%)</text>\n";

  if (!front.empty()) {
    svg << "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"";
    for (const ParetoPoint& p : front) svg << sx(p.metric) << ',' << sy(100.0 * p.accuracy) << ' ';
    svg << "\"/>\n";
    for (const ParetoPoint& p : front)
      svg << "<circle cx=\"" << sx(p.metric) << "\" cy=\"" << sy(100.0 * p.accuracy)
          << "\" r=\"3\" fill=\"#1f77b4\"/>\n";
  }
  for (const MarkedSubnet& m : marked) {
    const double x = sx(m.metric), y = sy(100.0 * m.accuracy);
    svg << "<circle cx=\"" << x << "\" cy=\"" << y
        << "\" r=\"6\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n";
    // Labels go left of points in the right half so they stay inside the frame.
    const bool left = x > kLeft + kPlotWidth / 2;
    svg << "<text x=\"" << (left ? x - 9 : x + 9) << "\" y=\"" << y - 8 << "\" fill=\"#d62728\" text-anchor=\""
        << (left ? "end" : "start") << "\">" << escaped(m.label) << "</text>\n";
  }
  svg << "</svg>\n";
  write_text(path, svg.str());
}

}  // namespace ofa
