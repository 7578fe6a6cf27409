#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>

#include "kernels/ops/activation.h"
#include "kernels/ops/batch_norm.h"
#include "kernels/ops/dropout.h"
#include "kernels/ops/pooling.h"
#include "kernels/ops/residual_add.h"
#include "kernels/ops/squeeze_excite.h"
#include "tools/bench/block_shapes.h"

// The memory-bound ops of an MBConv block at its expanded (mid) activations, forward and
// backward. Each case reports bytes_per_second for the tensor traffic its passes need
// (every pass reads or writes a whole activation), so it reads against the memory bandwidth.
namespace ofa::bench {
namespace {

std::int64_t activation_bytes(const BlockShape& s, std::int64_t channels) {
  return s.pixels() * channels * static_cast<std::int64_t>(sizeof(float));
}

void set_traffic(benchmark::State& state, const BlockShape& s, std::int64_t channels, std::int64_t tensor_passes) {
  state.SetBytesProcessed(state.iterations() * tensor_passes * activation_bytes(s, channels));
}

Shape activation_shape(const BlockShape& s, std::int64_t channels) { return {s.batch, s.size, s.size, channels}; }

BatchNormParams max_size_params(std::int64_t channels_max) {
  return {Tensor::full({channels_max}, 1.0f), Tensor::zeros({channels_max}), Tensor::zeros({channels_max}),
          Tensor::full({channels_max}, 1.0f)};
}

// Batch norm with a fused activation on `channels` of a [max_channels] parameter set.
void run_batch_norm_forward(benchmark::State& state, const BlockShape& s, std::int64_t channels,
                            std::int64_t max_channels, Activation activation) {
  Tensor x = random_activation(activation_shape(s, channels));
  Tensor y = Tensor::empty(x.shape());
  BatchNormParams params = max_size_params(max_channels);
  BatchNormSaved saved = BatchNormSaved::for_channels(channels);
  for (auto _ : state) {
    batch_norm_train_forward(x, params, activation, y, saved);
    benchmark::DoNotOptimize(y.f32());
  }
  set_traffic(state, s, channels, 3);  // statistics read x; normalise reads x, writes y
}

void run_batch_norm_backward(benchmark::State& state, const BlockShape& s, std::int64_t channels,
                             std::int64_t max_channels, Activation activation) {
  Tensor x = random_activation(activation_shape(s, channels));
  Tensor dy = random_activation(x.shape());
  Tensor y = Tensor::empty(x.shape());
  Tensor dx = Tensor::empty(x.shape());
  BatchNormParams params = max_size_params(max_channels);
  BatchNormSaved saved = BatchNormSaved::for_channels(channels);
  batch_norm_train_forward(x, params, activation, y, saved);
  BatchNormGrads grads{Tensor::zeros({max_channels}), Tensor::zeros({max_channels})};
  for (auto _ : state) {
    batch_norm_backward(x, params, saved, activation, dy, &dx, grads);
    benchmark::DoNotOptimize(dx.f32());
  }
  set_traffic(state, s, channels, 5);  // sums read x, dy; dx pass reads x, dy, writes dx
}

void BM_BatchNormHswishTrainForward(benchmark::State& state, const BlockShape& s) {
  run_batch_norm_forward(state, s, s.mid(), s.max_mid(), Activation::hswish);
}

void BM_BatchNormHswishBackward(benchmark::State& state, const BlockShape& s) {
  run_batch_norm_backward(state, s, s.mid(), s.max_mid(), Activation::hswish);
}

// The block's projection batch norm: no activation, at the block's output channels.
void BM_BatchNormTrainForward(benchmark::State& state, const BlockShape& s) {
  run_batch_norm_forward(state, s, s.channels, s.max_channels, Activation::none);
}

void BM_BatchNormBackward(benchmark::State& state, const BlockShape& s) {
  run_batch_norm_backward(state, s, s.channels, s.max_channels, Activation::none);
}

void BM_BatchNormHswishEvalForward(benchmark::State& state, const BlockShape& s) {
  Tensor x = random_activation(activation_shape(s, s.mid()));
  Tensor y = Tensor::empty(x.shape());
  const BatchNormParams params = max_size_params(s.max_mid());
  for (auto _ : state) {
    batch_norm_eval_forward(x, params, Activation::hswish, y);
    benchmark::DoNotOptimize(y.f32());
  }
  set_traffic(state, s, s.mid(), 2);
}

void BM_HswishForward(benchmark::State& state, const BlockShape& s) {
  Tensor x = random_activation(activation_shape(s, s.mid()));
  Tensor y = Tensor::empty(x.shape());
  for (auto _ : state) {
    activation_forward(Activation::hswish, x, y);
    benchmark::DoNotOptimize(y.f32());
  }
  set_traffic(state, s, s.mid(), 2);
}

void BM_HswishBackward(benchmark::State& state, const BlockShape& s) {
  Tensor x = random_activation(activation_shape(s, s.mid()));
  Tensor dy = random_activation(x.shape());
  Tensor dx = Tensor::empty(x.shape());
  for (auto _ : state) {
    activation_backward(Activation::hswish, x, dy, dx);
    benchmark::DoNotOptimize(dx.f32());
  }
  set_traffic(state, s, s.mid(), 3);
}

SqueezeExciteWeights max_size_se_weights(const BlockShape& s) {
  const std::int64_t c = s.max_mid(), mid = se_mid_channels(s.max_mid());
  return {random_activation({mid, c}), random_activation({mid}), random_activation({c, mid}), random_activation({c})};
}

void BM_SqueezeExciteForward(benchmark::State& state, const BlockShape& s) {
  Tensor x = random_activation(activation_shape(s, s.mid()));
  Tensor y = Tensor::empty(x.shape());
  const SqueezeExciteWeights weights = max_size_se_weights(s);
  SqueezeExciteSaved saved = SqueezeExciteSaved::allocate(s.batch, s.mid(), se_mid_channels(s.mid()));
  for (auto _ : state) {
    squeeze_excite_forward(x, weights, se_mid_channels(s.mid()), y, saved);
    benchmark::DoNotOptimize(y.f32());
  }
  set_traffic(state, s, s.mid(), 3);  // pool reads x; scale reads x, writes y
}

void BM_SqueezeExciteBackward(benchmark::State& state, const BlockShape& s) {
  Tensor x = random_activation(activation_shape(s, s.mid()));
  Tensor y = Tensor::empty(x.shape());
  Tensor dy = random_activation(x.shape());
  Tensor dx = Tensor::empty(x.shape());
  const SqueezeExciteWeights weights = max_size_se_weights(s);
  SqueezeExciteGrads grads{Tensor::zeros(weights.reduce_weight.shape()), Tensor::zeros(weights.reduce_bias.shape()),
                           Tensor::zeros(weights.expand_weight.shape()), Tensor::zeros(weights.expand_bias.shape())};
  SqueezeExciteSaved saved = SqueezeExciteSaved::allocate(s.batch, s.mid(), se_mid_channels(s.mid()));
  squeeze_excite_forward(x, weights, se_mid_channels(s.mid()), y, saved);
  for (auto _ : state) {
    squeeze_excite_backward(x, weights, saved, dy, &dx, grads);
    benchmark::DoNotOptimize(dx.f32());
  }
  set_traffic(state, s, s.mid(), 4);  // ds reads x, dy; dx pass reads dy, writes dx
}

void BM_GlobalAvgPoolForward(benchmark::State& state, const BlockShape& s) {
  Tensor x = random_activation(activation_shape(s, s.mid()));
  Tensor y = Tensor::empty({s.batch, s.mid()});
  for (auto _ : state) {
    global_avg_pool_forward(x, y);
    benchmark::DoNotOptimize(y.f32());
  }
  set_traffic(state, s, s.mid(), 1);
}

void BM_GlobalAvgPoolBackward(benchmark::State& state, const BlockShape& s) {
  Tensor dy = random_activation({s.batch, s.mid()});
  Tensor dx = Tensor::empty(activation_shape(s, s.mid()));
  for (auto _ : state) {
    global_avg_pool_backward(dy, dx);
    benchmark::DoNotOptimize(dx.f32());
  }
  set_traffic(state, s, s.mid(), 1);
}

// The skip connection, at the block's input/output channels.
void BM_ResidualAddForward(benchmark::State& state, const BlockShape& s) {
  Tensor a = random_activation(activation_shape(s, s.channels));
  Tensor b = random_activation(a.shape());
  Tensor y = Tensor::empty(a.shape());
  for (auto _ : state) {
    residual_add_forward(a, b, y);
    benchmark::DoNotOptimize(y.f32());
  }
  set_traffic(state, s, s.channels, 3);
}

void BM_DropoutForward(benchmark::State& state, const BlockShape& s) {
  Tensor x = random_activation(activation_shape(s, s.mid()));
  Tensor y = Tensor::empty(x.shape());
  for (auto _ : state) {
    dropout_forward(x, 0.1f, 42, 0, y);
    benchmark::DoNotOptimize(y.f32());
  }
  set_traffic(state, s, s.mid(), 2);
}

void BM_DropoutBackward(benchmark::State& state, const BlockShape& s) {
  Tensor dy = random_activation(activation_shape(s, s.mid()));
  Tensor dx = Tensor::empty(dy.shape());
  for (auto _ : state) {
    dropout_backward(dy, 0.1f, 42, 0, dx);
    benchmark::DoNotOptimize(dx.f32());
  }
  set_traffic(state, s, s.mid(), 2);
}

OFA_SHAPE_BENCHMARK(BM_BatchNormHswishTrainForward);
OFA_SHAPE_BENCHMARK(BM_BatchNormHswishBackward);
OFA_SHAPE_BENCHMARK(BM_BatchNormTrainForward);
OFA_SHAPE_BENCHMARK(BM_BatchNormBackward);
OFA_SHAPE_BENCHMARK(BM_BatchNormHswishEvalForward);
OFA_SHAPE_BENCHMARK(BM_HswishForward);
OFA_SHAPE_BENCHMARK(BM_HswishBackward);
OFA_SHAPE_BENCHMARK(BM_SqueezeExciteForward);
OFA_SHAPE_BENCHMARK(BM_SqueezeExciteBackward);
OFA_SHAPE_BENCHMARK(BM_GlobalAvgPoolForward);
OFA_SHAPE_BENCHMARK(BM_GlobalAvgPoolBackward);
OFA_SHAPE_BENCHMARK(BM_ResidualAddForward);
OFA_SHAPE_BENCHMARK(BM_DropoutForward);
OFA_SHAPE_BENCHMARK(BM_DropoutBackward);

}  // namespace
}  // namespace ofa::bench
