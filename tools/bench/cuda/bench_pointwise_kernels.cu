// Pointwise (1x1) convolutions of the MBConv blocks, forward and backward (input and weight
// gradients), beside cuDNN's 1x1 convolution and the cuBLAS SGEMMs of the same products, all in
// strict FP32. Ours reads the active [out, in] prefix of the max-size weight in place.

#include <benchmark/benchmark.h>
#include <cublas_v2.h>

#include <cstddef>
#include <string>
#include <vector>

#include "kernels/cuda/ops/conv_instances.cuh"
#include "tools/bench/cuda/bench_context.h"
#include "tools/bench/cuda/cudnn_convolution.h"
#include "tools/bench/cuda/device_array.h"
#include "tools/bench/cuda/gpu_block_shapes.h"
#include "tools/bench/cuda/gpu_timing.h"

namespace ofa::cuda::yardstick {
namespace {

struct PointwiseCase {
  std::string name;
  PointwiseConvShape shape;
};

// Per block: the expansion (channels -> mid) at the input resolution and the projection
// (mid -> channels) at the output resolution, both on the max-size weights.
std::vector<PointwiseCase> pointwise_cases() {
  std::vector<PointwiseCase> cases;
  for (const BlockShape& b : kGpuBlockShapes) {
    if (b.stride != 1) continue;  // a stride-2 block's 1x1 convolutions have the shapes of its neighbours
    const int size = as_int(b.size), channels = as_int(b.channels), mid = as_int(b.mid());
    cases.push_back({std::string(b.name) + "_expand",
                     {as_int(b.batch), size, size, channels, mid, as_int(b.max_channels)}});
    cases.push_back({std::string(b.name) + "_project", {as_int(b.batch), size, size, mid, channels, as_int(b.max_mid())}});
  }
  return cases;
}

double pointwise_flops(const PointwiseConvShape& s) {
  return 2.0 * double(s.batch) * s.height * s.width * s.in * s.out;
}

struct PointwiseBuffers {
  PointwiseBuffers(const NvccLauncher& launcher, const PointwiseConvShape& s, int weight_row)
      : x(random_floats(launcher, std::size_t(s.batch) * s.height * s.width * s.in, 7)),
        w(random_floats(launcher, std::size_t(s.out) * weight_row, 8)),
        dy(random_floats(launcher, std::size_t(s.batch) * s.height * s.width * s.out, 9)),
        y(dy.size()),
        dx(x.size()),
        dw(zero_floats(w.size())) {}
  DeviceArray<float> x, w, dy, y, dx, dw;
};

void pointwise_ours(benchmark::State& state, const PointwiseConvShape& s, bool backward) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  PointwiseBuffers b(launcher, s, s.in_max);
  DeviceArray<float> workspace(pointwise_conv_backward_workspace(s));
  time_on_device(state, context.stream(), [&] {
    if (backward) {
      pointwise_conv_backward(launcher, b.x.get(), b.w.get(), b.dy.get(), b.dx.get(), b.dw.get(), workspace.get(), s);
    } else {
      pointwise_conv_forward(launcher, b.x.get(), b.w.get(), b.y.get(), s);
    }
  });
  count_flops(state, pointwise_flops(s) * (backward ? 2 : 1));
}

void pointwise_cudnn(benchmark::State& state, const PointwiseConvShape& s, bool backward) {
  const BenchContext& context = BenchContext::current();
  PointwiseBuffers b(context.launcher(), s, s.in);
  const CudnnConvolution conv(context.cudnn(), {s.batch, s.height, s.width, s.in, s.out, 1, 1, 1},
                              backward ? kBackwardData | kBackwardFilter : kForward);
  DeviceArray<char> workspace(conv.workspace_bytes());
  state.SetLabel(conv.algorithms());
  time_on_device(state, context.stream(), [&] {
    if (backward) {
      conv.backward_data(b.w.get(), b.dy.get(), b.dx.get(), workspace.get());
      conv.backward_filter(b.x.get(), b.dy.get(), b.dw.get(), workspace.get(), 1.0f);
    } else {
      conv.forward(b.x.get(), b.w.get(), b.y.get(), workspace.get());
    }
  });
  count_flops(state, pointwise_flops(s) * (backward ? 2 : 1));
}

// Row-major [rows, n] is column-major [n, rows]: with P pixels, x [P, in], w [out, in_max] and
// y [P, out] row-major,
//   y  = x w^T  is  Y  = W^T X     (column-major Y [out, P], W [in, out] ld in_max, X [in, P])
//   dx = dy w   is  DX = W DY      (DX [in, P], DY [out, P])
//   dw += dy^T x is DW += X DY^T   (DW [in, out] ld in_max)
void pointwise_cublas(benchmark::State& state, const PointwiseConvShape& s, bool backward) {
  const BenchContext& context = BenchContext::current();
  PointwiseBuffers b(context.launcher(), s, s.in_max);
  const int pixels = s.batch * s.height * s.width;
  const float one = 1.0f, zero = 0.0f;
  cublasHandle_t h = context.cublas();
  time_on_device(state, context.stream(), [&] {
    if (backward) {
      check_cublas(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, s.in, pixels, s.out, &one, b.w.get(), s.in_max, b.dy.get(),
                               s.out, &zero, b.dx.get(), s.in),
                   "cublasSgemm (input gradient)");
      check_cublas(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, s.in, s.out, pixels, &one, b.x.get(), s.in, b.dy.get(),
                               s.out, &one, b.dw.get(), s.in_max),
                   "cublasSgemm (weight gradient)");
    } else {
      check_cublas(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, s.out, pixels, s.in, &one, b.w.get(), s.in_max, b.x.get(),
                               s.in, &zero, b.y.get(), s.out),
                   "cublasSgemm (forward)");
    }
  });
  count_flops(state, pointwise_flops(s) * (backward ? 2 : 1));
}

int register_pointwise_cases() {
  for (const PointwiseCase& c : pointwise_cases())
    for (const bool backward : {false, true}) {
      const char* op = backward ? "PointwiseConv_bwd" : "PointwiseConv_fwd";
      const PointwiseConvShape s = c.shape;
      register_case(op, c.name, kOurs, [s, backward](benchmark::State& state) { pointwise_ours(state, s, backward); });
      register_case(op, c.name, "cudnn",
                    [s, backward](benchmark::State& state) { pointwise_cudnn(state, s, backward); });
      register_case(op, c.name, "cublas",
                    [s, backward](benchmark::State& state) { pointwise_cublas(state, s, backward); });
    }
  return 0;
}

[[maybe_unused]] const int pointwise_cases_registered = register_pointwise_cases();

}  // namespace
}  // namespace ofa::cuda::yardstick
