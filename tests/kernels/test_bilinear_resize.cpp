#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/bilinear_resize.h"
#include "kernels/threads.h"
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

// PyTorch's align_corners=False source index along one axis, spelled out in double.
struct SourceTap {
  std::int64_t lo, hi;
  double frac;
};

SourceTap reference_tap(std::int64_t o, std::int64_t in, std::int64_t out) {
  const double source = std::max(0.0, (static_cast<double>(o) + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5);
  const std::int64_t lo = std::min(static_cast<std::int64_t>(std::floor(source)), in - 1);
  return {lo, std::min(lo + 1, in - 1), source - static_cast<double>(lo)};
}

std::vector<double> reference_resize(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  const std::int64_t n_max = x.dim(0), h = x.dim(1), w = x.dim(2), channels = x.dim(3);
  std::vector<double> y;
  for (std::int64_t n = 0; n < n_max; ++n)
    for (std::int64_t oy = 0; oy < out_h; ++oy)
      for (std::int64_t ox = 0; ox < out_w; ++ox)
        for (std::int64_t c = 0; c < channels; ++c) {
          const SourceTap r = reference_tap(oy, h, out_h), q = reference_tap(ox, w, out_w);
          auto at = [&](std::int64_t iy, std::int64_t ix) { return static_cast<double>(x.at({n, iy, ix, c})); };
          y.push_back((1 - r.frac) * ((1 - q.frac) * at(r.lo, q.lo) + q.frac * at(r.lo, q.hi)) +
                      r.frac * ((1 - q.frac) * at(r.hi, q.lo) + q.frac * at(r.hi, q.hi)));
        }
  return y;
}

Tensor single_channel(std::int64_t h, std::int64_t w, const std::vector<float>& values) {
  Tensor t = Tensor::empty({1, h, w, 1});
  std::copy(values.begin(), values.end(), t.f32());
  return t;
}

Tensor resized(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  Tensor y = Tensor::empty({x.dim(0), out_h, out_w, x.dim(3)});
  bilinear_resize_forward(x, y);
  return y;
}

// Expected values below are worked by hand from PyTorch's rule (source = (o + 0.5) * in/out - 0.5,
// clamped at 0; upper neighbour clamped at the edge); the 2x2 -> 4x4 case is PyTorch's documented
// output for F.interpolate(torch.arange(1., 5.).view(1, 1, 2, 2), size=4, mode='bilinear').
TEST(BilinearResize, UpscalesTwoByTwoLikePyTorch) {
  const Tensor y = resized(single_channel(2, 2, {1, 2, 3, 4}), 4, 4);
  expect_close(y, {1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0}, 1e-6, 0,
               "2x2 -> 4x4");
}

// Rows 5 -> 3 sample source 1/3, 2, 11/3; so do columns. On x = 5 * row + col the result is
// 5 * r + c exactly, a check on both the fractions and which neighbour gets which weight.
TEST(BilinearResize, DownscalesFiveByFiveLikePyTorch) {
  std::vector<float> ramp(25);
  for (int i = 0; i < 25; ++i) ramp[static_cast<std::size_t>(i)] = static_cast<float>(i);
  const Tensor y = resized(single_channel(5, 5, ramp), 3, 3);
  expect_close(y, {2.0, 11.0 / 3, 16.0 / 3, 31.0 / 3, 12.0, 41.0 / 3, 56.0 / 3, 61.0 / 3, 22.0}, 1e-5, 0,
               "5x5 -> 3x3");
}

// 2x3 -> 3x2 on a non-linear image with two channels: rows sample 0 (clamped from -1/6), 0.5
// and 7/6 (upper neighbour clamped to row 1); columns sample 0.25 and 1.75.
TEST(BilinearResize, ResizesNonSquareOddSizesLikePyTorch) {
  Tensor x = Tensor::empty({1, 2, 3, 2});
  const float image[2][3] = {{1, 2, 4}, {8, 16, 32}};
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t j = 0; j < 3; ++j) {
      x.at({0, i, j, 0}) = image[i][j];
      x.at({0, i, j, 1}) = -2 * image[i][j];
    }
  const Tensor y = resized(x, 3, 2);
  expect_close(y, {1.25, -2.5, 3.5, -7.0, 5.625, -11.25, 15.75, -31.5, 10.0, -20.0, 28.0, -56.0}, 1e-5, 0,
               "2x3 -> 3x2");
}

TEST(BilinearResize, EqualSizeIsIdentity) {
  const Tensor x = random_tensor({2, 5, 7, 3});
  expect_close(resized(x, 5, 7), x, 0, 0, "identity resize");
}

TEST(BilinearResize, ForwardMatchesReferenceOnRandomSizes) {
  for (int trial = 0; trial < 16; ++trial) {
    const std::int64_t n = random_int(1, 3), h = random_int(1, 13), w = random_int(1, 13), c = random_int(1, 19);
    const std::int64_t out_h = random_int(1, 17), out_w = random_int(1, 17);
    const Tensor x = random_tensor({n, h, w, c});
    expect_close(resized(x, out_h, out_w), reference_resize(x, out_h, out_w), 1e-5, 1e-5,
                 "resize " + x.shape().str() + " -> " + std::to_string(out_h) + "x" + std::to_string(out_w));
  }
}

