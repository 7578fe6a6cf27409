#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/sgd.h"
#include "tests/support/expect_error.h"
#include "tests/support/test_tensors.h"

namespace ofa {
namespace {

using testing::expect_error_naming;

using testing::expect_close;
using testing::random_int;
using testing::random_tensor;

// PyTorch's SGD step (dampening 0) on one parameter, in double; the buffer starts at zero,
// which equals PyTorch's buf = d on the first step.
struct ReferenceParameter {
  std::vector<double> param, buffer;
  bool decay;

  void step(const std::vector<double>& grad, const SgdConfig& c) {
    for (std::size_t i = 0; i < param.size(); ++i) {
      double d = grad[i] + (decay ? static_cast<double>(c.weight_decay) * param[i] : 0.0);
      buffer[i] = static_cast<double>(c.momentum) * buffer[i] + d;
      d = c.nesterov ? d + static_cast<double>(c.momentum) * buffer[i] : buffer[i];
      param[i] -= static_cast<double>(c.lr) * d;
    }
  }
};

Shape random_parameter_shape(int index) {
  switch (index % 4) {
    case 0: return Shape{random_int(1, 40)};                                   // a bias / BN vector
    case 1: return Shape{random_int(1, 30), random_int(1, 30)};                // pointwise weight
    case 2: return Shape{random_int(1, 7), random_int(1, 7), random_int(1, 20)};  // depthwise weight
    default: return Shape{random_int(1, 9), 3, 3, random_int(1, 4)};           // dense stem weight
  }
}

// Zeroes the trailing part of a gradient, like a max-size weight whose slice no subnet used.
void zero_inactive_tail(Tensor& grad) {
  float* g = grad.f32();
  for (std::int64_t i = grad.numel() / 2; i < grad.numel(); ++i) g[i] = 0.0f;
}

void run_against_reference(const SgdConfig& config, int steps) {
  std::vector<SgdParameter> parameters;
  std::vector<ReferenceParameter> reference;
  for (int i = 0; i < 9; ++i) {
    const Shape shape = random_parameter_shape(i);
    SgdParameter p{random_tensor(shape), Tensor::zeros(shape), Tensor::zeros(shape), i % 3 != 0};
    reference.push_back({testing::to_doubles(p.param), std::vector<double>(static_cast<std::size_t>(shape.numel())),
                         p.weight_decay});
    parameters.push_back(p);
  }
  for (int step = 0; step < steps; ++step) {
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      Tensor grad = random_tensor(parameters[i].param.shape());
      if (step % 2 == 1) zero_inactive_tail(grad);
      parameters[i].grad.copy_from(grad);
      reference[i].step(testing::to_doubles(grad), config);
    }
    sgd_step(parameters, config);
  }
  // Float rounding compounds over the steps, ~1e-7 relative each, far below 1e-5.
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const std::string what = "parameter " + std::to_string(i) + (config.nesterov ? " nesterov" : " heavy-ball");
    expect_close(parameters[i].param, reference[i].param, 1e-5, 1e-5, what + " param");
    expect_close(parameters[i].momentum_buffer, reference[i].buffer, 1e-5, 1e-5, what + " momentum buffer");
  }
}

// Weight decay is large here so that a wrongly applied or ignored mask shows well above rounding.
TEST(Sgd, MatchesReferenceWithNesterovAndMixedDecay) {
  run_against_reference({.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.05f, .nesterov = true}, 6);
}

TEST(Sgd, MatchesReferenceWithHeavyBallMomentum) {
  run_against_reference({.lr = 0.05f, .momentum = 0.8f, .weight_decay = 0.05f, .nesterov = false}, 6);
}

TEST(Sgd, MatchesReferenceWithoutMomentum) {
  run_against_reference({.lr = 0.2f, .momentum = 0.0f, .weight_decay = 0.01f, .nesterov = false}, 3);
}

TEST(Sgd, DefaultsAreOfasAndLrMustBeSet) {
  const SgdConfig config;
  EXPECT_FLOAT_EQ(config.momentum, 0.9f);
  EXPECT_FLOAT_EQ(config.weight_decay, 3e-5f);
  EXPECT_TRUE(config.nesterov);
  std::vector<SgdParameter> parameters = {{random_tensor({4}), random_tensor({4}), Tensor::zeros({4}), true}};
  EXPECT_THROW(sgd_step(parameters, config), Error);
}

// A slice with zero gradient still moves: its momentum decays geometrically (and pushes the
// weight on), as PyTorch's optimizer does over OFA's full-size parameters.
TEST(Sgd, ZeroGradientStillDecaysMomentum) {
  std::vector<SgdParameter> parameters = {{Tensor::full({3}, 1.0f), Tensor::zeros({3}), Tensor::full({3}, 2.0f), false}};
  const SgdConfig config{.lr = 0.5f, .momentum = 0.9f, .weight_decay = 0.0f, .nesterov = false};
  sgd_step(parameters, config);
  expect_close(parameters[0].momentum_buffer, {1.8, 1.8, 1.8}, 1e-6, 0, "decayed buffer");
  expect_close(parameters[0].param, {0.1, 0.1, 0.1}, 1e-6, 0, "param moved by momentum");
}

TEST(Sgd, RejectsBadInputWithoutTouchingAnyParameter) {
  const SgdConfig good{.lr = 0.1f};
  const Tensor original = random_tensor({5});
  std::vector<SgdParameter> parameters = {{original.clone(), random_tensor({5}), Tensor::zeros({5}), true},
                                          {random_tensor({2, 3}), random_tensor({3, 2}), Tensor::zeros({2, 3}), true}};
  expect_error_naming([&] { sgd_step(parameters, good); }, "sgd_step", "parameter 1 grad");
  expect_close(parameters[0].param, original, 0, 0, "parameter 0 after a rejected step");

  parameters[1].grad = random_tensor({2, 3});
  parameters[1].momentum_buffer = Tensor::zeros({6});
  expect_error_naming([&] { sgd_step(parameters, good); }, "sgd_step", "parameter 1 momentum_buffer");
  parameters[1].momentum_buffer = Tensor();
  expect_error_naming([&] { sgd_step(parameters, good); }, "sgd_step", "undefined");
  parameters[1].momentum_buffer = Tensor::zeros({2, 3});
  parameters[1].param = Tensor::zeros({2, 6}).prefix(1, 3);
  expect_error_naming([&] { sgd_step(parameters, good); }, "sgd_step", "contiguous");
  parameters[1].param = random_tensor({2, 3});

  expect_error_naming([&] { sgd_step(parameters, {.lr = -0.1f}); }, "sgd_step", "lr");
  expect_error_naming([&] { sgd_step(parameters, {.lr = 0.1f, .momentum = 1.0f}); }, "sgd_step", "momentum");
  expect_error_naming([&] { sgd_step(parameters, {.lr = 0.1f, .weight_decay = -1.0f}); }, "sgd_step",
                      "weight_decay");
  expect_close(parameters[0].param, original, 0, 0, "parameter 0 after rejected steps");
}

}  // namespace
}  // namespace ofa
