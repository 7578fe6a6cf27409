#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/dense_conv.h"
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

// y[n,i,j,o] = sum_{u,v,ci} x[n, i*s + u - k/2, j*s + v - k/2, ci] * weight[o,u,v,ci], zeros outside x.
std::vector<double> reference_dense(const Tensor& x, const Tensor& weight, std::int64_t out, std::int64_t stride) {
  const std::int64_t k = weight.dim(1), pad = k / 2;
  const std::int64_t ho = (x.dim(1) - 1) / stride + 1, wo = (x.dim(2) - 1) / stride + 1;
  std::vector<double> y;
  for (std::int64_t n = 0; n < x.dim(0); ++n)
    for (std::int64_t i = 0; i < ho; ++i)
      for (std::int64_t j = 0; j < wo; ++j)
        for (std::int64_t o = 0; o < out; ++o) {
          double sum = 0;
          for (std::int64_t u = 0; u < k; ++u)
            for (std::int64_t v = 0; v < k; ++v) {
              const std::int64_t ih = i * stride + u - pad, iw = j * stride + v - pad;
              if (ih < 0 || ih >= x.dim(1) || iw < 0 || iw >= x.dim(2)) continue;
              for (std::int64_t ci = 0; ci < x.dim(3); ++ci)
                sum += double(x.at({n, ih, iw, ci})) * weight.at({o, u, v, ci});
            }
          y.push_back(sum);
        }
  return y;
}

struct StemCase {
  std::int64_t n, h, w, cin, cout, cout_max, k, stride;
};

StemCase random_case(std::int64_t k, std::int64_t stride, std::int64_t max_size) {
  const std::int64_t cout_max = random_int(1, 20);
  return {random_int(1, 3), random_int(1, max_size), random_int(1, max_size), random_int(1, 5), random_int(1, cout_max),
          cout_max,         k,                         stride};
}

std::string describe(const StemCase& s) {
  return concat("n", s.n, " h", s.h, " w", s.w, " cin", s.cin, " cout", s.cout, "/", s.cout_max, " k", s.k, " s",
                s.stride);
}

Shape output_shape(const StemCase& s) {
  return Shape{s.n, (s.h - 1) / s.stride + 1, (s.w - 1) / s.stride + 1, s.cout};
}

TEST(DenseConv, ForwardMatchesReferenceForEveryKernelAndStride) {
  for (std::int64_t k : {1, 3, 5, 7})
    for (std::int64_t stride : {1, 2, 3})
      for (int trial = 0; trial < 2; ++trial) {
        const StemCase s = random_case(k, stride, 11);
        Tensor x = random_tensor({s.n, s.h, s.w, s.cin});
        Tensor weight = random_tensor({s.cout_max, k, k, s.cin});
        Tensor y = Tensor::empty(output_shape(s));
        dense_conv_forward(x, weight, s.cout, stride, y);
        expect_close(y, reference_dense(x, weight, s.cout, stride), 1e-5, 1e-5, "dense y " + describe(s));
      }
}

// The stem's shape family (3 -> 16 channels) on an image larger than the random cases.
TEST(DenseConv, ForwardMatchesReferenceOnALargerStemImage) {
  Tensor x = random_tensor({2, 97, 61, 3});
  Tensor weight = random_tensor({16, 3, 3, 3});
  Tensor y = Tensor::empty({2, 97, 61, 16});
  dense_conv_forward(x, weight, 16, 1, y);
  expect_close(y, reference_dense(x, weight, 16, 1), 1e-5, 1e-5, "dense y on a larger image");
}

