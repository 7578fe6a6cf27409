#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/squeeze_excite.h"
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

struct Sizes {
  std::int64_t batch, height, width, channels, channels_max, mid, mid_max;
};

Sizes random_sizes() {
  Sizes s{};
  s.batch = random_int(1, 3);
  s.height = random_int(1, 5);
  s.width = random_int(1, 4);
  s.channels_max = random_int(2, 13);
  s.channels = random_int(1, s.channels_max);
  s.mid_max = random_int(2, 7);
  s.mid = random_int(1, s.mid_max);
  return s;
}

SqueezeExciteWeights random_weights(const Sizes& s) {
  // Expand weights and biases wide enough that the gate logits reach past +-3, so the
  // saturated h-sigmoid regions are exercised too.
  return {random_tensor({s.mid_max, s.channels_max}), random_tensor({s.mid_max}),
          random_tensor({s.channels_max, s.mid_max}, -3.0f, 3.0f), random_tensor({s.channels_max}, -3.0f, 3.0f)};
}

SqueezeExciteGrads zero_grads(const SqueezeExciteWeights& w) {
  return {Tensor::zeros(w.reduce_weight.shape()), Tensor::zeros(w.reduce_bias.shape()),
          Tensor::zeros(w.expand_weight.shape()), Tensor::zeros(w.expand_bias.shape())};
}

SqueezeExciteGrads clone(const SqueezeExciteGrads& g) {
  return {g.reduce_weight.clone(), g.reduce_bias.clone(), g.expand_weight.clone(), g.expand_bias.clone()};
}

// Every intermediate of OFA's DynamicSE, computed naively in double; [n][k] row-major.
struct ReferenceSE {
  std::vector<double> pooled, hidden_pre, hidden, logits, gate, y;
};

ReferenceSE reference_se(const Tensor& x, const SqueezeExciteWeights& w, std::int64_t mid) {
  const std::int64_t batch = x.dim(0), height = x.dim(1), width = x.dim(2), c = x.dim(3);
  ReferenceSE r;
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t k = 0; k < c; ++k) {
      double sum = 0;
      for (std::int64_t h = 0; h < height; ++h)
        for (std::int64_t v = 0; v < width; ++v) sum += x.at({n, h, v, k});
      r.pooled.push_back(sum / static_cast<double>(height * width));
    }
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t j = 0; j < mid; ++j) {
      double sum = w.reduce_bias.at({j});
      for (std::int64_t k = 0; k < c; ++k)
        sum += w.reduce_weight.at({j, k}) * r.pooled[static_cast<std::size_t>(n * c + k)];
      r.hidden_pre.push_back(sum);
      r.hidden.push_back(std::max(sum, 0.0));
    }
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t k = 0; k < c; ++k) {
      double sum = w.expand_bias.at({k});
      for (std::int64_t j = 0; j < mid; ++j)
        sum += w.expand_weight.at({k, j}) * r.hidden[static_cast<std::size_t>(n * mid + j)];
      r.logits.push_back(sum);
      r.gate.push_back(std::min(std::max(sum + 3.0, 0.0), 6.0) / 6.0);
    }
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t h = 0; h < height; ++h)
      for (std::int64_t v = 0; v < width; ++v)
        for (std::int64_t k = 0; k < c; ++k)
          r.y.push_back(double(x.at({n, h, v, k})) * r.gate[static_cast<std::size_t>(n * c + k)]);
  return r;
}

double distance_to(const std::vector<double>& values, std::initializer_list<double> kinks) {
  double nearest = 1e30;
  for (double v : values)
    for (double k : kinks) nearest = std::min(nearest, std::abs(v - k));
  return nearest;
}

double largest_magnitude(const std::vector<double>& values) {
  double largest = 0;
  for (double v : values) largest = std::max(largest, std::abs(v));
  return largest;
}

struct Problem {
  Sizes sizes;
  Tensor x;
  SqueezeExciteWeights weights;
};

// A random problem whose ReLU inputs stay >= 0.1 from 0 and gate logits >= 0.1 from +-3,
// with |pooled| and |hidden| <= 5. A finite-difference step of 1e-2 on any input or weight
// then moves a ReLU input or logit by at most 5e-2 (|input| * eps), never across a kink.
Problem problem_away_from_kinks(const Sizes& s) {
  for (int attempt = 0; attempt < 5000; ++attempt) {
    Problem p{s, random_tensor({s.batch, s.height, s.width, s.channels}, -1.0f, 2.0f), random_weights(s)};
    const ReferenceSE r = reference_se(p.x, p.weights, s.mid);
    if (distance_to(r.hidden_pre, {0.0}) >= 0.1 && distance_to(r.logits, {-3.0, 3.0}) >= 0.1 &&
        largest_magnitude(r.pooled) <= 5.0 && largest_magnitude(r.hidden) <= 5.0)
      return p;
  }
  ADD_FAILURE() << "no problem away from the kinks";
  return {s, random_tensor({s.batch, s.height, s.width, s.channels}), random_weights(s)};
}

