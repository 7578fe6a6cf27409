#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/batch_norm.h"
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
using testing::to_doubles;

constexpr std::array<Activation, 3> kFused = {Activation::none, Activation::relu, Activation::hswish};

// ---- references, in double ------------------------------------------------------------

double reference_activation(Activation a, double z) {
  const double relu6 = std::min(std::max(z + 3.0, 0.0), 6.0);
  if (a == Activation::relu) return std::max(z, 0.0);
  if (a == Activation::hswish) return z * relu6 / 6.0;
  return z;
}

// PyTorch's conventions at the kinks (relu'(0) = 0, hswish' on the closed [-3, 3]).
double reference_slope(Activation a, double z) {
  if (a == Activation::relu) return z > 0.0 ? 1.0 : 0.0;
  if (a == Activation::hswish) return z < -3.0 ? 0.0 : (z <= 3.0 ? z / 3.0 + 0.5 : 1.0);
  return 1.0;
}

std::vector<double> kinks_of(Activation a) {
  if (a == Activation::relu) return {0.0};
  if (a == Activation::hswish) return {-3.0, 3.0};
  return {};
}

// x viewed as [rows, channels] in double.
struct Rows {
  std::vector<double> values;
  std::int64_t rows, channels;
  double at(std::int64_t r, std::int64_t c) const { return values[static_cast<std::size_t>(r * channels + c)]; }
};

Rows as_rows(const Tensor& x) {
  const std::int64_t channels = x.dim(x.rank() - 1);
  return {to_doubles(x), x.numel() / channels, channels};
}

struct ReferenceStats {
  std::vector<double> mean, variance;  // biased
};

// Two-pass mean and variance: the textbook definition, no cancellation.
ReferenceStats reference_stats(const Rows& x) {
  ReferenceStats s{std::vector<double>(static_cast<std::size_t>(x.channels), 0.0),
                   std::vector<double>(static_cast<std::size_t>(x.channels), 0.0)};
  for (std::int64_t c = 0; c < x.channels; ++c) {
    double sum = 0;
    for (std::int64_t r = 0; r < x.rows; ++r) sum += x.at(r, c);
    const double mean = sum / static_cast<double>(x.rows);
    double squares = 0;
    for (std::int64_t r = 0; r < x.rows; ++r) squares += (x.at(r, c) - mean) * (x.at(r, c) - mean);
    s.mean[static_cast<std::size_t>(c)] = mean;
    s.variance[static_cast<std::size_t>(c)] = squares / static_cast<double>(x.rows);
  }
  return s;
}

std::vector<double> invstd_of(const std::vector<double>& variance, double eps) {
  std::vector<double> invstd;
  for (double var : variance) invstd.push_back(1.0 / std::sqrt(var + eps));
  return invstd;
}

std::vector<double> reference_normalise(const Rows& x, const std::vector<double>& mean,
                                        const std::vector<double>& variance, const Tensor& gamma,
                                        const Tensor& beta, Activation a, double eps) {
  std::vector<double> y;
  for (std::int64_t r = 0; r < x.rows; ++r)
    for (std::int64_t c = 0; c < x.channels; ++c) {
      const std::size_t i = static_cast<std::size_t>(c);
      const double xhat = (x.at(r, c) - mean[i]) / std::sqrt(variance[i] + eps);
      y.push_back(reference_activation(a, xhat * gamma.at({c}) + beta.at({c})));
    }
  return y;
}

struct ReferenceGradients {
  std::vector<double> dx, dgamma, dbeta;
};

// The textbook batch-norm backward through act(gamma * xhat + beta).
ReferenceGradients reference_backward(const Rows& x, const Rows& dy, const Tensor& gamma, const Tensor& beta,
                                      Activation a, double eps) {
  const ReferenceStats s = reference_stats(x);
  const double n = static_cast<double>(x.rows);
  ReferenceGradients g{std::vector<double>(dy.values.size()), std::vector<double>(static_cast<std::size_t>(x.channels)),
                       std::vector<double>(static_cast<std::size_t>(x.channels))};
  for (std::int64_t c = 0; c < x.channels; ++c) {
    const std::size_t i = static_cast<std::size_t>(c);
    const double invstd = 1.0 / std::sqrt(s.variance[i] + eps);
    std::vector<double> xhat, dz;
    for (std::int64_t r = 0; r < x.rows; ++r) {
      xhat.push_back((x.at(r, c) - s.mean[i]) * invstd);
      dz.push_back(dy.at(r, c) * reference_slope(a, xhat.back() * gamma.at({c}) + beta.at({c})));
      g.dbeta[i] += dz.back();
      g.dgamma[i] += dz.back() * xhat.back();
    }
    for (std::int64_t r = 0; r < x.rows; ++r) {
      const std::size_t k = static_cast<std::size_t>(r);
      g.dx[static_cast<std::size_t>(r * x.channels + c)] =
          gamma.at({c}) * invstd / n * (n * dz[k] - g.dbeta[i] - xhat[k] * g.dgamma[i]);
    }
  }
  return g;
}

