#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/elastic_kernel.h"
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

using Sizes = std::vector<std::int64_t>;

std::vector<Tensor> random_transforms(const Sizes& sizes) {
  std::vector<Tensor> transforms;
  for (std::size_t step = 0; step + 1 < sizes.size(); ++step) {
    const std::int64_t taps = sizes[step + 1] * sizes[step + 1];
    transforms.push_back(random_tensor({taps, taps}, -0.5f, 0.5f));
  }
  return transforms;
}

Tensor identity(std::int64_t n) {
  Tensor m = Tensor::zeros({n, n});
  for (std::int64_t i = 0; i < n; ++i) m.at({i, i}) = 1.0f;
  return m;
}

std::string describe(const Sizes& sizes, std::int64_t k, std::int64_t c, std::int64_t c_max) {
  std::string s = "sizes {";
  for (std::int64_t size : sizes) s += std::to_string(size) + " ";
  return s + "} k" + std::to_string(k) + " c" + std::to_string(c) + "/" + std::to_string(c_max);
}

const std::vector<Sizes> kSizeLists = {{7, 5, 3}, {7, 3}, {5, 3}, {7}, {9, 7, 5, 3}};

TEST(ElasticKernel, ForwardMatchesOfaChainWithRandomTransforms) {
  for (const Sizes& sizes : kSizeLists)
    for (std::int64_t k : sizes) {
      const std::int64_t c_max = random_int(1, 24), c = random_int(1, c_max);
      const Tensor weight = random_tensor({sizes[0], sizes[0], c_max});
      const std::vector<Tensor> transforms = random_transforms(sizes);
      Tensor effective = Tensor::empty({k, k, c});
      elastic_kernel_forward(weight, sizes, transforms, k, c, effective);
      expect_close(effective, reference_effective_kernel(weight, sizes, transforms, k, c), 1e-5, 1e-5,
                   "effective kernel " + describe(sizes, k, c, c_max));
    }
}

TEST(ElasticKernel, MaxKernelIsTheWeightSlice) {
  const Tensor weight = random_tensor({7, 7, 20});
  const Sizes sizes = {7, 5, 3};
  Tensor effective = Tensor::empty({7, 7, 13});
  elastic_kernel_forward(weight, sizes, random_transforms(sizes), 7, 13, effective);
  expect_close(effective, weight.prefix(Shape{7, 7, 13}), 0, 0, "effective kernel at K_max");
}

// OFA initialises every transform to the identity, so a fresh supernet's small kernels are the
// centre of the big one.
TEST(ElasticKernel, IdentityTransformsGiveTheCentreWindow) {
  const Tensor weight = random_tensor({7, 7, 6});
  const Sizes sizes = {7, 5, 3};
  const std::vector<Tensor> transforms = {identity(25), identity(9)};
  Tensor effective = Tensor::empty({3, 3, 6});
  elastic_kernel_forward(weight, sizes, transforms, 3, 6, effective);
  for (std::int64_t u = 0; u < 3; ++u)
    for (std::int64_t v = 0; v < 3; ++v)
      for (std::int64_t c = 0; c < 6; ++c) EXPECT_EQ(effective.at({u, v, c}), weight.at({u + 2, v + 2, c}));
}

TEST(ElasticKernel, BackwardMatchesFiniteDifferencesAndTouchesOnlyWhatWasUsed) {
  for (const Sizes& sizes : kSizeLists)
    for (std::int64_t k : sizes) {
      const std::int64_t c_max = random_int(2, 16), c = random_int(1, c_max);
      const std::string what = describe(sizes, k, c, c_max);
      Tensor weight = random_tensor({sizes[0], sizes[0], c_max});
      std::vector<Tensor> transforms = random_transforms(sizes);
      Tensor effective = Tensor::empty({k, k, c});
      Probe probe(effective.shape());
      auto loss = [&] {
        elastic_kernel_forward(weight, sizes, transforms, k, c, effective);
        return probe(effective);
      };
      const Tensor previous = random_tensor(weight.shape());
      Tensor dweight = previous.clone();
      std::vector<Tensor> previous_dt, dtransforms;
      for (const Tensor& m : transforms) {
        previous_dt.push_back(random_tensor(m.shape()));
        dtransforms.push_back(previous_dt.back().clone());
      }
      elastic_kernel_backward(weight, sizes, transforms, k, c, probe.weights, dweight, dtransforms);

      // The chain reads only the centre window of the first size it transforms to (all of it at K_max).
      const std::int64_t read = k == sizes[0] ? sizes[0] : sizes[1], offset = (sizes[0] - read) / 2;
      Tensor added = dweight.clone();
      for (std::int64_t u = 0; u < sizes[0]; ++u)
        for (std::int64_t v = 0; v < sizes[0]; ++v)
          for (std::int64_t ch = 0; ch < c_max; ++ch) {
            added.at({u, v, ch}) -= previous.at({u, v, ch});
            const bool used = ch < c && u >= offset && u < offset + read && v >= offset && v < offset + read;
            if (!used) {
              EXPECT_EQ(dweight.at({u, v, ch}), previous.at({u, v, ch})) << what << " dweight touched at " << u << ","
                                                                         << v << "," << ch;
            }
          }
      expect_gradient(loss, weight.prefix(Shape{sizes[0], sizes[0], c}), added.prefix(Shape{sizes[0], sizes[0], c}),
                      what + " dweight");
      for (std::size_t step = 0; step < transforms.size(); ++step) {
        if (sizes[step] <= k) {
          expect_close(dtransforms[step], previous_dt[step], 0, 0, what + " unused dtransform untouched");
          continue;
        }
        Tensor d = dtransforms[step].clone();
        for (std::int64_t i = 0; i < d.numel(); ++i) d.f32()[i] -= previous_dt[step].f32()[i];
        expect_gradient(loss, transforms[step], d, what + " dtransform " + std::to_string(step), 1e-2, 2e-3, 2e-2,
                        200);
      }
    }
}