// after - previous; asserts it is zero outside the active prefix `active`.
Tensor added_within(const Tensor& after, const Tensor& previous, const Shape& active, const std::string& what) {
  Tensor added = after.clone();
  float* a = added.f32();
  const float* p = previous.f32();
  const std::int64_t cols = after.rank() == 2 ? after.dim(1) : 1;
  const std::int64_t active_cols = after.rank() == 2 ? active[1] : 1;
  for (std::int64_t i = 0; i < added.numel(); ++i) {
    a[i] -= p[i];
    const bool inside = i / cols < active[0] && i % cols < active_cols;
    if (!inside) {
      EXPECT_EQ(a[i], 0.0f) << what << " changed outside the active prefix at flat index " << i;
    }
  }
  return added;
}

void check_forward(const Sizes& s) {
  Tensor x = random_tensor({s.batch, s.height, s.width, s.channels}, -1.0f, 2.0f);
  const SqueezeExciteWeights w = random_weights(s);
  Tensor y = Tensor::empty(x.shape());
  SqueezeExciteSaved saved = SqueezeExciteSaved::allocate(s.batch, s.channels, s.mid);
  squeeze_excite_forward(x, w, s.mid, y, saved);
  const ReferenceSE r = reference_se(x, w, s.mid);
  const std::string what = x.shape().str() + " mid " + std::to_string(s.mid);
  // Small float dot products and means of O(1) values: ~1e-6 relative.
  expect_close(saved.pooled, r.pooled, 1e-5, 1e-5, "pooled " + what);
  expect_close(saved.hidden, r.hidden, 1e-5, 1e-5, "hidden " + what);
  expect_close(saved.gate_logits, r.logits, 1e-5, 1e-5, "logits " + what);
  expect_close(saved.gate, r.gate, 1e-5, 1e-5, "gate " + what);
  expect_close(y, r.y, 1e-5, 1e-5, "y " + what);
}

TEST(SqueezeExcite, ForwardMatchesReferenceOnActivePrefixes) {
  for (int trial = 0; trial < 10; ++trial) check_forward(random_sizes());
  check_forward({2, 33, 35, 24, 32, 6, 8});  // large enough for the parallel paths
}

// With every ReLU input and logit off its kink, the loss is linear in each weight and at
// most quadratic in each input element (x enters through the gate and the product), so a
// central difference is exact up to float rounding (~1e-5 after dividing by 2 * eps).
TEST(SqueezeExcite, BackwardMatchesFiniteDifferencesAndAccumulates) {
  for (int trial = 0; trial < 8; ++trial) {
    Problem p = problem_away_from_kinks(random_sizes());
    const Sizes& s = p.sizes;
    Tensor y = Tensor::empty(p.x.shape());
    SqueezeExciteSaved saved = SqueezeExciteSaved::allocate(s.batch, s.channels, s.mid);
    Probe probe(p.x.shape());
    auto loss = [&] {
      squeeze_excite_forward(p.x, p.weights, s.mid, y, saved);
      return probe(y);
    };
    loss();
    const SqueezeExciteGrads previous = {random_tensor(p.weights.reduce_weight.shape()),
                                         random_tensor(p.weights.reduce_bias.shape()),
                                         random_tensor(p.weights.expand_weight.shape()),
                                         random_tensor(p.weights.expand_bias.shape())};
    SqueezeExciteGrads grads = clone(previous);
    Tensor dx = random_tensor(p.x.shape());
    squeeze_excite_backward(p.x, p.weights, saved, probe.weights, &dx, grads);

    const std::string what = p.x.shape().str() + " mid " + std::to_string(s.mid);
    const Tensor d_reduce_w = added_within(grads.reduce_weight, previous.reduce_weight, Shape{s.mid, s.channels},
                                           "dreduce_weight " + what);
    const Tensor d_reduce_b = added_within(grads.reduce_bias, previous.reduce_bias, Shape{s.mid}, "dreduce_bias");
    const Tensor d_expand_w = added_within(grads.expand_weight, previous.expand_weight, Shape{s.channels, s.mid},
                                           "dexpand_weight " + what);
    const Tensor d_expand_b = added_within(grads.expand_bias, previous.expand_bias, Shape{s.channels}, "dexpand_bias");
    expect_gradient(loss, p.x, dx, "se dx " + what);
    expect_gradient(loss, p.weights.reduce_weight, d_reduce_w, "se dreduce_weight " + what);
    expect_gradient(loss, p.weights.reduce_bias, d_reduce_b, "se dreduce_bias " + what);
    expect_gradient(loss, p.weights.expand_weight, d_expand_w, "se dexpand_weight " + what);
    expect_gradient(loss, p.weights.expand_bias, d_expand_b, "se dexpand_bias " + what);
  }
}

