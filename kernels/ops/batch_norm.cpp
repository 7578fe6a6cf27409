#include "kernels/ops/batch_norm.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/batch_norm_sync.h"
#include "kernels/ops/checks.h"

namespace ofa {
namespace {

using activation_math::apply;
using activation_math::slope;

// Below this many elements a parallel region costs more than the pass it would split.
constexpr std::int64_t kParallelGrain = 1 << 15;
// Rows summed in float before flushing into double: the float partial sees at most this
// many terms (relative error ~ kRowBlock * 2^-24), the double total sees the rest, and
// the hot loop stays at full float SIMD width.
constexpr std::int64_t kRowBlock = 32;

struct Sizes {
  std::int64_t rows, channels;
};

void check_channel_vector(const char* op, const char* name, const Tensor& t, const Tensor& like) {
  checks::contiguous(op, name, t);
  checks::shape(op, name, t, like.shape());
}

Sizes check_input(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta) {
  checks::contiguous(op, "x", x);
  OFA_CHECK(x.rank() >= 1, op, "x must have a channel axis, got ", x.describe());
  checks::contiguous(op, "gamma", gamma);
  checks::rank(op, "gamma", gamma, 1);
  check_channel_vector(op, "beta", beta, gamma);
  const std::int64_t channels = x.dim(x.rank() - 1);
  checks::active_size(op, "channels", channels, gamma.dim(0));
  return {x.numel() / channels, channels};
}

void check_running_stats(const char* op, const BatchNormParams& params) {
  check_channel_vector(op, "running_mean", params.running_mean, params.gamma);
  check_channel_vector(op, "running_var", params.running_var, params.gamma);
}

void check_output(const char* op, const char* name, const Tensor& t, const Tensor& x) {
  checks::contiguous(op, name, t);
  checks::shape(op, name, t, x.shape());
}

void check_saved(const char* op, const BatchNormSaved& saved, std::int64_t channels) {
  checks::contiguous(op, "saved.mean", saved.mean);
  checks::shape(op, "saved.mean", saved.mean, Shape{channels});
  checks::contiguous(op, "saved.invstd", saved.invstd);
  checks::shape(op, "saved.invstd", saved.invstd, Shape{channels});
}

// Thread t of n owns rows [begin, end): a fixed split, so per-thread partial sums and
// their reduction order depend only on the thread count.
struct RowRange {
  std::int64_t begin, end;
};

RowRange rows_of_this_thread(std::int64_t rows) {
  const std::int64_t thread = omp_get_thread_num();
  const std::int64_t threads = omp_get_num_threads();
  return {rows * thread / threads, rows * (thread + 1) / threads};
}

// Per-thread partial sums of two per-channel quantities, [max threads][channels] each,
// reduced in thread order.
class ChannelPartials {
 public:
  explicit ChannelPartials(std::int64_t channels)
      : channels_(channels),
        first_(static_cast<std::size_t>(omp_get_max_threads() * channels), 0.0),
        second_(first_.size(), 0.0) {}

  double* first_of_this_thread() { return first_.data() + omp_get_thread_num() * channels_; }
  double* second_of_this_thread() { return second_.data() + omp_get_thread_num() * channels_; }

  double first(std::int64_t c) const { return reduce(first_, c); }
  double second(std::int64_t c) const { return reduce(second_, c); }

 private:
  double reduce(const std::vector<double>& partials, std::int64_t c) const {
    double total = 0.0;
    for (std::size_t i = static_cast<std::size_t>(c); i < partials.size(); i += static_cast<std::size_t>(channels_))
      total += partials[i];
    return total;
  }

