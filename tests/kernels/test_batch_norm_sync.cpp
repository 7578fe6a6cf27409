// Synchronised batch norm (BatchNormConfig::sync): ranks that each hold a shard of one batch must
// compute what one process computes on the whole batch, in the forward (output, saved and running
// statistics) and in the backward (input gradients; parameter gradients as per-rank shares that
// sum to the whole batch's).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "kernels/ops/batch_norm.h"
#include "tests/support/test_tensors.h"
#include "tests/support/thread_communicator.h"

namespace ofa {
namespace {

using testing::expect_close;
using testing::random_tensor;

BatchNormParams params_for(std::int64_t channels) {
  return {random_tensor({channels}, 0.5f, 1.5f), random_tensor({channels}, -0.5f, 0.5f),
          random_tensor({channels}, -0.1f, 0.1f), random_tensor({channels}, 0.9f, 1.1f)};
}

BatchNormParams clone(const BatchNormParams& p) {
  return {p.gamma.clone(), p.beta.clone(), p.running_mean.clone(), p.running_var.clone()};
}

struct Result {
  Tensor y, dx, dgamma, dbeta, running_mean, running_var;
};

// One forward and backward of `x` (rows x channels) on whatever job `sync` belongs to.
Result forward_backward(const Tensor& x, const Tensor& dy, BatchNormParams params, Activation a, Communicator* sync) {
  const std::int64_t c = x.dim(1);
  Result r{Tensor::empty(x.shape()), Tensor::empty(x.shape()), Tensor::zeros({c}), Tensor::zeros({c}), {}, {}};
  BatchNormSaved saved = BatchNormSaved::for_channels(c);
  BatchNormConfig config;
  config.sync = sync;
  batch_norm_train_forward(x, params, a, r.y, saved, config);
  BatchNormGrads grads{r.dgamma, r.dbeta};
  batch_norm_backward(x, params, saved, a, dy, &r.dx, grads);
  r.running_mean = params.running_mean;
  r.running_var = params.running_var;
  return r;
}

void check_shards_match_whole_batch(const std::vector<std::int64_t>& shard_rows, Activation a) {
  const std::int64_t channels = 13;
  std::int64_t rows = 0;
  for (std::int64_t n : shard_rows) rows += n;
  // A mean far from zero: the merge of per-rank moments must not cancel.
  const Tensor x = random_tensor({rows, channels}, 40.0f, 44.0f);
  const Tensor dy = random_tensor({rows, channels});
  const BatchNormParams params = params_for(channels);
  const Result whole = forward_backward(x, dy, clone(params), a, nullptr);

  const int ranks = static_cast<int>(shard_rows.size());
  std::vector<Result> shards(shard_rows.size());
  testing::ThreadJob job(ranks);
  job.run([&](Communicator& communicator) {
    const auto r = static_cast<std::size_t>(communicator.rank());
    std::int64_t begin = 0;
    for (std::size_t i = 0; i < r; ++i) begin += shard_rows[i];
    shards[r] = forward_backward(x.narrow(0, begin, shard_rows[r]).clone(), dy.narrow(0, begin, shard_rows[r]).clone(),
                                 clone(params), a, &communicator);
  });

  Tensor dgamma = Tensor::zeros({channels}), dbeta = Tensor::zeros({channels});
  std::int64_t begin = 0;
  for (std::size_t r = 0; r < shards.size(); ++r) {
    const std::string what = concat(activation_name(a), " rank ", r, " of ", ranks);
    const std::int64_t n = shard_rows[r];
    // Float outputs of values of size ~1 from double statistics: a few ulp.
    expect_close(shards[r].y, whole.y.narrow(0, begin, n), 2e-5, 2e-5, "y " + what);
    expect_close(shards[r].dx, whole.dx.narrow(0, begin, n), 2e-5, 2e-5, "dx " + what);
    // Every rank keeps the same running statistics: the whole batch's.
    expect_close(shards[r].running_mean, whole.running_mean, 1e-5, 1e-6, "running mean " + what);
    expect_close(shards[r].running_var, whole.running_var, 1e-6, 1e-5, "running var " + what);
    expect_close(shards[r].running_mean, shards[0].running_mean, 0.0, 0.0, "running mean equal on every rank");
    for (std::int64_t c = 0; c < channels; ++c) {
      dgamma.at({c}) += shards[r].dgamma.at({c});
      dbeta.at({c}) += shards[r].dbeta.at({c});
    }
    begin += n;
  }
  expect_close(dgamma, whole.dgamma, 1e-4, 1e-5, concat("dgamma summed over ", ranks, " ranks"));
  expect_close(dbeta, whole.dbeta, 1e-4, 1e-5, concat("dbeta summed over ", ranks, " ranks"));
}

TEST(BatchNormSync, EqualShardsComputeTheWholeBatch) {
  for (Activation a : {Activation::none, Activation::relu, Activation::hswish}) check_shards_match_whole_batch({16, 16}, a);
}

TEST(BatchNormSync, UnevenShardsOnThreeRanksComputeTheWholeBatch) {
  check_shards_match_whole_batch({5, 7, 6}, Activation::hswish);
}

TEST(BatchNormSync, PerRankStatisticsDifferFromTheWholeBatch) {
  // The comparison above can fail: without sync a shard is normalised by its own statistics.
  const Tensor x = random_tensor({32, 5}, -1.0f, 3.0f);
  const Tensor dy = random_tensor({32, 5});
  const BatchNormParams params = params_for(5);
  const Result whole = forward_backward(x, dy, clone(params), Activation::none, nullptr);
  const Result half = forward_backward(x.narrow(0, 0, 16).clone(), dy.narrow(0, 0, 16).clone(), clone(params),
                                       Activation::none, nullptr);
  double largest = 0;
  for (std::int64_t i = 0; i < 16; ++i)
    for (std::int64_t c = 0; c < 5; ++c) largest = std::max(largest, double(std::abs(half.y.at({i, c}) - whole.y.at({i, c}))));
  EXPECT_GT(largest, 1e-2);
}

}  // namespace
}  // namespace ofa