// The op is linear in x, so central differences have no truncation error; only the float
// rounding of the outputs that read the perturbed pixel remains, divided by the 2e-2 step
// (worst measured over 200 random cases: 8e-6). atol 1e-4 keeps a >10x margin, while a
// misrouted tap moves a gradient by O(0.1).
TEST(BilinearResize, BackwardMatchesFiniteDifferences) {
  for (int trial = 0; trial < 8; ++trial) {
    const std::int64_t n = random_int(1, 2), h = random_int(1, 9), w = random_int(1, 9), c = random_int(1, 5);
    const std::int64_t out_h = random_int(1, 11), out_w = random_int(1, 11);
    Tensor x = random_tensor({n, h, w, c});
    Tensor y = Tensor::empty({n, out_h, out_w, c});
    Probe probe(y.shape());
    auto loss = [&] {
      bilinear_resize_forward(x, y);
      return probe(y);
    };
    Tensor dx = Tensor::full(x.shape(), 123.0f);  // overwritten, not accumulated
    bilinear_resize_backward(probe.weights, dx);
    expect_gradient(loss, x, dx, "resize dx " + x.shape().str() + " -> " + y.shape().str(), 1e-2, 1e-4, 1e-3, 400);
  }
}

// <resize(x), dy> == <x, resize_backward(dy)> checked on every element at once, at the
// benchmark's 224 -> 160 ratio where some source pixels are read by no output.
TEST(BilinearResize, BackwardIsTheAdjointOfForward) {
  const Tensor x = random_tensor({2, 23, 17, 3});
  const Tensor dy = random_tensor({2, 16, 12, 3});
  Tensor dx = Tensor::empty(x.shape());
  bilinear_resize_backward(dy, dx);
  const std::vector<double> y = reference_resize(x, 16, 12), g = testing::to_doubles(dy);
  const std::vector<double> xs = testing::to_doubles(x), dxs = testing::to_doubles(dx);
  double forward_side = 0, backward_side = 0;
  for (std::size_t i = 0; i < y.size(); ++i) forward_side += y[i] * g[i];
  for (std::size_t i = 0; i < xs.size(); ++i) backward_side += xs[i] * dxs[i];
  EXPECT_NEAR(forward_side, backward_side, 1e-4 * (1 + std::abs(forward_side)));
}

TEST(BilinearResize, ResultsDoNotDependOnThreadCount) {
  const Tensor x = random_tensor({3, 11, 9, 5});
  const Tensor dy = random_tensor({3, 7, 13, 5});
  const int saved = num_threads();
  std::vector<std::vector<double>> forward, backward;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    Tensor dx = Tensor::empty(x.shape());
    bilinear_resize_backward(dy, dx);
    forward.push_back(testing::to_doubles(resized(x, 7, 13)));
    backward.push_back(testing::to_doubles(dx));
  }
  set_num_threads(saved);
  EXPECT_EQ(forward[0], forward[1]);
  EXPECT_EQ(forward[0], forward[2]);
  EXPECT_EQ(backward[0], backward[1]);
  EXPECT_EQ(backward[0], backward[2]);
}

TEST(BilinearResize, RejectsBadInput) {
  const Tensor x = random_tensor({2, 8, 8, 3});
  Tensor wrong_channels = Tensor::empty({2, 4, 4, 5});
  expect_error_naming([&] { bilinear_resize_forward(x, wrong_channels); }, "bilinear_resize_forward", "[2,4,4,5]");
  Tensor wrong_batch = Tensor::empty({1, 4, 4, 3});
  expect_error_naming([&] { bilinear_resize_forward(x, wrong_batch); }, "bilinear_resize_forward", "[1,4,4,3]");
  Tensor empty_rows = Tensor::empty({2, 0, 4, 3});
  expect_error_naming([&] { bilinear_resize_forward(x, empty_rows); }, "bilinear_resize_forward", ">= 1");
  Tensor y = Tensor::empty({2, 4, 4, 3});
  expect_error_naming([&] { bilinear_resize_forward(Tensor(), y); }, "bilinear_resize_forward", "undefined");
  expect_error_naming([&] { bilinear_resize_forward(x.reshape({2, 64, 3}), y); }, "bilinear_resize_forward", "rank");
  Tensor strided = Tensor::empty({2, 4, 4, 6}).prefix(3, 3);
  expect_error_naming([&] { bilinear_resize_forward(x, strided); }, "bilinear_resize_forward", "contiguous");
  Tensor dx = Tensor::empty({2, 8, 8, 3});
  expect_error_naming([&] { bilinear_resize_backward(wrong_channels, dx); }, "bilinear_resize_backward",
                      "[2,4,4,5]");
  expect_error_naming([&] { bilinear_resize_backward(Tensor(), dx); }, "bilinear_resize_backward", "undefined");
}

}  // namespace
}  // namespace ofa