// ---- inputs ---------------------------------------------------------------------------

BatchNormParams random_params(std::int64_t channels_max) {
  return {random_tensor({channels_max}, 0.5f, 1.5f), random_tensor({channels_max}, -1.0f, 1.0f),
          random_tensor({channels_max}, -1.0f, 1.0f), random_tensor({channels_max}, 0.5f, 2.0f)};
}

BatchNormParams clone(const BatchNormParams& p) {
  return {p.gamma.clone(), p.beta.clone(), p.running_mean.clone(), p.running_var.clone()};
}

// Rank 2 or 4, at least two rows, odd sizes likely.
Shape random_input_shape(std::int64_t channels) {
  if (random_int(0, 1) == 0) return Shape{random_int(2, 29), channels};
  for (;;) {
    const Shape s{random_int(1, 3), random_int(1, 4), random_int(1, 3), channels};
    if (s.numel() / channels >= 2) return s;
  }
}

std::vector<double> standardised(std::vector<double> v) {
  double mean = 0, var = 0;
  for (double e : v) mean += e;
  mean /= static_cast<double>(v.size());
  for (double e : v) var += (e - mean) * (e - mean);
  const double std_dev = std::sqrt(var / static_cast<double>(v.size()));
  for (double& e : v) e = (e - mean) / std_dev;
  return v;
}

// An input whose every pre-activation gamma * xhat + beta lies at least `margin` from the
// activation's kinks, so a finite-difference step never crosses one, and whose per-channel
// batch std is in [0.7, 1.5] so the normalisation is well conditioned. Offending values
// are redrawn (and, when a channel keeps failing, its beta) until none is left.
Tensor input_away_from_kinks(const Shape& shape, BatchNormParams& params, Activation a, double margin) {
  Tensor x = Tensor::empty(shape);
  const std::int64_t channels = shape[shape.rank() - 1];
  const std::int64_t rows = shape.numel() / channels;
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (std::int64_t c = 0; c < channels; ++c) {
    std::vector<double> v(static_cast<std::size_t>(rows));
    for (double& e : v) e = uniform(testing::rng());
    std::vector<double> xhat;
    for (int attempt = 0;; ++attempt) {
      EXPECT_LT(attempt, 10000) << "could not keep channel " << c << " away from the kinks";
      xhat = standardised(v);
      bool clear = true;
      for (std::size_t r = 0; r < v.size(); ++r)
        for (double kink : kinks_of(a))
          if (std::abs(xhat[r] * params.gamma.at({c}) + params.beta.at({c}) - kink) < margin) {
            v[r] = uniform(testing::rng());
            clear = false;
          }
      if (clear || attempt >= 10000) break;
      if (attempt % 16 == 15) params.beta.at({c}) = static_cast<float>(uniform(testing::rng()));
    }
    const double mu = 2.0 * uniform(testing::rng());
    const double sigma = 1.1 + 0.4 * uniform(testing::rng());
    for (std::int64_t r = 0; r < rows; ++r)
      x.f32()[r * channels + c] = static_cast<float>(mu + sigma * xhat[static_cast<std::size_t>(r)]);
  }
  return x;
}

// Elements [active, max) of a [max] vector equal `before`, bit for bit.
void expect_untouched_beyond(const Tensor& after, const Tensor& before, std::int64_t active, const std::string& what) {
  for (std::int64_t c = active; c < after.dim(0); ++c)
    EXPECT_EQ(after.at({c}), before.at({c})) << what << " changed outside the active prefix at " << c;
}

std::vector<double> prefix_of(const Tensor& t, std::int64_t active) { return to_doubles(t.prefix(0, active)); }

// ---- forward ---------------------------------------------------------------------------