  std::int64_t channels_;
  std::vector<double> first_, second_;
};

// Two per-channel values to sum over rows, computed together so shared work is done once.
struct TermPair {
  float first, second;
};

// Sums terms(row, c).first / .second over `rows` into `first_total` / `second_total`
// (double), through float block partials so the inner loop runs at float SIMD width.
template <class Terms>
void accumulate_rows(RowRange rows, std::int64_t channels, Terms terms, double* first_total, double* second_total) {
  std::vector<float> block_first(static_cast<std::size_t>(channels));
  std::vector<float> block_second(static_cast<std::size_t>(channels));
  float* bf = block_first.data();
  float* bs = block_second.data();
  for (std::int64_t start = rows.begin; start < rows.end; start += kRowBlock) {
    const std::int64_t stop = std::min(rows.end, start + kRowBlock);
    std::fill(block_first.begin(), block_first.end(), 0.0f);
    std::fill(block_second.begin(), block_second.end(), 0.0f);
    for (std::int64_t r = start; r < stop; ++r) {
#pragma omp simd
      for (std::int64_t c = 0; c < channels; ++c) {
        const TermPair t = terms(r, c);
        bf[c] += t.first;
        bs[c] += t.second;
      }
    }
#pragma omp simd
    for (std::int64_t c = 0; c < channels; ++c) {
      first_total[c] += static_cast<double>(bf[c]);
      second_total[c] += static_cast<double>(bs[c]);
    }
  }
}

// The one expression both directions use for the pre-activation, so the backward's
// activation slope sees bit-for-bit the value the forward activated.
inline float pre_activation(float x, float mean, float scale, float beta) { return (x - mean) * scale + beta; }

// y = act((x - mean) * scale + beta) over [rows, channels], rows split across threads.
template <Activation A>
void normalise_and_activate(const float* x, std::int64_t rows, std::int64_t channels, const float* mean,
                            const float* scale, const float* beta, float* y) {
#pragma omp parallel for schedule(static) if (rows * channels > kParallelGrain)
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * channels;
    float* out = y + r * channels;
#pragma omp simd
    for (std::int64_t c = 0; c < channels; ++c) out[c] = apply<A>(pre_activation(in[c], mean[c], scale[c], beta[c]));
  }
}

void normalise_and_activate(Activation activation, const float* x, Sizes s, const float* mean, const float* scale,
                            const float* beta, float* y) {
  activation_math::dispatch(activation, [&](auto kind) {
    normalise_and_activate<decltype(kind)::value>(x, s.rows, s.channels, mean, scale, beta, y);
  });
}

// Batch mean and biased variance per channel. Sums are taken of x - x[row 0], a shift
// close to the mean, so E[d^2] - E[d]^2 does not cancel catastrophically when |mean| >> std.
struct Moments {
  std::vector<double> mean, variance;
};

Moments batch_moments(const float* x, Sizes s) {
  const std::vector<float> shift(x, x + s.channels);
  const float* k = shift.data();
  ChannelPartials sums(s.channels);
#pragma omp parallel if (s.rows * s.channels > kParallelGrain)
  accumulate_rows(
      rows_of_this_thread(s.rows), s.channels,
      [=](std::int64_t r, std::int64_t c) {
        const float d = x[r * s.channels + c] - k[c];
        return TermPair{d, d * d};
      },
      sums.first_of_this_thread(), sums.second_of_this_thread());

  Moments m{std::vector<double>(static_cast<std::size_t>(s.channels)),
            std::vector<double>(static_cast<std::size_t>(s.channels))};
  const double rows = static_cast<double>(s.rows);
  for (std::int64_t c = 0; c < s.channels; ++c) {
    const double shifted_mean = sums.first(c) / rows;
    const std::size_t i = static_cast<std::size_t>(c);
    m.mean[i] = static_cast<double>(k[c]) + shifted_mean;
    m.variance[i] = std::max(0.0, sums.second(c) / rows - shifted_mean * shifted_mean);
  }
  return m;
}

void update_running_stats(const Moments& m, std::int64_t rows, float momentum, float* running_mean,
                          float* running_var) {
  const double keep = 1.0 - static_cast<double>(momentum);
  const double unbiased = static_cast<double>(rows) / static_cast<double>(rows - 1);
  for (std::size_t c = 0; c < m.mean.size(); ++c) {
    running_mean[c] = static_cast<float>(keep * running_mean[c] + momentum * m.mean[c]);
    running_var[c] = static_cast<float>(keep * running_var[c] + momentum * m.variance[c] * unbiased);
  }
}

std::vector<float> scales(const float* invstd, const float* gamma, std::int64_t channels) {
  std::vector<float> scale(static_cast<std::size_t>(channels));
  for (std::int64_t c = 0; c < channels; ++c) scale[static_cast<std::size_t>(c)] = invstd[c] * gamma[c];
  return scale;
}

// Per-channel sums the backward needs: dz = dy * act'(z) and dz * (x - mean).
struct GradientSums {
  std::vector<double> dz, dz_centred;
};

template <Activation A>
GradientSums gradient_sums(const float* x, const float* dy, Sizes s, const float* mean, const float* scale,
                           const float* beta) {
  ChannelPartials sums(s.channels);
  const std::int64_t ch = s.channels;
#pragma omp parallel if (s.rows * s.channels > kParallelGrain)
  accumulate_rows(
      rows_of_this_thread(s.rows), ch,
      [=](std::int64_t r, std::int64_t c) {
        const float in = x[r * ch + c];
        const float dz = dy[r * ch + c] * slope<A>(pre_activation(in, mean[c], scale[c], beta[c]));
        return TermPair{dz, dz * (in - mean[c])};
      },
      sums.first_of_this_thread(), sums.second_of_this_thread());

  GradientSums g{std::vector<double>(static_cast<std::size_t>(ch)), std::vector<double>(static_cast<std::size_t>(ch))};
  for (std::int64_t c = 0; c < ch; ++c) {
    g.dz[static_cast<std::size_t>(c)] = sums.first(c);
    g.dz_centred[static_cast<std::size_t>(c)] = sums.second(c);
  }
  return g;
}

// dx = scale * (dz - mean(dz) - xhat * mean(dz * xhat)), written as
// dx = scale * dz + centred_coef * (x - mean) + offset with per-channel coefficients.
template <Activation A>
void input_gradient(const float* x, const float* dy, Sizes s, const float* mean, const float* scale,
                    const float* beta, const float* centred_coef, const float* offset, float* dx) {
  const std::int64_t ch = s.channels;
#pragma omp parallel for schedule(static) if (s.rows * s.channels > kParallelGrain)
  for (std::int64_t r = 0; r < s.rows; ++r) {
    const float* in = x + r * ch;
    const float* grad_out = dy + r * ch;
    float* grad_in = dx + r * ch;
#pragma omp simd
    for (std::int64_t c = 0; c < ch; ++c) {
      const float dz = grad_out[c] * slope<A>(pre_activation(in[c], mean[c], scale[c], beta[c]));
      grad_in[c] = scale[c] * dz + centred_coef[c] * (in[c] - mean[c]) + offset[c];
    }
  }
}

template <Activation A>
void backward(const Tensor& x, const BatchNormParams& params, const BatchNormSaved& saved, const Tensor& dy,
              Tensor* dx, BatchNormGrads& grads, Sizes s) {
  const float* mean = saved.mean.f32();
  const float* invstd = saved.invstd.f32();
  const float* beta = params.beta.f32();
  const std::vector<float> scale = scales(invstd, params.gamma.f32(), s.channels);
  const GradientSums local = gradient_sums<A>(x.f32(), dy.f32(), s, mean, scale.data(), beta);
  // Synchronised: dx needs the sums over the job's batch; dgamma and dbeta stay this rank's share.
  GradientSums job = local;
  double rows = static_cast<double>(s.rows);
  if (saved.sync != nullptr) {
    batch_norm_sync::sum_gradient_terms(*saved.sync, job.dz, job.dz_centred);
    rows = static_cast<double>(saved.job_rows);
  }

  float* dgamma = grads.gamma.f32();
  float* dbeta = grads.beta.f32();
  std::vector<float> centred_coef(static_cast<std::size_t>(s.channels));
  std::vector<float> offset(static_cast<std::size_t>(s.channels));
  for (std::int64_t c = 0; c < s.channels; ++c) {
    const std::size_t i = static_cast<std::size_t>(c);
    dbeta[c] += static_cast<float>(local.dz[i]);
    dgamma[c] += static_cast<float>(local.dz_centred[i] * invstd[c]);
    const double job_dgamma = job.dz_centred[i] * invstd[c];
    centred_coef[i] = static_cast<float>(-static_cast<double>(scale[i]) * invstd[c] * job_dgamma / rows);
    offset[i] = static_cast<float>(-static_cast<double>(scale[i]) * job.dz[i] / rows);
  }
  if (dx != nullptr)
    input_gradient<A>(x.f32(), dy.f32(), s, mean, scale.data(), beta, centred_coef.data(), offset.data(), dx->f32());
}

}  // namespace

