#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "distill/lr_schedule.h"
#include "kernels/error.h"

namespace ofa {
namespace {

TEST(LearningRateTest, WarmsUpLinearlyToThePeak) {
  // 100 steps, 10 of warm-up from 0.01 to 0.1: each warm-up step adds 0.009.
  EXPECT_DOUBLE_EQ(learning_rate(0, 100, 10, 0.1, 0.01), 0.019);
  EXPECT_DOUBLE_EQ(learning_rate(4, 100, 10, 0.1, 0.01), 0.055);
  EXPECT_DOUBLE_EQ(learning_rate(9, 100, 10, 0.1, 0.01), 0.1);
  for (std::int64_t step = 1; step < 10; ++step)
    EXPECT_GT(learning_rate(step, 100, 10, 0.1, 0.01), learning_rate(step - 1, 100, 10, 0.1, 0.01));
  // From 0, the first step already moves (no step is wasted at a zero learning rate).
  EXPECT_DOUBLE_EQ(learning_rate(0, 100, 4, 0.2, 0.0), 0.05);
}

TEST(LearningRateTest, AnnealsByCosineAfterTheWarmUp) {
  EXPECT_DOUBLE_EQ(learning_rate(10, 100, 10, 0.1, 0.01), 0.1);
  // 90 cosine steps: step 10 + 45 is half-way.
  EXPECT_NEAR(learning_rate(55, 100, 10, 0.1, 0.01), 0.05, 1e-15);
  const double last = learning_rate(99, 100, 10, 0.1, 0.01);
  EXPECT_GT(last, 0.0);
  EXPECT_LT(last, 1e-4);
  for (std::int64_t step = 11; step < 100; ++step)
    EXPECT_LT(learning_rate(step, 100, 10, 0.1, 0.01), learning_rate(step - 1, 100, 10, 0.1, 0.01));
}

TEST(LearningRateTest, WithoutWarmUpStartsAtThePeak) {
  EXPECT_DOUBLE_EQ(learning_rate(0, 8, 0, 0.4, 0.0), 0.4);
  EXPECT_NEAR(learning_rate(4, 8, 0, 0.4, 0.0), 0.2, 1e-15);
  EXPECT_NEAR(learning_rate(0, 1, 0, 0.4, 0.0), 0.4, 1e-15);  // a one-step phase trains at the peak
}

TEST(LearningRateTest, AllWarmUpEndsAtThePeak) {
  EXPECT_DOUBLE_EQ(learning_rate(4, 5, 5, 0.3, 0.0), 0.3);
  EXPECT_DOUBLE_EQ(learning_rate(0, 5, 5, 0.3, 0.0), 0.06);
}

TEST(LearningRateTest, RejectsInvalidArguments) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(learning_rate(0, 0, 0, 0.1, 0.0), Error);     // no steps
  EXPECT_THROW(learning_rate(-1, 10, 0, 0.1, 0.0), Error);   // before the phase
  EXPECT_THROW(learning_rate(10, 10, 0, 0.1, 0.0), Error);   // after it
  EXPECT_THROW(learning_rate(0, 10, 11, 0.1, 0.0), Error);   // warm-up longer than the phase
  EXPECT_THROW(learning_rate(0, 10, -1, 0.1, 0.0), Error);
  EXPECT_THROW(learning_rate(0, 10, 2, -0.1, 0.0), Error);
  EXPECT_THROW(learning_rate(0, 10, 2, nan, 0.0), Error);
  EXPECT_THROW(learning_rate(0, 10, 2, 0.1, -1.0), Error);
  EXPECT_THROW(learning_rate(0, 10, 2, 0.1, std::numeric_limits<double>::infinity()), Error);
  try {
    learning_rate(12, 10, 0, 0.1, 0.0);
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "learning_rate: step 12 is outside the phase's 10 steps");
  }
}

}  // namespace
}  // namespace ofa