// One training step against the references: y, saved statistics and the running update,
// with nothing outside the active prefix touched.
void check_train_forward(const Shape& shape, std::int64_t channels_max, Activation a, float momentum) {
  const std::int64_t c = shape[shape.rank() - 1];
  BatchNormParams params = random_params(channels_max);
  const BatchNormParams before = clone(params);
  Tensor x = random_tensor(shape, -2.0f, 3.0f);
  Tensor y = Tensor::empty(shape);
  BatchNormSaved saved = BatchNormSaved::for_channels(c);
  batch_norm_train_forward(x, params, a, y, saved, {momentum, kBatchNormEps});

  const Rows rows = as_rows(x);
  const ReferenceStats s = reference_stats(rows);
  const std::string what = std::string(activation_name(a)) + " " + shape.str();
  // Float normalisation of values of size ~5: a few ulp.
  expect_close(y, reference_normalise(rows, s.mean, s.variance, params.gamma, params.beta, a, kBatchNormEps), 1e-5,
               1e-5, "train y " + what);
  expect_close(saved.mean, s.mean, 1e-6, 1e-6, "saved mean " + what);
  std::vector<double> running_mean, running_var;
  const double unbiased = static_cast<double>(rows.rows) / static_cast<double>(rows.rows - 1);
  for (std::int64_t k = 0; k < c; ++k) {
    const std::size_t i = static_cast<std::size_t>(k);
    running_mean.push_back((1.0 - momentum) * before.running_mean.at({k}) + momentum * s.mean[i]);
    running_var.push_back((1.0 - momentum) * before.running_var.at({k}) + momentum * s.variance[i] * unbiased);
  }
  // The variance comes from float block sums (~32 terms of 2^-24 each), so ~1e-6 relative.
  expect_close(saved.invstd, invstd_of(s.variance, kBatchNormEps), 1e-6, 1e-5, "saved invstd " + what);
  expect_close(params.running_mean.prefix(0, c), running_mean, 1e-6, 1e-6, "running mean " + what);
  expect_close(params.running_var.prefix(0, c), running_var, 1e-6, 1e-5, "running var " + what);
  expect_untouched_beyond(params.running_mean, before.running_mean, c, "running mean");
  expect_untouched_beyond(params.running_var, before.running_var, c, "running var");
  expect_close(params.gamma, before.gamma, 0.0, 0.0, "gamma");
  expect_close(params.beta, before.beta, 0.0, 0.0, "beta");
}

TEST(BatchNorm, TrainForwardMatchesReferenceOnActivePrefixes) {
  for (Activation a : kFused)
    for (int trial = 0; trial < 5; ++trial) {
      const std::int64_t channels_max = random_int(1, 19);
      check_train_forward(random_input_shape(random_int(1, channels_max)), channels_max, a, kBatchNormMomentum);
    }
}

TEST(BatchNorm, TrainForwardOnALargeInputUsesEveryThread) {
  // 3 * 37 * 29 rows of 23 channels: well above the parallel grain, odd row split.
  for (Activation a : kFused) check_train_forward(Shape{3, 37, 29, 23}, 40, a, kBatchNormMomentum);
}

TEST(BatchNorm, RunningStatisticsFollowMomentumOverSteps) {
  const std::int64_t channels_max = 11, c = 7;
  BatchNormParams params = random_params(channels_max);
  const BatchNormParams before = clone(params);
  std::vector<double> running_mean = prefix_of(params.running_mean, c);
  std::vector<double> running_var = prefix_of(params.running_var, c);
  const double momentum = 0.3;
  for (int step = 0; step < 3; ++step) {
    Tensor x = random_tensor({2, 3, 5, c}, -1.0f, 4.0f);
    Tensor y = Tensor::empty(x.shape());
    BatchNormSaved saved = BatchNormSaved::for_channels(c);
    batch_norm_train_forward(x, params, Activation::relu, y, saved, {static_cast<float>(momentum), 1e-3f});
    const ReferenceStats s = reference_stats(as_rows(x));
    for (std::size_t i = 0; i < running_mean.size(); ++i) {
      running_mean[i] = (1 - momentum) * running_mean[i] + momentum * s.mean[i];
      running_var[i] = (1 - momentum) * running_var[i] + momentum * s.variance[i] * 30.0 / 29.0;  // Bessel, 30 rows
    }
    expect_close(saved.invstd, invstd_of(s.variance, 1e-3), 1e-6, 1e-5, "invstd with eps 1e-3");
  }
  expect_close(params.running_mean.prefix(0, c), running_mean, 1e-6, 1e-5, "running mean after 3 steps");
  expect_close(params.running_var.prefix(0, c), running_var, 1e-6, 1e-5, "running var after 3 steps");
  expect_untouched_beyond(params.running_mean, before.running_mean, c, "running mean");
  expect_untouched_beyond(params.running_var, before.running_var, c, "running var");
}