TEST(DenseConv, BackwardMatchesFiniteDifferencesAndAccumulates) {
  for (std::int64_t k : {1, 3, 5, 7})
    for (std::int64_t stride : {1, 2}) {
      const StemCase s = random_case(k, stride, 8);
      Tensor x = random_tensor({s.n, s.h, s.w, s.cin});
      Tensor weight = random_tensor({s.cout_max, k, k, s.cin});
      Tensor y = Tensor::empty(output_shape(s));
      Probe probe(y.shape());
      auto loss = [&] {
        dense_conv_forward(x, weight, s.cout, stride, y);
        return probe(y);
      };
      Tensor dx = random_tensor(x.shape());  // overwritten, so stale values must not leak in
      const Tensor previous = random_tensor(weight.shape());
      Tensor dweight = previous.clone();
      dense_conv_backward(x, weight, stride, probe.weights, &dx, dweight);
      expect_gradient(loss, x, dx, "dense dx " + describe(s));
      Tensor added = dweight.clone();
      float* a = added.f32();
      const float* p = previous.f32();
      const std::int64_t filter = k * k * s.cin;
      for (std::int64_t e = 0; e < added.numel(); ++e) {
        a[e] -= p[e];
        if (e >= s.cout * filter) {
          EXPECT_EQ(dweight.f32()[e], p[e]) << "dweight changed outside the active filters " << describe(s);
        }
      }
      expect_gradient(loss, weight.prefix(0, s.cout), added.prefix(0, s.cout), "dense dweight " + describe(s));
    }
}

TEST(DenseConv, NullInputGradientAndThreadCounts) {
  const int saved = num_threads();
  Tensor x = random_tensor({3, 40, 70, 3});
  Tensor weight = random_tensor({16, 3, 3, 3});
  Tensor dy = random_tensor({3, 20, 35, 16});
  Tensor y1 = Tensor::empty(dy.shape()), y2 = Tensor::empty(dy.shape());
  Tensor dx1 = Tensor::empty(x.shape()), dx2 = Tensor::empty(x.shape());
  Tensor dw1 = Tensor::zeros(weight.shape()), dw2 = Tensor::zeros(weight.shape()), dw3 = Tensor::zeros(weight.shape());
  set_num_threads(1);
  dense_conv_forward(x, weight, 16, 2, y1);
  dense_conv_backward(x, weight, 2, dy, &dx1, dw1);
  set_num_threads(3);
  dense_conv_forward(x, weight, 16, 2, y2);
  dense_conv_backward(x, weight, 2, dy, &dx2, dw2);
  dense_conv_backward(x, weight, 2, dy, nullptr, dw3);
  set_num_threads(saved);
  expect_close(y2, y1, 0, 0, "dense y across thread counts");
  expect_close(dx2, dx1, 0, 0, "dense dx across thread counts");
  expect_close(dw3, dw2, 0, 0, "dense dweight without dx");
  expect_close(dw2, dw1, 1e-4, 1e-4, "dense dweight across thread counts");
}

TEST(DenseConv, RejectsBadInput) {
  const std::string fwd = "dense_conv_forward", bwd = "dense_conv_backward";
  Tensor x = random_tensor({1, 6, 6, 3});
  Tensor weight = random_tensor({16, 3, 3, 3});
  Tensor y = Tensor::empty({1, 3, 3, 8});
  expect_error_naming([&] { dense_conv_forward(x, weight, 17, 2, y); }, fwd, "output channels 17");
  expect_error_naming([&] { dense_conv_forward(random_tensor({1, 6, 6, 4}), weight, 8, 2, y); }, fwd, "channels 4");
  Tensor wrong_y = Tensor::empty({1, 6, 6, 8});
  expect_error_naming([&] { dense_conv_forward(x, weight, 8, 2, wrong_y); }, fwd, "[1,3,3,8]");
  Tensor even = random_tensor({16, 2, 2, 3});
  expect_error_naming([&] { dense_conv_forward(x, even, 8, 2, y); }, fwd, "odd");
  expect_error_naming([&] { dense_conv_forward(x, weight, 8, 0, y); }, fwd, "stride");
  expect_error_naming([&] { dense_conv_forward(Tensor(), weight, 8, 2, y); }, fwd, "undefined");
  Tensor dweight = Tensor::zeros(weight.shape());
  Tensor wrong_dweight = Tensor::zeros({8, 3, 3, 3});
  expect_error_naming([&] { dense_conv_backward(x, weight, 2, y, nullptr, wrong_dweight); }, bwd, "dweight");
  Tensor wrong_dx = Tensor::empty({1, 6, 5, 3});
  expect_error_naming([&] { dense_conv_backward(x, weight, 2, y, &wrong_dx, dweight); }, bwd, "dx");
  expect_error_naming([&] { dense_conv_backward(x, weight, 1, y, nullptr, dweight); }, bwd, "dy");
}

}  // namespace
}  // namespace ofa