TEST(ElasticKernel, RejectsBadInput) {
  const std::string fwd = "elastic_kernel_forward", bwd = "elastic_kernel_backward";
  const Sizes sizes = {7, 5, 3};
  const Tensor weight = random_tensor({7, 7, 8});
  const std::vector<Tensor> transforms = random_transforms(sizes);
  Tensor effective = Tensor::empty({3, 3, 8});
  expect_error_naming([&] { elastic_kernel_forward(weight, sizes, transforms, 4, 8, effective); }, fwd,
                      "kernel size 4 is not one of the elastic kernel sizes {7,5,3}");
  expect_error_naming([&] { elastic_kernel_forward(weight, Sizes{7, 3, 5}, transforms, 3, 8, effective); }, fwd,
                      "strictly descending");
  expect_error_naming([&] { elastic_kernel_forward(weight, Sizes{5, 3}, {transforms.data() + 1, 1}, 3, 8, effective); },
                      fwd, "K_max 7");
  expect_error_naming([&] { elastic_kernel_forward(weight, Sizes{7, 6, 3}, transforms, 3, 8, effective); }, fwd,
                      "odd");
  const std::vector<Tensor> swapped = {transforms[1], transforms[0]};
  expect_error_naming([&] { elastic_kernel_forward(weight, sizes, swapped, 3, 8, effective); }, fwd,
                      "transform 7->5 must be [25,25]");
  expect_error_naming([&] { elastic_kernel_forward(weight, sizes, {transforms.data(), 1}, 3, 8, effective); }, fwd,
                      "need 2 transform matrices, got 1");
  Tensor wide = Tensor::empty({3, 3, 9});
  expect_error_naming([&] { elastic_kernel_forward(weight, sizes, transforms, 3, 9, wide); }, fwd, "channels 9");
  Tensor wrong_effective = Tensor::empty({5, 5, 8});
  expect_error_naming([&] { elastic_kernel_forward(weight, sizes, transforms, 3, 8, wrong_effective); }, fwd,
                      "effective");
  expect_error_naming([&] { elastic_kernel_forward(Tensor(), sizes, transforms, 3, 8, effective); }, fwd, "undefined");
  const std::vector<Tensor> undefined_transform = {transforms[0], Tensor()};
  expect_error_naming([&] { elastic_kernel_forward(weight, sizes, undefined_transform, 3, 8, effective); }, fwd,
                      "undefined");

  Tensor d_effective = random_tensor({3, 3, 8});
  Tensor dweight = Tensor::zeros({7, 7, 8});
  std::vector<Tensor> dtransforms = {Tensor::zeros({25, 25}), Tensor::zeros({9, 9})};
  Tensor wrong_dweight = Tensor::zeros({7, 7, 7});
  expect_error_naming(
      [&] { elastic_kernel_backward(weight, sizes, transforms, 3, 8, d_effective, wrong_dweight, dtransforms); }, bwd,
      "dweight");
  std::vector<Tensor> short_dtransforms = {Tensor::zeros({25, 25})};
  expect_error_naming(
      [&] { elastic_kernel_backward(weight, sizes, transforms, 3, 8, d_effective, dweight, short_dtransforms); }, bwd,
      "transform gradients");
  std::vector<Tensor> wrong_dtransforms = {Tensor::zeros({25, 25}), Tensor::zeros({25, 25})};
  expect_error_naming(
      [&] { elastic_kernel_backward(weight, sizes, transforms, 3, 8, d_effective, dweight, wrong_dtransforms); }, bwd,
      "dtransform 5->3");
}

}  // namespace
}  // namespace ofa