TEST(BatchNorm, StatisticsStayAccurateForLargeMeans) {
  // |mean| / std ~ 6000: a float E[x^2] - E[x]^2 would lose every digit of the variance.
  Tensor x = random_tensor({4, 9, 7, 5}, -0.5f, 0.5f);
  for (std::int64_t i = 0; i < x.numel(); ++i) x.f32()[i] += 3000.0f;
  BatchNormParams params = random_params(5);
  Tensor y = Tensor::empty(x.shape());
  BatchNormSaved saved = BatchNormSaved::for_channels(5);
  batch_norm_train_forward(x, params, Activation::none, y, saved);
  const ReferenceStats s = reference_stats(as_rows(x));
  expect_close(saved.mean, s.mean, 0.0, 1e-7, "mean near 3000");
  expect_close(saved.invstd, invstd_of(s.variance, kBatchNormEps), 0.0, 1e-5, "invstd near 3000");
}

TEST(BatchNorm, EvalForwardUsesRunningStatisticsAndUpdatesNothing) {
  for (Activation a : kFused)
    for (int trial = 0; trial < 4; ++trial) {
      const bool large = trial == 0;  // above the parallel grain
      const std::int64_t channels_max = large ? 40 : random_int(1, 17);
      const std::int64_t active = large ? 37 : random_int(1, channels_max);
      const Shape shape = large ? Shape{2, 41, 23, active} : random_input_shape(active);
      BatchNormParams params = random_params(channels_max);
      const BatchNormParams before = clone(params);
      Tensor x = random_tensor(shape, -3.0f, 3.0f);
      Tensor y = Tensor::empty(shape);
      batch_norm_eval_forward(x, params, a, y);
      const std::vector<double> want =
          reference_normalise(as_rows(x), prefix_of(params.running_mean, active), prefix_of(params.running_var, active),
                              params.gamma, params.beta, a, kBatchNormEps);
      expect_close(y, want, 1e-5, 1e-5, std::string("eval y ") + activation_name(a));
      expect_close(params.running_mean, before.running_mean, 0.0, 0.0, "running mean");
      expect_close(params.running_var, before.running_var, 0.0, 0.0, "running var");
    }
}

TEST(BatchNorm, ForwardMayRunInPlace) {
  BatchNormParams params = random_params(13);
  Tensor x = random_tensor({3, 5, 7, 13}, -2.0f, 2.0f);
  Tensor y = Tensor::empty(x.shape());
  BatchNormSaved saved = BatchNormSaved::for_channels(13);
  BatchNormParams copy = clone(params);
  batch_norm_train_forward(x, copy, Activation::hswish, y, saved);
  batch_norm_train_forward(x, params, Activation::hswish, x, saved);
  expect_close(x, y, 0.0, 0.0, "in-place train forward");
}

// ---- backward --------------------------------------------------------------------------

// Inputs sit >= 0.08 from every kink and the batch std is >= 0.7 with gamma <= 1.5, so a
// step of eps = 1e-2 moves any pre-activation by at most ~0.03 (x: gamma*invstd*eps; gamma:
// |xhat|*eps) and never crosses a kink. Away from kinks the loss is smooth with bounded
// derivatives, so the O(eps^2) truncation and float rounding (~1e-4 after dividing the
// loss by 2*eps) fit the default atol 2e-3 / rtol 2e-2.
TEST(BatchNorm, BackwardMatchesFiniteDifferencesAndAccumulates) {
  for (Activation a : kFused)
    for (int trial = 0; trial < 4; ++trial) {
      const std::int64_t channels_max = random_int(2, 13), c = random_int(1, channels_max);
      BatchNormParams params = random_params(channels_max);
      Tensor x = input_away_from_kinks(random_input_shape(c), params, a, 0.08);
      Tensor y = Tensor::empty(x.shape());
      BatchNormSaved saved = BatchNormSaved::for_channels(c);
      Probe probe(x.shape());
      auto loss = [&] {
        batch_norm_train_forward(x, params, a, y, saved);
        return probe(y);
      };
      loss();
      const Tensor previous_gamma = random_tensor(params.gamma.shape());
      const Tensor previous_beta = random_tensor(params.beta.shape());
      BatchNormGrads grads{previous_gamma.clone(), previous_beta.clone()};
      Tensor dx = Tensor::empty(x.shape());
      batch_norm_backward(x, params, saved, a, probe.weights, &dx, grads);

      Tensor dgamma = grads.gamma.clone();
      Tensor dbeta = grads.beta.clone();
      for (std::int64_t k = 0; k < channels_max; ++k) {
        dgamma.at({k}) -= previous_gamma.at({k});
        dbeta.at({k}) -= previous_beta.at({k});
      }
      expect_untouched_beyond(grads.gamma, previous_gamma, c, "dgamma");
      expect_untouched_beyond(grads.beta, previous_beta, c, "dbeta");
      const std::string what = std::string(activation_name(a)) + " " + x.shape().str();
      expect_gradient(loss, x, dx, "batch norm dx " + what);
      expect_gradient(loss, params.gamma, dgamma, "batch norm dgamma " + what);
      expect_gradient(loss, params.beta, dbeta, "batch norm dbeta " + what);
    }
}

