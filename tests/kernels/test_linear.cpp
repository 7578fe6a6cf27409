#include <gtest/gtest.h>

#include "kernels/error.h"
#include "kernels/ops/linear.h"
#include "kernels/ops/pointwise_conv.h"
#include "tests/support/test_tensors.h"

namespace ofa {
namespace {

using testing::expect_close;
using testing::expect_gradient;
using testing::Probe;
using testing::random_int;
using testing::random_tensor;

// y[r, o] = sum_i x[r, i] * W[o, i] + b[o], with W the max-size weight.
std::vector<double> reference_linear(const Tensor& x, const Tensor& w, const Tensor* b, std::int64_t out) {
  std::vector<double> y;
  for (std::int64_t r = 0; r < x.dim(0); ++r)
    for (std::int64_t o = 0; o < out; ++o) {
      double sum = b ? b->at({o}) : 0.0;
      for (std::int64_t i = 0; i < x.dim(1); ++i) sum += double(x.at({r, i})) * w.at({o, i});
      y.push_back(sum);
    }
  return y;
}

TEST(Linear, ForwardMatchesReferenceOnActivePrefixes) {
  for (int trial = 0; trial < 12; ++trial) {
    const std::int64_t rows = random_int(1, 9), in_max = random_int(1, 37), out_max = random_int(1, 29);
    const std::int64_t in = random_int(1, in_max), out = random_int(1, out_max);
    Tensor x = random_tensor({rows, in});
    Tensor w = random_tensor({out_max, in_max});
    Tensor b = random_tensor({out_max});
    Tensor y = Tensor::empty({rows, out});
    const bool with_bias = trial % 2 == 0;
    linear_forward(x, w, with_bias ? &b : nullptr, out, y);
    expect_close(y, reference_linear(x, w, with_bias ? &b : nullptr, out), 1e-5, 1e-5, "linear y");
  }
}

TEST(Linear, BackwardMatchesFiniteDifferencesAndAccumulates) {
  for (int trial = 0; trial < 6; ++trial) {
    const std::int64_t rows = random_int(1, 7), in_max = random_int(2, 23), out_max = random_int(2, 19);
    const std::int64_t in = random_int(1, in_max), out = random_int(1, out_max);
    Tensor x = random_tensor({rows, in});
    Tensor w = random_tensor({out_max, in_max});
    Tensor b = random_tensor({out_max});
    Tensor y = Tensor::empty({rows, out});
    Probe probe(y.shape());
    auto loss = [&] {
      linear_forward(x, w, &b, out, y);
      return probe(y);
    };
    Tensor dx = Tensor::empty(x.shape());
    const Tensor previous = random_tensor(w.shape());
    Tensor dw = previous.clone();
    Tensor db = Tensor::zeros(b.shape());
    linear_backward(x, w, probe.weights, &dx, dw, &db);
    expect_gradient(loss, x, dx, "linear dx");
    expect_gradient(loss, b, db, "linear dbias");
    // dweight accumulated on top of `previous`; outside the active prefix it is untouched.
    Tensor added = dw.clone();
    for (std::int64_t o = 0; o < out_max; ++o)
      for (std::int64_t i = 0; i < in_max; ++i) {
        added.at({o, i}) -= previous.at({o, i});
        if (o >= out || i >= in) {
          EXPECT_EQ(added.at({o, i}), 0.0f) << "outside the active prefix";
        }
      }
    expect_gradient(loss, w, added, "linear dweight");
  }
}

TEST(Linear, RejectsBadInput) {
  Tensor w = random_tensor({8, 6});
  Tensor y = Tensor::empty({2, 4});
  EXPECT_THROW(linear_forward(random_tensor({2, 7}), w, nullptr, 4, y), Error);  // in > In_max
  EXPECT_THROW(linear_forward(random_tensor({2, 6}), w, nullptr, 9, y), Error);  // out > Out_max
  Tensor wrong_y = Tensor::empty({2, 5});
  EXPECT_THROW(linear_forward(random_tensor({2, 6}), w, nullptr, 4, wrong_y), Error);
  EXPECT_THROW(linear_forward(Tensor(), w, nullptr, 4, y), Error);
  try {
    linear_forward(random_tensor({2, 7}), w, nullptr, 4, y);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("linear_forward"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("7"), std::string::npos) << e.what();
  }
}

TEST(PointwiseConv, ForwardAndBackwardOnActiveChannelPrefixes) {
  for (int trial = 0; trial < 6; ++trial) {
    const std::int64_t n = random_int(1, 3), h = random_int(1, 5), wd = random_int(1, 5);
    const std::int64_t cin_max = random_int(2, 24), cout_max = random_int(2, 24);
    const std::int64_t cin = random_int(1, cin_max), cout = random_int(1, cout_max);
    Tensor x = random_tensor({n, h, wd, cin});
    Tensor w = random_tensor({cout_max, cin_max});
    Tensor y = Tensor::empty({n, h, wd, cout});
    pointwise_conv_forward(x, w, cout, y);
    std::vector<double> want;
    for (std::int64_t p = 0; p < n * h * wd; ++p)
      for (std::int64_t o = 0; o < cout; ++o) {
        double sum = 0;
        for (std::int64_t i = 0; i < cin; ++i) sum += double(x.f32()[p * cin + i]) * w.at({o, i});
        want.push_back(sum);
      }
    expect_close(y, want, 1e-5, 1e-5, "pointwise y");

    Probe probe(y.shape());
    auto loss = [&] {
      pointwise_conv_forward(x, w, cout, y);
      return probe(y);
    };
    Tensor dx = Tensor::empty(x.shape());
    Tensor dw = Tensor::zeros(w.shape());
    pointwise_conv_backward(x, w, probe.weights, &dx, dw);
    expect_gradient(loss, x, dx, "pointwise dx");
    expect_gradient(loss, w, dw, "pointwise dweight");
  }
}

TEST(PointwiseConv, RejectsChannelMismatch) {
  Tensor w = random_tensor({8, 6});
  Tensor y = Tensor::empty({1, 2, 2, 8});
  EXPECT_THROW(pointwise_conv_forward(random_tensor({1, 2, 2, 8}), w, 8, y), Error);
  Tensor bad_y = Tensor::empty({1, 2, 3, 8});
  EXPECT_THROW(pointwise_conv_forward(random_tensor({1, 2, 2, 6}), w, 8, bad_y), Error);
}

}  // namespace
}  // namespace ofa
