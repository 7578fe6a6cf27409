#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/pooling.h"
#include "tests/support/expect_error.h"
#include "tests/support/test_tensors.h"

namespace ofa {
namespace {

using testing::expect_error_naming;

using testing::expect_close;
using testing::expect_gradient;
using testing::Probe;
using testing::random_int;
using testing::random_tensor;

Shape random_image_shape() { return Shape{random_int(1, 4), random_int(1, 7), random_int(1, 6), random_int(1, 19)}; }

std::vector<double> reference_pool(const Tensor& x) {
  std::vector<double> y;
  for (std::int64_t n = 0; n < x.dim(0); ++n)
    for (std::int64_t c = 0; c < x.dim(3); ++c) {
      double sum = 0;
      for (std::int64_t h = 0; h < x.dim(1); ++h)
        for (std::int64_t w = 0; w < x.dim(2); ++w) sum += x.at({n, h, w, c});
      y.push_back(sum / static_cast<double>(x.dim(1) * x.dim(2)));
    }
  return y;
}

std::vector<double> reference_scale(const Tensor& x, const Tensor& s) {
  std::vector<double> y;
  for (std::int64_t n = 0; n < x.dim(0); ++n)
    for (std::int64_t h = 0; h < x.dim(1); ++h)
      for (std::int64_t w = 0; w < x.dim(2); ++w)
        for (std::int64_t c = 0; c < x.dim(3); ++c) y.push_back(double(x.at({n, h, w, c})) * s.at({n, c}));
  return y;
}

TEST(GlobalAvgPool, ForwardMatchesReference) {
  for (int trial = 0; trial < 10; ++trial) {
    // The last shape is large enough for the parallel path and several float blocks.
    const Shape shape = trial == 9 ? Shape{3, 41, 37, 24} : random_image_shape();
    Tensor x = random_tensor(shape, -1.0f, 3.0f);
    Tensor y = Tensor::empty({shape[0], shape[3]});
    global_avg_pool_forward(x, y);
    expect_close(y, reference_pool(x), 1e-6, 1e-5, "pooled " + shape.str());
  }
}

// Both ops are linear (pool) or bilinear (scale), so central differences are exact up to
// float rounding of the loss, ~1e-5 after dividing by 2 * eps: default tolerances hold.
TEST(GlobalAvgPool, BackwardMatchesFiniteDifferences) {
  for (int trial = 0; trial < 6; ++trial) {
    const Shape shape = random_image_shape();
    Tensor x = random_tensor(shape);
    Tensor y = Tensor::empty({shape[0], shape[3]});
    Probe probe(y.shape());
    auto loss = [&] {
      global_avg_pool_forward(x, y);
      return probe(y);
    };
    Tensor dx = random_tensor(shape);  // garbage: the backward must overwrite it
    global_avg_pool_backward(probe.weights, dx);
    expect_gradient(loss, x, dx, "pool dx " + shape.str());
  }
}

TEST(ChannelScale, ForwardMatchesReferenceAndRunsInPlace) {
  for (int trial = 0; trial < 8; ++trial) {
    const Shape shape = trial == 7 ? Shape{2, 43, 31, 29} : random_image_shape();
    Tensor x = random_tensor(shape);
    Tensor s = random_tensor({shape[0], shape[3]}, 0.0f, 1.0f);
    Tensor y = Tensor::empty(shape);
    channel_scale_forward(x, s, y);
    const std::vector<double> want = reference_scale(x, s);
    expect_close(y, want, 1e-7, 1e-6, "scaled " + shape.str());
    channel_scale_forward(x, s, x);
    expect_close(x, want, 1e-7, 1e-6, "scaled in place " + shape.str());
  }
}

TEST(ChannelScale, BackwardMatchesFiniteDifferences) {
  for (int trial = 0; trial < 6; ++trial) {
    const Shape shape = random_image_shape();
    Tensor x = random_tensor(shape);
    Tensor s = random_tensor({shape[0], shape[3]});
    Tensor y = Tensor::empty(shape);
    Probe probe(shape);
    auto loss = [&] {
      channel_scale_forward(x, s, y);
      return probe(y);
    };
    Tensor dx = random_tensor(shape);
    Tensor ds = random_tensor(s.shape());
    channel_scale_backward(x, s, probe.weights, &dx, ds);
    expect_gradient(loss, x, dx, "scale dx " + shape.str());
    expect_gradient(loss, s, ds, "scale ds " + shape.str());

    Tensor ds_only = Tensor::empty(s.shape());
    channel_scale_backward(x, s, probe.weights, nullptr, ds_only);
    expect_close(ds_only, ds, 0.0, 0.0, "ds without dx");
  }
}

TEST(ChannelScale, BackwardOnALargeInputMatchesReference) {
  Tensor x = random_tensor({3, 37, 41, 21});
  Tensor s = random_tensor({3, 21});
  Tensor dy = random_tensor(x.shape());
  Tensor dx = Tensor::empty(x.shape());
  Tensor ds = Tensor::empty(s.shape());
  channel_scale_backward(x, s, dy, &dx, ds);
  std::vector<double> want_ds;
  for (std::int64_t n = 0; n < 3; ++n)
    for (std::int64_t c = 0; c < 21; ++c) {
      double sum = 0;
      for (std::int64_t h = 0; h < 37; ++h)
        for (std::int64_t w = 0; w < 41; ++w) sum += double(dy.at({n, h, w, c})) * x.at({n, h, w, c});
      want_ds.push_back(sum);
    }
  expect_close(dx, reference_scale(dy, s), 1e-7, 1e-6, "large dx");
  // 1517-term sums of O(1) products: float blocks of 32 then double, ~1e-6 of the sum's scale.
  expect_close(ds, want_ds, 1e-4, 1e-5, "large ds");
}

TEST(ChannelScale, BackwardMayOverwriteDy) {
  Tensor x = random_tensor({2, 5, 3, 7});
  Tensor s = random_tensor({2, 7});
  Tensor dy = random_tensor(x.shape());
  Tensor dx = Tensor::empty(x.shape());
  Tensor ds = Tensor::empty(s.shape());
  Tensor ds_aliased = Tensor::empty(s.shape());
  channel_scale_backward(x, s, dy, &dx, ds);
  channel_scale_backward(x, s, dy, &dy, ds_aliased);
  expect_close(dy, dx, 0.0, 0.0, "dx over dy");
  expect_close(ds_aliased, ds, 0.0, 0.0, "ds with aliased dx");
}

TEST(PooledChannelScale, InputGradientIsScaleGradientPlusPoolGradient) {
  for (int trial = 0; trial < 6; ++trial) {
    const Shape shape = trial == 5 ? Shape{2, 39, 33, 26} : random_image_shape();
    Tensor dy = random_tensor(shape);
    Tensor s = random_tensor({shape[0], shape[3]});
    Tensor dpooled = random_tensor(s.shape());
    Tensor dx = Tensor::empty(shape);
    pooled_channel_scale_input_backward(dy, s, dpooled, dx);

    Tensor through_scale = Tensor::empty(shape);
    Tensor through_pool = Tensor::empty(shape);
    Tensor unused_ds = Tensor::empty(s.shape());
    channel_scale_backward(random_tensor(shape), s, dy, &through_scale, unused_ds);
    global_avg_pool_backward(dpooled, through_pool);
    const std::vector<double> a = testing::to_doubles(through_scale);
    const std::vector<double> b = testing::to_doubles(through_pool);
    std::vector<double> want;
    for (std::size_t i = 0; i < a.size(); ++i) want.push_back(a[i] + b[i]);
    expect_close(dx, want, 1e-6, 1e-6, "combined dx " + shape.str());
    pooled_channel_scale_input_backward(dy, s, dpooled, dy);
    expect_close(dy, dx, 0.0, 0.0, "combined dx over dy");
  }
}

TEST(Pooling, RejectsBadInput) {
  Tensor x = random_tensor({2, 3, 3, 5});
  Tensor pooled = Tensor::empty({2, 5});
  Tensor wrong_pooled = Tensor::empty({2, 4});
  expect_error_naming([&] { global_avg_pool_forward(x, wrong_pooled); }, "global_avg_pool_forward");
  expect_error_naming([&] { global_avg_pool_forward(Tensor(), pooled); }, "global_avg_pool_forward");
  Tensor flat = random_tensor({2, 5});
  expect_error_naming([&] { global_avg_pool_forward(flat, pooled); }, "global_avg_pool_forward");
  Tensor no_pixels = Tensor::empty({2, 0, 3, 5});
  expect_error_naming([&] { global_avg_pool_forward(no_pixels, pooled); }, "global_avg_pool_forward");
  Tensor dx = Tensor::empty(x.shape());
  expect_error_naming([&] { global_avg_pool_backward(wrong_pooled, dx); }, "global_avg_pool_backward");

  Tensor y = Tensor::empty(x.shape());
  Tensor wrong_y = Tensor::empty({2, 3, 5, 3});
  expect_error_naming([&] { channel_scale_forward(x, wrong_pooled, y); }, "channel_scale_forward");
  expect_error_naming([&] { channel_scale_forward(x, pooled, wrong_y); }, "channel_scale_forward");
  Tensor ds = Tensor::empty({2, 5});
  expect_error_naming([&] { channel_scale_backward(x, pooled, wrong_y, &dx, ds); }, "channel_scale_backward");
  expect_error_naming([&] { channel_scale_backward(x, pooled, y, &dx, wrong_pooled); }, "channel_scale_backward");
  expect_error_naming([&] { channel_scale_backward(x, Tensor(), y, &dx, ds); }, "channel_scale_backward");
  expect_error_naming([&] { pooled_channel_scale_input_backward(y, pooled, wrong_pooled, dx); },
                      "pooled_channel_scale_input_backward");
  expect_error_naming([&] { pooled_channel_scale_input_backward(y, pooled, pooled, wrong_y); },
                      "pooled_channel_scale_input_backward");
}

}  // namespace
}  // namespace ofa