TEST(BatchNorm, BackwardOnALargeInputMatchesReference) {
  for (Activation a : kFused) {
    BatchNormParams params = random_params(40);
    Tensor x = random_tensor({3, 37, 29, 23}, -3.0f, 3.0f);
    Tensor y = Tensor::empty(x.shape());
    BatchNormSaved saved = BatchNormSaved::for_channels(23);
    batch_norm_train_forward(x, params, a, y, saved);
    Tensor dy = random_tensor(x.shape());
    BatchNormGrads grads{Tensor::zeros({40}), Tensor::zeros({40})};
    Tensor dx = Tensor::empty(x.shape());
    batch_norm_backward(x, params, saved, a, dy, &dx, grads);

    const ReferenceGradients want =
        reference_backward(as_rows(x), as_rows(dy), params.gamma, params.beta, a, kBatchNormEps);
    // 3219-row sums of O(1) terms in float blocks and double totals: ~1e-6 relative.
    const std::string what = activation_name(a);
    expect_close(dx, want.dx, 1e-5, 1e-4, "large dx " + what);
    expect_close(grads.gamma.prefix(0, 23), want.dgamma, 1e-4, 1e-5, "large dgamma " + what);
    expect_close(grads.beta.prefix(0, 23), want.dbeta, 1e-4, 1e-5, "large dbeta " + what);
  }
}

TEST(BatchNorm, BackwardMayOverwriteDyOrSkipDx) {
  BatchNormParams params = random_params(17);
  Tensor x = random_tensor({2, 9, 11, 15}, -3.0f, 3.0f);
  Tensor y = Tensor::empty(x.shape());
  BatchNormSaved saved = BatchNormSaved::for_channels(15);
  batch_norm_train_forward(x, params, Activation::hswish, y, saved);
  Tensor dy = random_tensor(x.shape());
  Tensor dx = Tensor::empty(x.shape());
  BatchNormGrads separate{Tensor::zeros({17}), Tensor::zeros({17})};
  BatchNormGrads aliased{Tensor::zeros({17}), Tensor::zeros({17})};
  BatchNormGrads no_dx{Tensor::zeros({17}), Tensor::zeros({17})};
  batch_norm_backward(x, params, saved, Activation::hswish, dy, nullptr, no_dx);
  batch_norm_backward(x, params, saved, Activation::hswish, dy, &dx, separate);
  batch_norm_backward(x, params, saved, Activation::hswish, dy, &dy, aliased);
  expect_close(dy, dx, 0.0, 0.0, "dx written over dy");
  expect_close(aliased.gamma, separate.gamma, 0.0, 0.0, "dgamma with aliased dx");
  expect_close(no_dx.gamma, separate.gamma, 0.0, 0.0, "dgamma without dx");
  expect_close(no_dx.beta, separate.beta, 0.0, 0.0, "dbeta without dx");
}

