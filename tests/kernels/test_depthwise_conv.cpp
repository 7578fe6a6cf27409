#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/depthwise_conv.h"
#include "kernels/threads.h"
#include "tests/support/expect_error.h"
#include "tests/support/reference_elastic_kernel.h"
#include "tests/support/test_tensors.h"

namespace ofa {
namespace {

using testing::expect_error_naming;

using testing::expect_close;
using testing::expect_gradient;
using testing::Probe;
using testing::random_int;
using testing::random_tensor;
using testing::reference_effective_kernel;
using testing::to_doubles;

// y[n,i,j,c] = sum_{u,v} x[n, i*s + u - k/2, j*s + v - k/2, c] * kernel[u,v,c], zeros outside x;
// kernel is row-major [k,k,c].
std::vector<double> reference_depthwise(const Tensor& x, const std::vector<double>& kernel, std::int64_t k,
                                        std::int64_t stride) {
  const std::int64_t c = x.dim(3), pad = k / 2;
  const std::int64_t ho = (x.dim(1) - 1) / stride + 1, wo = (x.dim(2) - 1) / stride + 1;
  std::vector<double> y;
  for (std::int64_t n = 0; n < x.dim(0); ++n)
    for (std::int64_t i = 0; i < ho; ++i)
      for (std::int64_t j = 0; j < wo; ++j)
        for (std::int64_t ch = 0; ch < c; ++ch) {
          double sum = 0;
          for (std::int64_t u = 0; u < k; ++u)
            for (std::int64_t v = 0; v < k; ++v) {
              const std::int64_t ih = i * stride + u - pad, iw = j * stride + v - pad;
              if (ih < 0 || ih >= x.dim(1) || iw < 0 || iw >= x.dim(2)) continue;
              sum += double(x.at({n, ih, iw, ch})) * kernel[static_cast<std::size_t>((u * k + v) * c + ch)];
            }
          y.push_back(sum);
        }
  return y;
}

// Non-identity random transforms for descending sizes.
std::vector<Tensor> random_transforms(const std::vector<std::int64_t>& sizes) {
  std::vector<Tensor> transforms;
  for (std::size_t step = 0; step + 1 < sizes.size(); ++step) {
    const std::int64_t taps = sizes[step + 1] * sizes[step + 1];
    transforms.push_back(random_tensor({taps, taps}, -0.4f, 0.4f));
  }
  return transforms;
}

// What a backward added on top of `previous`, and a check that it added nothing outside the
// [:, :, :active] channel prefix of a [K, K, C_max] gradient.
Tensor added_in_channel_prefix(const Tensor& accumulated, const Tensor& previous, std::int64_t active,
                               const std::string& what) {
  Tensor added = accumulated.clone();
  for (std::int64_t u = 0; u < added.dim(0); ++u)
    for (std::int64_t v = 0; v < added.dim(1); ++v)
      for (std::int64_t c = 0; c < added.dim(2); ++c) {
        added.at({u, v, c}) -= previous.at({u, v, c});
        if (c >= active) {
          EXPECT_EQ(added.at({u, v, c}), 0.0f) << what << " changed outside the active channels at " << u << "," << v
                                               << "," << c;
        }
      }
  return added;
}

struct ConvCase {
  std::int64_t n, h, w, c, c_max, k, stride;
};

ConvCase random_case(std::int64_t k, std::int64_t stride, std::int64_t max_size) {
  static constexpr std::array<std::int64_t, 7> kChannels = {1, 3, 13, 16, 21, 37, 40};
  const std::int64_t c = kChannels[static_cast<std::size_t>(random_int(0, kChannels.size() - 1))];
  return {random_int(1, 2), random_int(1, max_size), random_int(1, max_size), c, c + random_int(0, 5), k, stride};
}

std::string describe(const ConvCase& s) {
  return concat("n", s.n, " h", s.h, " w", s.w, " c", s.c, "/", s.c_max, " k", s.k, " s", s.stride);
}

std::int64_t out_size(std::int64_t size, std::int64_t stride) { return (size - 1) / stride + 1; }

TEST(DepthwiseConv, ForwardMatchesReferenceForEveryKernelAndStride) {
  for (std::int64_t k : {1, 3, 5, 7})
    for (std::int64_t stride : {1, 2, 3})
      for (int trial = 0; trial < 3; ++trial) {
        const ConvCase s = random_case(k, stride, 19);
        Tensor x = random_tensor({s.n, s.h, s.w, s.c});
        const Tensor weight = random_tensor({k, k, s.c_max});
        const Tensor kernel = weight.prefix(Shape{k, k, s.c});
        Tensor y = Tensor::empty({s.n, out_size(s.h, stride), out_size(s.w, stride), s.c});
        depthwise_conv_forward(x, kernel, stride, y);
        expect_close(y, reference_depthwise(x, to_doubles(kernel), k, stride), 1e-5, 1e-5, "depthwise y " + describe(s));
      }
}

TEST(DepthwiseConv, BackwardMatchesFiniteDifferencesAndAccumulates) {
  for (std::int64_t k : {3, 5, 7})
    for (std::int64_t stride : {1, 2})
      for (int trial = 0; trial < 2; ++trial) {
        const ConvCase s = random_case(k, stride, 9);
        Tensor x = random_tensor({s.n, s.h, s.w, s.c});
        Tensor weight = random_tensor({k, k, s.c_max});
        Tensor kernel = weight.prefix(Shape{k, k, s.c});
        Tensor y = Tensor::empty({s.n, out_size(s.h, stride), out_size(s.w, stride), s.c});
        Probe probe(y.shape());
        auto loss = [&] {
          depthwise_conv_forward(x, kernel, stride, y);
          return probe(y);
        };
        Tensor dx = random_tensor(x.shape());  // overwritten, so stale values must not leak in
        const Tensor previous = random_tensor(weight.shape());
        Tensor dweight = previous.clone();
        Tensor dkernel = dweight.prefix(kernel.shape());
        depthwise_conv_backward(x, kernel, stride, probe.weights, &dx, dkernel);
        expect_gradient(loss, x, dx, "depthwise dx " + describe(s));
        const Tensor added = added_in_channel_prefix(dweight, previous, s.c, "depthwise dkernel");
        expect_gradient(loss, kernel, added.prefix(kernel.shape()), "depthwise dkernel " + describe(s));
      }
}

TEST(DepthwiseConv, NullInputGradientStillGivesKernelGradient) {
  Tensor x = random_tensor({2, 6, 5, 21});
  Tensor kernel = random_tensor({3, 3, 21});
  Tensor dy = random_tensor({2, 3, 3, 21});
  Tensor dx = Tensor::empty(x.shape());
  Tensor with_dx = Tensor::zeros(kernel.shape());
  Tensor without_dx = Tensor::zeros(kernel.shape());
  depthwise_conv_backward(x, kernel, 2, dy, &dx, with_dx);
  depthwise_conv_backward(x, kernel, 2, dy, nullptr, without_dx);
  expect_close(without_dx, with_dx, 0, 0, "dkernel without dx");
}

// The forward and the input gradient are maps: every thread count gives the same bits. The kernel
// gradient is a reduction, deterministic for a fixed thread count.
TEST(DepthwiseConv, ThreadCountDoesNotChangeMapsAndReductionIsDeterministic) {
  const int saved = num_threads();
  Tensor x = random_tensor({3, 11, 13, 37});
  Tensor kernel = random_tensor({5, 5, 37});
  Tensor dy = random_tensor({3, 11, 13, 37});
  auto run = [&](int threads, Tensor& y, Tensor& dx, Tensor& dkernel) {
    set_num_threads(threads);
    depthwise_conv_forward(x, kernel, 1, y);
    depthwise_conv_backward(x, kernel, 1, dy, &dx, dkernel);
  };
  Tensor y1 = Tensor::empty(dy.shape()), dx1 = Tensor::empty(x.shape()), dk1 = Tensor::zeros(kernel.shape());
  Tensor y2 = Tensor::empty(dy.shape()), dx2 = Tensor::empty(x.shape()), dk2 = Tensor::zeros(kernel.shape());
  Tensor y3 = Tensor::empty(dy.shape()), dx3 = Tensor::empty(x.shape()), dk3 = Tensor::zeros(kernel.shape());
  run(1, y1, dx1, dk1);
  run(3, y2, dx2, dk2);
  run(3, y3, dx3, dk3);
  set_num_threads(saved);
  expect_close(y2, y1, 0, 0, "y across thread counts");
  expect_close(dx2, dx1, 0, 0, "dx across thread counts");
  expect_close(dk3, dk2, 0, 0, "dkernel across runs");
  expect_close(dk2, dk1, 1e-4, 1e-4, "dkernel across thread counts");
}

struct ElasticSetup {
  std::vector<std::int64_t> sizes;
  Tensor weight;
  std::vector<Tensor> transforms;
};

ElasticSetup random_elastic(const std::vector<std::int64_t>& sizes, std::int64_t c_max) {
  return {sizes, random_tensor({sizes[0], sizes[0], c_max}), random_transforms(sizes)};
}

TEST(ElasticDepthwiseConv, ForwardMatchesReferenceAtEveryKernelSize) {
  for (const std::vector<std::int64_t>& sizes : {std::vector<std::int64_t>{7, 5, 3}, {7, 3}, {5, 3}, {7}})
    for (std::int64_t k : sizes)
      for (std::int64_t stride : {1, 2}) {
        const ConvCase s = random_case(k, stride, 11);
        ElasticSetup e = random_elastic(sizes, s.c_max);
        Tensor x = random_tensor({s.n, s.h, s.w, s.c});
        Tensor y = Tensor::empty({s.n, out_size(s.h, stride), out_size(s.w, stride), s.c});
        elastic_depthwise_conv_forward(x, e.weight, e.sizes, e.transforms, k, stride, y);
        const std::vector<double> effective = reference_effective_kernel(e.weight, e.sizes, e.transforms, k, s.c);
        expect_close(y, reference_depthwise(x, effective, k, stride), 1e-4, 1e-4, "elastic depthwise y " + describe(s));
      }
}

TEST(ElasticDepthwiseConv, BackwardReachesWeightAndEveryTransformUsed) {
  const std::vector<std::int64_t> sizes = {7, 5, 3};
  for (std::int64_t k : sizes)
    for (std::int64_t stride : {1, 2}) {
      const ConvCase s = random_case(k, stride, 8);
      ElasticSetup e = random_elastic(sizes, s.c_max);
      Tensor x = random_tensor({s.n, s.h, s.w, s.c});
      Tensor y = Tensor::empty({s.n, out_size(s.h, stride), out_size(s.w, stride), s.c});
      Probe probe(y.shape());
      auto loss = [&] {
        elastic_depthwise_conv_forward(x, e.weight, e.sizes, e.transforms, k, stride, y);
        return probe(y);
      };
      Tensor dx = Tensor::empty(x.shape());
      const Tensor previous = random_tensor(e.weight.shape());
      Tensor dweight = previous.clone();
      std::vector<Tensor> previous_dt, dtransforms;
      for (const Tensor& m : e.transforms) {
        previous_dt.push_back(random_tensor(m.shape()));
        dtransforms.push_back(previous_dt.back().clone());
      }
      elastic_depthwise_conv_backward(x, e.weight, e.sizes, e.transforms, k, stride, probe.weights, &dx, dweight,
                                      dtransforms);
      const std::string what = "elastic " + describe(s);
      expect_gradient(loss, x, dx, what + " dx");
      const Tensor added = added_in_channel_prefix(dweight, previous, s.c, what + " dweight");
      expect_gradient(loss, e.weight.prefix(Shape{7, 7, s.c}), added.prefix(Shape{7, 7, s.c}), what + " dweight");
      for (std::size_t step = 0; step < e.transforms.size(); ++step) {
        Tensor d = dtransforms[step].clone();
        for (std::int64_t i = 0; i < d.numel(); ++i) d.f32()[i] -= previous_dt[step].f32()[i];
        if (sizes[step] > k) {
          expect_gradient(loss, e.transforms[step], d, what + " dtransform " + std::to_string(step));
        } else {
          expect_close(dtransforms[step], previous_dt[step], 0, 0, what + " unused dtransform untouched");
        }
      }
    }
}

TEST(ElasticDepthwiseConv, MaxKernelUsesWeightInPlace) {
  const std::vector<std::int64_t> sizes = {5, 3};
  ElasticSetup e = random_elastic(sizes, 24);
  Tensor x = random_tensor({1, 7, 6, 19});
  Tensor via_elastic = Tensor::empty({1, 7, 6, 19});
  Tensor direct = Tensor::empty({1, 7, 6, 19});
  elastic_depthwise_conv_forward(x, e.weight, e.sizes, e.transforms, 5, 1, via_elastic);
  depthwise_conv_forward(x, e.weight.prefix(Shape{5, 5, 19}), 1, direct);
  expect_close(via_elastic, direct, 0, 0, "elastic at K_max");
}

TEST(DepthwiseConv, RejectsBadInput) {
  const std::string fwd = "depthwise_conv_forward", bwd = "depthwise_conv_backward";
  Tensor x = random_tensor({1, 5, 5, 8});
  Tensor kernel = random_tensor({3, 3, 8});
  Tensor y = Tensor::empty({1, 5, 5, 8});
  Tensor dk = Tensor::zeros(kernel.shape());
  Tensor wrong_y = Tensor::empty({1, 3, 3, 8});
  expect_error_naming([&] { depthwise_conv_forward(x, kernel, 1, wrong_y); }, fwd, "[1,3,3,8]");
  Tensor kernel_9 = random_tensor({3, 3, 9});
  expect_error_naming([&] { depthwise_conv_forward(x, kernel_9, 1, y); }, fwd, "9");
  Tensor even = random_tensor({4, 4, 8});
  expect_error_naming([&] { depthwise_conv_forward(x, even, 1, y); }, fwd, "[4,4,8]");
  expect_error_naming([&] { depthwise_conv_forward(x, kernel, 0, y); }, fwd, "stride");
  expect_error_naming([&] { depthwise_conv_forward(Tensor(), kernel, 1, y); }, fwd, "undefined");
  Tensor strided_x = random_tensor({1, 5, 5, 9}).prefix(Shape{1, 5, 5, 8});
  expect_error_naming([&] { depthwise_conv_forward(strided_x, kernel, 1, y); }, fwd, "contiguous");
  Tensor dx = Tensor::empty(x.shape());
  expect_error_naming([&] { depthwise_conv_backward(x, kernel, 1, wrong_y, &dx, dk); }, bwd, "dy");
  Tensor wrong_dk = Tensor::zeros({5, 5, 8});
  expect_error_naming([&] { depthwise_conv_backward(x, kernel, 1, y, &dx, wrong_dk); }, bwd, "dkernel");
  Tensor wrong_dx = Tensor::empty({1, 5, 4, 8});
  expect_error_naming([&] { depthwise_conv_backward(x, kernel, 1, y, &wrong_dx, dk); }, bwd, "dx");
}

TEST(ElasticDepthwiseConv, RejectsBadInput) {
  const std::string fwd = "elastic_depthwise_conv_forward", bwd = "elastic_depthwise_conv_backward";
  ElasticSetup e = random_elastic({7, 5, 3}, 8);
  Tensor x = random_tensor({1, 5, 5, 8});
  Tensor y = Tensor::empty({1, 5, 5, 8});
  expect_error_naming([&] { elastic_depthwise_conv_forward(x, e.weight, e.sizes, e.transforms, 4, 1, y); }, fwd,
                      "kernel size 4");
  Tensor wide_x = random_tensor({1, 5, 5, 9});
  Tensor wide_y = Tensor::empty({1, 5, 5, 9});
  expect_error_naming([&] { elastic_depthwise_conv_forward(wide_x, e.weight, e.sizes, e.transforms, 3, 1, wide_y); },
                      fwd, "channels 9");
  const std::vector<std::int64_t> unsorted = {7, 3, 5};
  expect_error_naming([&] { elastic_depthwise_conv_forward(x, e.weight, unsorted, e.transforms, 3, 1, y); }, fwd,
                      "descending");
  std::vector<Tensor> swapped = {e.transforms[1], e.transforms[0]};
  expect_error_naming([&] { elastic_depthwise_conv_forward(x, e.weight, e.sizes, swapped, 3, 1, y); }, fwd,
                      "transform 7->5");
  Tensor dx = Tensor::empty(x.shape());
  Tensor dweight = Tensor::zeros({7, 7, 9});
  std::vector<Tensor> dtransforms = {Tensor::zeros({25, 25}), Tensor::zeros({9, 9})};
  expect_error_naming(
      [&] { elastic_depthwise_conv_backward(x, e.weight, e.sizes, e.transforms, 3, 1, y, &dx, dweight, dtransforms); },
      bwd, "dweight");
}

}  // namespace
}  // namespace ofa