BatchNormParams BatchNormParams::initial(std::int64_t channels, Device device) {
  BatchNormParams params{Tensor::empty({channels}, DType::f32, device), Tensor::zeros({channels}, DType::f32, device),
                         Tensor::zeros({channels}, DType::f32, device), Tensor::empty({channels}, DType::f32, device)};
  params.gamma.fill(1.0f);
  params.running_var.fill(1.0f);
  return params;
}

BatchNormSaved BatchNormSaved::for_channels(std::int64_t channels, Device device) {
  return {Tensor::empty(Shape{channels}, DType::f32, device), Tensor::empty(Shape{channels}, DType::f32, device)};
}

void batch_norm_train_forward(const Tensor& x, BatchNormParams& params, Activation activation, Tensor& y,
                              BatchNormSaved& saved, const BatchNormConfig& config) {
  const char* op = "batch_norm_train_forward";
  const Device device = checks::common_device(op, {{"x", &x},
                                                   {"gamma", &params.gamma},
                                                   {"beta", &params.beta},
                                                   {"running_mean", &params.running_mean},
                                                   {"running_var", &params.running_var},
                                                   {"y", &y},
                                                   {"saved.mean", &saved.mean},
                                                   {"saved.invstd", &saved.invstd}});
  const Sizes s = check_input(op, x, params.gamma, params.beta);
  check_running_stats(op, params);
  check_output(op, "y", y, x);
  check_saved(op, saved, s.channels);
  OFA_CHECK(s.rows >= 2, op, "training needs more than one value per channel, got ", x.describe());
  OFA_CHECK(config.momentum >= 0.0f && config.momentum <= 1.0f, op, "momentum ", config.momentum,
            " must be in [0, 1]");
  OFA_CHECK(config.eps > 0.0f, op, "eps ", config.eps, " must be positive");

  OFA_CHECK(config.sync == nullptr || device == Device::cpu, op,
            "synchronised batch norm (--sync-bn) is implemented for CPU tensors only; train on the CPU or without "
            "--sync-bn");
  if (device == Device::cuda) return on_cuda::batch_norm_train_forward(x, params, activation, y, saved, config);
  Moments m = batch_moments(x.f32(), s);
  std::int64_t rows = s.rows;
  if (config.sync != nullptr) rows = batch_norm_sync::merge_moments(*config.sync, s.rows, m.mean, m.variance);
  saved.sync = config.sync;
  saved.job_rows = rows;
  update_running_stats(m, rows, config.momentum, params.running_mean.f32(), params.running_var.f32());
  float* mean = saved.mean.f32();
  float* invstd = saved.invstd.f32();
  for (std::size_t c = 0; c < m.mean.size(); ++c) {
    mean[c] = static_cast<float>(m.mean[c]);
    invstd[c] = static_cast<float>(1.0 / std::sqrt(m.variance[c] + static_cast<double>(config.eps)));
  }
  const std::vector<float> scale = scales(invstd, params.gamma.f32(), s.channels);
  normalise_and_activate(activation, x.f32(), s, mean, scale.data(), params.beta.f32(), y.f32());
}