TEST(SqueezeExcite, BackwardMayOverwriteDyOrSkipDx) {
  const Sizes s{2, 7, 5, 12, 16, 4, 6};
  Problem p{s, random_tensor({s.batch, s.height, s.width, s.channels}), random_weights(s)};
  Tensor y = Tensor::empty(p.x.shape());
  SqueezeExciteSaved saved = SqueezeExciteSaved::allocate(s.batch, s.channels, s.mid);
  squeeze_excite_forward(p.x, p.weights, s.mid, y, saved);
  Tensor dy = random_tensor(p.x.shape());
  Tensor dx = Tensor::empty(p.x.shape());
  SqueezeExciteGrads separate = zero_grads(p.weights);
  SqueezeExciteGrads without_dx = zero_grads(p.weights);
  SqueezeExciteGrads aliased = zero_grads(p.weights);
  squeeze_excite_backward(p.x, p.weights, saved, dy, &dx, separate);
  squeeze_excite_backward(p.x, p.weights, saved, dy, nullptr, without_dx);
  squeeze_excite_backward(p.x, p.weights, saved, dy, &dy, aliased);
  expect_close(dy, dx, 0.0, 0.0, "dx over dy");
  expect_close(without_dx.reduce_weight, separate.reduce_weight, 0.0, 0.0, "dreduce_weight without dx");
  expect_close(aliased.expand_weight, separate.expand_weight, 0.0, 0.0, "dexpand_weight with aliased dx");
}

TEST(SqueezeExcite, RejectsBadInput) {
  const char* forward = "squeeze_excite_forward";
  const Sizes s{2, 3, 3, 6, 8, 3, 4};
  const SqueezeExciteWeights w = random_weights(s);
  Tensor x = random_tensor({2, 3, 3, 6});
  Tensor y = Tensor::empty(x.shape());
  SqueezeExciteSaved saved = SqueezeExciteSaved::allocate(2, 6, 3);

  SqueezeExciteSaved wide_mid = SqueezeExciteSaved::allocate(2, 6, 5);
  expect_error_naming([&] { squeeze_excite_forward(x, w, 5, y, wide_mid); }, forward);  // mid > Mid_max
  Tensor wide = random_tensor({2, 3, 3, 9});
  Tensor wide_y = Tensor::empty(wide.shape());
  SqueezeExciteSaved wide_saved = SqueezeExciteSaved::allocate(2, 9, 3);
  expect_error_naming([&] { squeeze_excite_forward(wide, w, 3, wide_y, wide_saved); }, forward);  // c > C_max
  expect_error_naming([&] { squeeze_excite_forward(Tensor(), w, 3, y, saved); }, forward);
  Tensor wrong_y = Tensor::empty({2, 3, 6, 3});
  expect_error_naming([&] { squeeze_excite_forward(x, w, 3, wrong_y, saved); }, forward);
  SqueezeExciteSaved mismatched = SqueezeExciteSaved::allocate(2, 6, 2);
  expect_error_naming([&] { squeeze_excite_forward(x, w, 3, y, mismatched); }, forward);
  SqueezeExciteWeights inconsistent = w;
  inconsistent.expand_weight = random_tensor({8, 5});  // disagrees with reduce_weight's Mid_max
  expect_error_naming([&] { squeeze_excite_forward(x, inconsistent, 3, y, saved); }, forward);
  SqueezeExciteWeights no_bias = w;
  no_bias.expand_bias = Tensor();
  expect_error_naming([&] { squeeze_excite_forward(x, no_bias, 3, y, saved); }, forward);

  const char* backward = "squeeze_excite_backward";
  squeeze_excite_forward(x, w, 3, y, saved);
  Tensor dx = Tensor::empty(x.shape());
  SqueezeExciteGrads grads = zero_grads(w);
  expect_error_naming([&] { squeeze_excite_backward(x, w, saved, wrong_y, &dx, grads); }, backward);
  expect_error_naming([&] { squeeze_excite_backward(x, w, saved, y, &wrong_y, grads); }, backward);
  expect_error_naming([&] { squeeze_excite_backward(x, w, wide_mid, y, &dx, grads); }, backward);
  SqueezeExciteGrads small_grads = zero_grads(w);
  small_grads.reduce_weight = Tensor::zeros({3, 8});
  expect_error_naming([&] { squeeze_excite_backward(x, w, saved, y, &dx, small_grads); }, backward);
}

}  // namespace
}  // namespace ofa
