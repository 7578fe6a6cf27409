#include <benchmark/benchmark.h>

#include "kernels/gemm.h"
#include "kernels/ops/pointwise_conv.h"
#include "tools/bench/block_shapes.h"

namespace ofa::bench {
namespace {

// The 1x1 expand of an MBConv block through our op, on the active prefix of a max-size weight.
void BM_PointwiseConvForward(benchmark::State& state, const BlockShape& s) {
  Tensor x = random_activation({s.batch, s.size, s.size, s.channels});
  Tensor w = random_activation({s.max_mid(), s.max_channels});
  Tensor y = Tensor::empty({s.batch, s.size, s.size, s.mid()});
  for (auto _ : state) {
    pointwise_conv_forward(x, w, s.mid(), y);
    benchmark::DoNotOptimize(y.f32());
  }
  set_gemm_counters(state, s.pixels(), s.mid(), s.channels);
}

void BM_PointwiseConvBackward(benchmark::State& state, const BlockShape& s) {
  Tensor x = random_activation({s.batch, s.size, s.size, s.channels});
  Tensor w = random_activation({s.max_mid(), s.max_channels});
  Tensor dy = random_activation({s.batch, s.size, s.size, s.mid()});
  Tensor dx = Tensor::empty(x.shape());
  Tensor dw = Tensor::zeros(w.shape());
  for (auto _ : state) {
    pointwise_conv_backward(x, w, dy, &dx, dw);
    benchmark::DoNotOptimize(dx.f32());
  }
  set_gemm_counters(state, 2 * s.pixels(), s.mid(), s.channels);
}

// Plain OpenBLAS sgemm on dense operands of the same size: the ceiling the op is held to.
void BM_SgemmReference(benchmark::State& state, const BlockShape& s) {
  Tensor a = random_activation({s.pixels(), s.channels});
  Tensor b = random_activation({s.mid(), s.channels});
  Tensor c = Tensor::empty({s.pixels(), s.mid()});
  for (auto _ : state) {
    gemm(false, true, s.pixels(), s.mid(), s.channels, 1.0f, a.f32(), s.channels, b.f32(), s.channels, 0.0f, c.f32(),
         s.mid());
    benchmark::DoNotOptimize(c.f32());
  }
  set_gemm_counters(state, s.pixels(), s.mid(), s.channels);
}

OFA_SHAPE_BENCHMARK(BM_PointwiseConvForward);
OFA_SHAPE_BENCHMARK(BM_PointwiseConvBackward);
OFA_SHAPE_BENCHMARK(BM_SgemmReference);

}  // namespace
}  // namespace ofa::bench