void batch_norm_eval_forward(const Tensor& x, const BatchNormParams& params, Activation activation, Tensor& y,
                             float eps) {
  const char* op = "batch_norm_eval_forward";
  const Device device = checks::common_device(op, {{"x", &x},
                                                   {"gamma", &params.gamma},
                                                   {"beta", &params.beta},
                                                   {"running_mean", &params.running_mean},
                                                   {"running_var", &params.running_var},
                                                   {"y", &y}});
  const Sizes s = check_input(op, x, params.gamma, params.beta);
  check_running_stats(op, params);
  check_output(op, "y", y, x);
  OFA_CHECK(eps > 0.0f, op, "eps ", eps, " must be positive");

  if (device == Device::cuda) return on_cuda::batch_norm_eval_forward(x, params, activation, y, eps);
  const float* running_var = params.running_var.f32();
  std::vector<float> invstd(static_cast<std::size_t>(s.channels));
  for (std::int64_t c = 0; c < s.channels; ++c)
    invstd[static_cast<std::size_t>(c)] =
        static_cast<float>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + static_cast<double>(eps)));
  const std::vector<float> scale = scales(invstd.data(), params.gamma.f32(), s.channels);
  normalise_and_activate(activation, x.f32(), s, params.running_mean.f32(), scale.data(), params.beta.f32(), y.f32());
}

void batch_norm_backward(const Tensor& x, const BatchNormParams& params, const BatchNormSaved& saved,
                         Activation activation, const Tensor& dy, Tensor* dx, BatchNormGrads& grads) {
  const char* op = "batch_norm_backward";
  const Device device = checks::common_device(op, {{"x", &x},
                                                   {"gamma", &params.gamma},
                                                   {"beta", &params.beta},
                                                   {"saved.mean", &saved.mean},
                                                   {"saved.invstd", &saved.invstd},
                                                   {"dy", &dy},
                                                   {"dx", dx},
                                                   {"grads.gamma", &grads.gamma},
                                                   {"grads.beta", &grads.beta}});
  const Sizes s = check_input(op, x, params.gamma, params.beta);
  check_saved(op, saved, s.channels);
  check_output(op, "dy", dy, x);
  if (dx != nullptr) check_output(op, "dx", *dx, x);
  check_channel_vector(op, "grads.gamma", grads.gamma, params.gamma);
  check_channel_vector(op, "grads.beta", grads.beta, params.gamma);

  if (device == Device::cuda) return on_cuda::batch_norm_backward(x, params, saved, activation, dy, dx, grads);
  activation_math::dispatch(activation, [&](auto kind) {
    backward<decltype(kind)::value>(x, params, saved, dy, dx, grads, s);
  });
}

}  // namespace ofa
