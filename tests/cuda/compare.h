#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace ofa::cuda::testing {

// Entries outside atol + rtol * |expected| (NaN included).
inline std::size_t count_mismatches(const std::vector<float>& actual, const std::vector<double>& expected, double atol,
                                    double rtol, std::size_t* first = nullptr) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < actual.size() && i < expected.size(); ++i)
    if (!(std::abs(double(actual[i]) - expected[i]) <= atol + rtol * std::abs(expected[i]))) {
      if (bad++ == 0 && first != nullptr) *first = i;
    }
  return bad;
}

inline void expect_all_close(const std::vector<float>& actual, const std::vector<double>& expected, double atol,
                             double rtol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  std::size_t first = 0;
  const std::size_t bad = count_mismatches(actual, expected, atol, rtol, &first);
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << actual.size() << " entries differ; first at " << first
                     << ": " << (bad ? actual[first] : 0.0f) << " instead of " << (bad ? expected[first] : 0.0);
}

}  // namespace ofa::cuda::testing
