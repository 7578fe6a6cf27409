#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/activation.h"
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

constexpr std::array<Activation, 4> kAll = {Activation::none, Activation::relu, Activation::hswish,
                                            Activation::hsigmoid};

// PyTorch's definitions (torch.nn.functional.relu / hardswish / hardsigmoid).
double reference_activation(Activation a, double x) {
  const double relu6 = std::min(std::max(x + 3.0, 0.0), 6.0);
  switch (a) {
    case Activation::relu: return std::max(x, 0.0);
    case Activation::hswish: return x * relu6 / 6.0;
    case Activation::hsigmoid: return relu6 / 6.0;
    case Activation::none: break;
  }
  return x;
}

Shape random_shape(int rank, std::int64_t max_extent) {
  const auto e = [&] { return random_int(1, max_extent); };
  switch (rank) {
    case 1: return Shape{e()};
    case 2: return Shape{e(), e()};
    case 3: return Shape{e(), e(), e()};
    default: return Shape{e(), e(), e(), e()};
  }
}

// Values over [-5, 5], every region of every activation, kept `margin` away from the
// kinks at -3, 0 and 3 so a finite-difference step never straddles one.
Tensor random_input_away_from_kinks(const Shape& shape, float margin) {
  Tensor x = random_tensor(shape, -5.0f, 5.0f);
  float* p = x.f32();
  for (std::int64_t i = 0; i < x.numel(); ++i)
    for (float kink : {-3.0f, 0.0f, 3.0f})
      if (std::abs(p[i] - kink) < margin) p[i] = kink + (p[i] >= kink ? margin : -margin);
  return x;
}

TEST(Activation, ForwardMatchesReferenceOnEveryRank) {
  for (Activation a : kAll)
    for (int rank = 1; rank <= 4; ++rank) {
      Tensor x = random_tensor(random_shape(rank, 7), -5.0f, 5.0f);
      Tensor y = Tensor::empty(x.shape());
      activation_forward(a, x, y);
      std::vector<double> want = testing::to_doubles(x);
      for (double& v : want) v = reference_activation(a, v);
      expect_close(y, want, 1e-6, 1e-6, std::string("forward ") + activation_name(a));
    }
}

TEST(Activation, ForwardRunsInPlaceOnALargeTensor) {
  // Large enough for the parallel path.
  for (Activation a : kAll) {
    Tensor x = random_tensor({3, 31, 29, 17}, -5.0f, 5.0f);
    std::vector<double> want = testing::to_doubles(x);
    for (double& v : want) v = reference_activation(a, v);
    activation_forward(a, x, x);
    expect_close(x, want, 1e-6, 1e-6, std::string("in-place forward ") + activation_name(a));
  }
}

// hswish is piecewise quadratic, the others piecewise linear, so away from the kinks a
// central difference is exact up to rounding: float outputs (~6e-8 relative) over
// 2 * eps = 0.02 give errors near 1e-5, far inside the default tolerances.
TEST(Activation, BackwardMatchesFiniteDifferencesAwayFromKinks) {
  for (Activation a : kAll)
    for (int trial = 0; trial < 3; ++trial) {
      Tensor x = random_input_away_from_kinks(random_shape(static_cast<int>(random_int(1, 4)), 6), 0.05f);
      Tensor y = Tensor::empty(x.shape());
      Probe probe(x.shape());
      auto loss = [&] {
        activation_forward(a, x, y);
        return probe(y);
      };
      Tensor dx = Tensor::empty(x.shape());
      activation_backward(a, x, probe.weights, dx);
      expect_gradient(loss, x, dx, std::string("dx ") + activation_name(a));
    }
}

TEST(Activation, BackwardAtKinksFollowsPyTorch) {
  struct Case {
    Activation activation;
    float x, slope;
  };
  // relu: threshold_backward (x > 0); hardswish_backward: closed interval [-3, 3];
  // hardsigmoid_backward: open interval (-3, 3).
  const std::vector<Case> cases = {
      {Activation::relu, 0.0f, 0.0f},       {Activation::hswish, -3.0f, -0.5f},
      {Activation::hswish, 3.0f, 1.5f},     {Activation::hswish, 0.0f, 0.5f},
      {Activation::hsigmoid, -3.0f, 0.0f},  {Activation::hsigmoid, 3.0f, 0.0f},
      {Activation::none, 0.0f, 1.0f},
  };
  for (const Case& c : cases) {
    Tensor x = Tensor::full({1}, c.x);
    Tensor dy = Tensor::full({1}, 2.0f);
    Tensor dx = Tensor::empty({1});
    activation_backward(c.activation, x, dy, dx);
    EXPECT_FLOAT_EQ(dx.at({0}), 2.0f * c.slope) << activation_name(c.activation) << " at " << c.x;
  }
}

TEST(Activation, BackwardMayOverwriteDy) {
  for (Activation a : kAll) {
    Tensor x = random_input_away_from_kinks({4, 5, 3, 9}, 0.05f);
    Tensor dy = random_tensor(x.shape());
    Tensor separate = Tensor::empty(x.shape());
    activation_backward(a, x, dy, separate);
    activation_backward(a, x, dy, dy);
    expect_close(dy, separate, 0.0, 0.0, std::string("aliased dx ") + activation_name(a));
  }
}

TEST(Activation, FromNameAcceptsOfaSpellings) {
  EXPECT_EQ(activation_from_name("none"), Activation::none);
  EXPECT_EQ(activation_from_name("relu"), Activation::relu);
  EXPECT_EQ(activation_from_name("h_swish"), Activation::hswish);
  EXPECT_EQ(activation_from_name("hswish"), Activation::hswish);
  EXPECT_EQ(activation_from_name("h_sigmoid"), Activation::hsigmoid);
  EXPECT_EQ(activation_from_name("hsigmoid"), Activation::hsigmoid);
  for (Activation a : kAll) EXPECT_EQ(activation_from_name(activation_name(a)), a);
}

TEST(Activation, FromNameRejectsUnknownNames) {
  for (const char* name : {"relu6", "", "HSwish", "tanh"}) {
    try {
      activation_from_name(name);
      ADD_FAILURE() << "accepted '" << name << "'";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("activation_from_name"), std::string::npos) << message;
      EXPECT_NE(message.find(std::string("'") + name + "'"), std::string::npos) << message;
      EXPECT_NE(message.find("h_swish"), std::string::npos) << "lists the accepted names: " << message;
    }
  }
}

TEST(Activation, RejectsBadInput) {
  Tensor x = random_tensor({2, 3});
  Tensor wrong = Tensor::empty({3, 2});
  Tensor y = Tensor::empty({2, 3});
  expect_error_naming([&] { activation_forward(Activation::relu, x, wrong); }, "activation_forward");
  expect_error_naming([&] { activation_forward(Activation::relu, Tensor(), y); }, "activation_forward");
  expect_error_naming([&] { activation_backward(Activation::hswish, x, wrong, y); }, "activation_backward");
  expect_error_naming([&] { activation_backward(Activation::hswish, x, y, wrong); }, "activation_backward");
  Tensor strided = random_tensor({4, 6}).prefix(Shape{2, 3});
  expect_error_naming([&] { activation_forward(Activation::relu, strided, y); }, "activation_forward");
}

}  // namespace
}  // namespace ofa
