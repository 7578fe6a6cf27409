#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

#include "kernels/ops/dense_conv.h"
#include "kernels/ops/depthwise_conv.h"
#include "kernels/ops/elastic_kernel.h"
#include "tools/bench/block_shapes.h"

namespace ofa::bench {
namespace {

// Multiply-accumulates per call of a depthwise pass, as a rate next to the time.
void set_depthwise_counters(benchmark::State& state, const BlockShape& s, double passes) {
  const double macs = double(s.batch) * double(s.out_size() * s.out_size()) * double(s.mid()) *
                      double(s.kernel * s.kernel) * passes;
  state.counters["GFLOPS"] =
      benchmark::Counter(2.0 * macs * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

// The block's depthwise layer: the mid = channels * expand active channels of a max-size
// [K_max, K_max, max_mid] weight at the shape's kernel size (through the transforms below K_max).
void BM_ElasticDepthwiseConvForward(benchmark::State& state, const BlockShape& s) {
  const std::vector<std::int64_t> sizes = elastic_kernel_sizes(s);
  const std::vector<Tensor> transforms = random_transforms(sizes);
  Tensor weight = random_activation({s.max_kernel, s.max_kernel, s.max_mid()});
  Tensor x = random_activation({s.batch, s.size, s.size, s.mid()});
  Tensor y = Tensor::empty({s.batch, s.out_size(), s.out_size(), s.mid()});
  for (auto _ : state) {
    elastic_depthwise_conv_forward(x, weight, sizes, transforms, s.kernel, s.stride, y);
    benchmark::DoNotOptimize(y.f32());
  }
  set_depthwise_counters(state, s, 1);
}

// Input and weight (and transform) gradients, as one training step needs them.
void BM_ElasticDepthwiseConvBackward(benchmark::State& state, const BlockShape& s) {
  const std::vector<std::int64_t> sizes = elastic_kernel_sizes(s);
  const std::vector<Tensor> transforms = random_transforms(sizes);
  Tensor weight = random_activation({s.max_kernel, s.max_kernel, s.max_mid()});
  Tensor x = random_activation({s.batch, s.size, s.size, s.mid()});
  Tensor dy = random_activation({s.batch, s.out_size(), s.out_size(), s.mid()});
  Tensor dx = Tensor::empty(x.shape());
  Tensor dweight = Tensor::zeros(weight.shape());
  std::vector<Tensor> dtransforms = zeros_like(transforms);
  for (auto _ : state) {
    elastic_depthwise_conv_backward(x, weight, sizes, transforms, s.kernel, s.stride, dy, &dx, dweight, dtransforms);
    benchmark::DoNotOptimize(dx.f32());
  }
  set_depthwise_counters(state, s, 2);
}

// The kernel transformation alone (7 -> 5 -> 3 at the smallest kernel), per step of training.
void BM_ElasticKernelForward(benchmark::State& state, const BlockShape& s) {
  const std::vector<std::int64_t> sizes = elastic_kernel_sizes(s);
  const std::vector<Tensor> transforms = random_transforms(sizes);
  Tensor weight = random_activation({s.max_kernel, s.max_kernel, s.max_mid()});
  Tensor effective = Tensor::empty({sizes.back(), sizes.back(), s.mid()});
  for (auto _ : state) {
    elastic_kernel_forward(weight, sizes, transforms, sizes.back(), s.mid(), effective);
    benchmark::DoNotOptimize(effective.f32());
  }
}

void BM_ElasticKernelBackward(benchmark::State& state, const BlockShape& s) {
  const std::vector<std::int64_t> sizes = elastic_kernel_sizes(s);
  const std::vector<Tensor> transforms = random_transforms(sizes);
  Tensor weight = random_activation({s.max_kernel, s.max_kernel, s.max_mid()});
  Tensor d_effective = random_activation({sizes.back(), sizes.back(), s.mid()});
  Tensor dweight = Tensor::zeros(weight.shape());
  std::vector<Tensor> dtransforms = zeros_like(transforms);
  for (auto _ : state) {
    elastic_kernel_backward(weight, sizes, transforms, sizes.back(), s.mid(), d_effective, dweight, dtransforms);
    benchmark::DoNotOptimize(dweight.f32());
  }
}

OFA_SHAPE_BENCHMARK(BM_ElasticDepthwiseConvForward);
OFA_SHAPE_BENCHMARK(BM_ElasticDepthwiseConvBackward);
OFA_SHAPE_BENCHMARK(BM_ElasticKernelForward);
OFA_SHAPE_BENCHMARK(BM_ElasticKernelBackward);

// The stem: a dense 3x3 convolution from the RGB (3-channel) input to 16 channels, at the
// small-image block resolution (stride 1) and at ImageNet resolution (stride 2).
struct StemShape {
  const char* name;
  std::int64_t batch, size, in_channels, out_channels, kernel, stride;

  std::int64_t out_size() const { return (size - 1) / stride + 1; }
  double macs() const {
    return double(batch) * double(out_size() * out_size()) * double(out_channels) *
           double(kernel * kernel * in_channels);
  }
};

constexpr std::array<StemShape, 2> kStemShapes = {{
    {"b64_32x32_c3to16_k3_s1", 64, 32, 3, 16, 3, 1},
    {"b8_224x224_c3to16_k3_s2", 8, 224, 3, 16, 3, 2},
}};

void set_stem_counters(benchmark::State& state, const StemShape& s, double passes) {
  state.counters["GFLOPS"] =
      benchmark::Counter(2.0 * s.macs() * passes * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void BM_DenseConvForward(benchmark::State& state, const StemShape& s) {
  Tensor x = random_activation({s.batch, s.size, s.size, s.in_channels});
  Tensor weight = random_activation({s.out_channels, s.kernel, s.kernel, s.in_channels});
  Tensor y = Tensor::empty({s.batch, s.out_size(), s.out_size(), s.out_channels});
  for (auto _ : state) {
    dense_conv_forward(x, weight, s.out_channels, s.stride, y);
    benchmark::DoNotOptimize(y.f32());
  }
  set_stem_counters(state, s, 1);
}

// The stem's input is the image, so training needs only the weight gradient.
void BM_DenseConvBackward(benchmark::State& state, const StemShape& s) {
  Tensor x = random_activation({s.batch, s.size, s.size, s.in_channels});
  Tensor weight = random_activation({s.out_channels, s.kernel, s.kernel, s.in_channels});
  Tensor dy = random_activation({s.batch, s.out_size(), s.out_size(), s.out_channels});
  Tensor dweight = Tensor::zeros(weight.shape());
  for (auto _ : state) {
    dense_conv_backward(x, weight, s.stride, dy, nullptr, dweight);
    benchmark::DoNotOptimize(dweight.f32());
  }
  set_stem_counters(state, s, 1);
}

using StemBenchmark = void (*)(benchmark::State&, const StemShape&);

int register_per_stem_shape(const char* op, StemBenchmark run) {
  for (const StemShape& shape : kStemShapes)
    benchmark::RegisterBenchmark((std::string(op) + "/" + shape.name).c_str(), run, shape)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  return 0;
}

[[maybe_unused]] const int dense_forward_registered = register_per_stem_shape("BM_DenseConvForward", BM_DenseConvForward);
[[maybe_unused]] const int dense_backward_registered =
    register_per_stem_shape("BM_DenseConvBackward", BM_DenseConvBackward);

}  // namespace
}  // namespace ofa::bench
