#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "search/latency_measurement.h"
#include "search/layer_key.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"
#include "tests/support/expect_error.h"
#include "tests/supernet/tiny_space.h"

// Structure only: timings on a shared machine are not asserted.
namespace ofa {
namespace {

LatencyMeasurementOptions quick_options() {
  LatencyMeasurementOptions options;
  options.device = {"cpu", 1};
  options.warmup = 1;
  options.repeats = 2;
  return options;
}

TEST(MeasureLatencyTable, HasAnEntryForEveryLayerOfTheSpace) {
  const SearchSpace space = testing::tiny_space();
  MeasurementNoise noise;
  const LatencyTable table = measure_latency_table(space, quick_options(), &noise);
  const auto layers = space_layers(space);
  ASSERT_EQ(table.milliseconds.size(), layers.size());
  for (const auto& [key, layer] : layers) {
    ASSERT_TRUE(table.milliseconds.contains(key)) << describe_layer(key);
    if (key.kind != LayerKind::network) {
      EXPECT_GT(table.milliseconds.at(key), 0.0) << describe_layer(key);
    }
    EXPECT_TRUE(std::isfinite(table.milliseconds.at(key)));
  }
  EXPECT_EQ(table.space_name, "tiny");
  EXPECT_EQ(table.space, space.to_json());
  EXPECT_EQ(table.device.backend, "cpu");
  EXPECT_EQ(table.device.threads, 1);
  EXPECT_EQ(table.measurement.repeats, 2);
  EXPECT_GT(table.measurement.seconds, 0.0);
  // Every layer but the network entries, and three calibration networks per resolution.
  EXPECT_EQ(noise.entries, static_cast<std::int64_t>(layers.size() - space.resolutions.size() +
                                                     3 * space.resolutions.size()));
  EXPECT_GE(noise.runs, 2 * noise.entries);
  EXPECT_NO_THROW(check_latency_table(table, space, false));
}

TEST(ValidateLatencyTable, ComparesPredictedWithMeasuredSubnets) {
  const SearchSpace space = testing::tiny_space();
  const LatencyTable table = measure_latency_table(space, quick_options());
  const LatencyValidation validation = validate_latency_table(table, space, 3, quick_options());
  ASSERT_EQ(validation.samples.size(), 3u);
  double error = 0.0;
  for (std::uint64_t i = 0; i < 3; ++i) {
    const LatencyValidationSample& sample = validation.samples[i];
    EXPECT_EQ(sample.subnet, sample_subnet(space, {}, 0, i));
    EXPECT_DOUBLE_EQ(sample.predicted_ms, predict_latency_ms(table, space, sample.subnet));
    EXPECT_GT(sample.measured_ms, 0.0);
    error += std::abs(sample.predicted_ms - sample.measured_ms) / sample.measured_ms;
  }
  EXPECT_NEAR(validation.mean_absolute_percentage_error, 100.0 * error / 3.0, 1e-9);
}

TEST(MeasureLatencyTable, RefusesCudaInThisBuildAndBadSettings) {
  LatencyMeasurementOptions options = quick_options();
  options.device = {"cuda:0", 1};
  testing::expect_error_naming([&] { measure_latency_table(testing::tiny_space(), options); }, "--device cuda:0",
                               "CUDA backend is not available");
  options = quick_options();
  options.repeats = 0;
  testing::expect_error_naming([&] { measure_latency_table(testing::tiny_space(), options); }, "latency measurement",
                               "repeats must be >= 1");
}

}  // namespace
}  // namespace ofa