TEST(BatchNorm, ReductionsAreDeterministicForAFixedThreadCount) {
  const int threads_before = num_threads();
  BatchNormParams params = random_params(31);
  Tensor x = random_tensor({4, 23, 19, 31}, -2.0f, 2.0f);
  Tensor dy = random_tensor(x.shape());
  struct Result {
    Tensor y, dx, dgamma;
  };
  auto run = [&](int threads) {
    set_num_threads(threads);
    BatchNormParams p = clone(params);
    Result r{Tensor::empty(x.shape()), Tensor::empty(x.shape()), Tensor::zeros({31})};
    BatchNormSaved saved = BatchNormSaved::for_channels(31);
    batch_norm_train_forward(x, p, Activation::hswish, r.y, saved);
    BatchNormGrads grads{r.dgamma, Tensor::zeros({31})};
    batch_norm_backward(x, p, saved, Activation::hswish, dy, &r.dx, grads);
    return r;
  };
  const Result first = run(2), second = run(2), single = run(1);
  set_num_threads(threads_before);
  expect_close(second.y, first.y, 0.0, 0.0, "y repeated on 2 threads");
  expect_close(second.dx, first.dx, 0.0, 0.0, "dx repeated on 2 threads");
  expect_close(second.dgamma, first.dgamma, 0.0, 0.0, "dgamma repeated on 2 threads");
  // Another thread count regroups the partial sums: equal up to rounding.
  expect_close(single.y, first.y, 1e-5, 1e-5, "y on 1 vs 2 threads");
  expect_close(single.dgamma, first.dgamma, 1e-4, 1e-5, "dgamma on 1 vs 2 threads");
}

TEST(BatchNorm, RejectsBadInput) {
  const char* train = "batch_norm_train_forward";
  BatchNormParams params = random_params(4);
  Tensor x = random_tensor({3, 4});
  Tensor y = Tensor::empty({3, 4});
  BatchNormSaved saved = BatchNormSaved::for_channels(4);

  Tensor wide = random_tensor({3, 5});
  Tensor wide_y = Tensor::empty({3, 5});
  BatchNormSaved wide_saved = BatchNormSaved::for_channels(5);
  expect_error_naming([&] { batch_norm_train_forward(wide, params, Activation::relu, wide_y, wide_saved); }, train);
  Tensor wrong_y = Tensor::empty({4, 3});
  expect_error_naming([&] { batch_norm_train_forward(x, params, Activation::relu, wrong_y, saved); }, train);
  expect_error_naming([&] { batch_norm_train_forward(Tensor(), params, Activation::relu, y, saved); }, train);
  Tensor one_row = random_tensor({1, 4});
  Tensor one_row_y = Tensor::empty({1, 4});
  expect_error_naming([&] { batch_norm_train_forward(one_row, params, Activation::relu, one_row_y, saved); }, train);
  BatchNormSaved short_saved = BatchNormSaved::for_channels(3);
  expect_error_naming([&] { batch_norm_train_forward(x, params, Activation::relu, y, short_saved); }, train);
  BatchNormParams bad_beta = clone(params);
  bad_beta.beta = random_tensor({5});
  expect_error_naming([&] { batch_norm_train_forward(x, bad_beta, Activation::relu, y, saved); }, train);
  BatchNormParams missing_var = clone(params);
  missing_var.running_var = Tensor();
  expect_error_naming([&] { batch_norm_train_forward(x, missing_var, Activation::relu, y, saved); }, train);
  expect_error_naming([&] { batch_norm_train_forward(x, params, Activation::relu, y, saved, {1.5f, 1e-5f}); }, train);

  expect_error_naming([&] { batch_norm_eval_forward(wide, params, Activation::none, wide_y); },
                      "batch_norm_eval_forward");
  expect_error_naming([&] { batch_norm_eval_forward(x, missing_var, Activation::none, y); },
                      "batch_norm_eval_forward");

  const char* backward = "batch_norm_backward";
  BatchNormGrads grads{Tensor::zeros({4}), Tensor::zeros({4})};
  Tensor dy = random_tensor({3, 4});
  Tensor dx = Tensor::empty({3, 4});
  expect_error_naming([&] { batch_norm_backward(x, params, saved, Activation::relu, wrong_y, &dx, grads); }, backward);
  expect_error_naming([&] { batch_norm_backward(x, params, saved, Activation::relu, dy, &wrong_y, grads); }, backward);
  expect_error_naming([&] { batch_norm_backward(x, params, short_saved, Activation::relu, dy, &dx, grads); },
                      backward);
  BatchNormGrads short_grads{Tensor::zeros({3}), Tensor::zeros({4})};
  expect_error_naming([&] { batch_norm_backward(x, params, saved, Activation::relu, dy, &dx, short_grads); },
                      backward);
  expect_error_naming([&] { batch_norm_backward(wide, params, saved, Activation::relu, dy, &dx, grads); }, backward);
}

}  // namespace
}  // namespace ofa
