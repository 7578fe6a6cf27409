// Dense (stem) and depthwise convolutions, forward and both backward directions, beside cuDNN's
// fastest algorithm for the same convolution (the depthwise one as a grouped convolution with
// one channel per group), strict FP32 on both sides.

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>

#include "kernels/cuda/ops/conv_instances.cuh"
#include "tools/bench/cuda/bench_context.h"
#include "tools/bench/cuda/cudnn_convolution.h"
#include "tools/bench/cuda/device_array.h"
#include "tools/bench/cuda/gpu_block_shapes.h"
#include "tools/bench/cuda/gpu_timing.h"

namespace ofa::cuda::yardstick {
namespace {

// The first convolution of OFA-MobileNetV3 (3 -> 16 channels, 3x3, stride 2) over the
// resolutions progressive shrinking samples.
struct StemShape {
  const char* name;
  int batch, resolution;
};
constexpr StemShape kStemShapes[] = {{"b64_224x224", 64, 224}, {"b64_160x160", 64, 160}, {"b64_128x128", 64, 128}};

DenseConvShape stem_conv(const StemShape& s) { return {s.batch, s.resolution, s.resolution, 3, 16, 3, 2}; }

ConvolutionGeometry geometry(const DenseConvShape& s) {
  return {s.batch, s.height, s.width, s.in_channels, s.out_channels, s.kernel, s.stride, 1};
}

double dense_flops(const DenseConvShape& s) {
  return 2.0 * double(s.output_pixels()) * s.out_channels * s.filter_size();
}

enum class Direction { forward, backward_filter, backward_data_filter };

const char* dense_op(Direction d) {
  switch (d) {
    case Direction::forward: return "DenseConv_fwd";
    case Direction::backward_filter: return "DenseConv_bwd_filter";
    default: return "DenseConv_bwd_data_filter";
  }
}

struct DenseBuffers {
  DenseBuffers(const NvccLauncher& launcher, const DenseConvShape& s)
      : x(random_floats(launcher, std::size_t(s.batch) * s.height * s.width * s.in_channels, 1)),
        w(random_floats(launcher, std::size_t(s.out_channels) * s.filter_size(), 2)),
        dy(random_floats(launcher, std::size_t(s.output_pixels()) * s.out_channels, 3)),
        y(dy.size()),
        dx(x.size()),
        dw(zero_floats(w.size())) {}
  DeviceArray<float> x, w, dy, y, dx, dw;
};

void dense_ours(benchmark::State& state, const DenseConvShape& s, Direction direction) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  DenseBuffers b(launcher, s);
  DeviceArray<float> workspace(dense_conv_backward_workspace(s));
  time_on_device(state, context.stream(), [&] {
    if (direction == Direction::forward) {
      dense_conv_forward(launcher, b.x.get(), b.w.get(), b.y.get(), s);
    } else {
      float* const dx = direction == Direction::backward_data_filter ? b.dx.get() : nullptr;
      dense_conv_backward(launcher, b.x.get(), b.w.get(), b.dy.get(), dx, b.dw.get(), workspace.get(), s);
    }
  });
  count_flops(state, dense_flops(s) * (direction == Direction::backward_data_filter ? 2 : 1));
}

void dense_cudnn(benchmark::State& state, const DenseConvShape& s, Direction direction) {
  const BenchContext& context = BenchContext::current();
  DenseBuffers b(context.launcher(), s);
  const unsigned directions = direction == Direction::forward                ? kForward
                              : direction == Direction::backward_filter      ? kBackwardFilter
                                                                             : kBackwardData | kBackwardFilter;
  const CudnnConvolution conv(context.cudnn(), geometry(s), directions);
  DeviceArray<char> workspace(conv.workspace_bytes());
  state.SetLabel(conv.algorithms());
  time_on_device(state, context.stream(), [&] {
    if (direction == Direction::forward) {
      conv.forward(b.x.get(), b.w.get(), b.y.get(), workspace.get());
      return;
    }
    if (direction == Direction::backward_data_filter) conv.backward_data(b.w.get(), b.dy.get(), b.dx.get(), workspace.get());
    conv.backward_filter(b.x.get(), b.dy.get(), b.dw.get(), workspace.get(), 1.0f);
  });
  count_flops(state, dense_flops(s) * (direction == Direction::backward_data_filter ? 2 : 1));
}

// The depthwise convolution of an MBConv block: its expanded (mid) channels, kernel k; our
// weight is the max-size [k][k][mid_max] tensor read in place, cuDNN's a contiguous [mid][k][k].
DepthwiseConvShape depthwise_conv(const BlockShape& b, int kernel) {
  return {as_int(b.batch), as_int(b.size), as_int(b.size), as_int(b.mid()), kernel, as_int(b.stride)};
}

const char* depthwise_op(int direction) {
  static const char* const names[] = {"DepthwiseConv_fwd", "DepthwiseConv_bwd_data", "DepthwiseConv_bwd_filter"};
  return names[direction];
}

// Each direction reads one activation and the taps and writes the other activation (or reads
// both activations and writes the taps' gradient).
double depthwise_bytes(const DepthwiseConvShape& s) {
  const double in = double(s.batch) * s.height * s.width * s.channels;
  const double out = double(s.batch) * s.out_height() * s.out_width() * s.channels;
  return sizeof(float) * (in + out + double(s.kernel) * s.kernel * s.channels);
}

struct DepthwiseBuffers {
  DepthwiseBuffers(const NvccLauncher& launcher, const DepthwiseConvShape& s, int tap_stride)
      : x(random_floats(launcher, std::size_t(s.batch) * s.height * s.width * s.channels, 4)),
        w(random_floats(launcher, std::size_t(s.kernel) * s.kernel * tap_stride, 5)),
        dy(random_floats(launcher, std::size_t(s.batch) * s.out_height() * s.out_width() * s.channels, 6)),
        y(dy.size()),
        dx(x.size()),
        dw(zero_floats(w.size())) {}
  DeviceArray<float> x, w, dy, y, dx, dw;
};

void depthwise_ours(benchmark::State& state, const BlockShape& block, int kernel, int direction) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  const DepthwiseConvShape s = depthwise_conv(block, kernel);
  const int tap_stride = as_int(block.max_mid());
  DepthwiseBuffers b(launcher, s, tap_stride);
  DeviceArray<float> workspace(depthwise_conv_backward_workspace(s));
  time_on_device(state, context.stream(), [&] {
    if (direction == 0) depthwise_conv_forward(launcher, b.x.get(), b.w.get(), tap_stride, b.y.get(), s);
    if (direction == 1) depthwise_conv_backward_data(launcher, b.dy.get(), b.w.get(), tap_stride, b.dx.get(), s);
    if (direction == 2)
      depthwise_conv_kernel_gradient(launcher, b.x.get(), b.dy.get(), b.dw.get(), tap_stride, true, workspace.get(), s);
  });
  count_bytes(state, depthwise_bytes(s));
}

void depthwise_cudnn(benchmark::State& state, const BlockShape& block, int kernel, int direction) {
  const BenchContext& context = BenchContext::current();
  const DepthwiseConvShape s = depthwise_conv(block, kernel);
  DepthwiseBuffers b(context.launcher(), s, s.channels);
  const unsigned directions[] = {kForward, kBackwardData, kBackwardFilter};
  const CudnnConvolution conv(context.cudnn(),
                              {s.batch, s.height, s.width, s.channels, s.channels, s.kernel, s.stride, s.channels},
                              directions[direction]);
  DeviceArray<char> workspace(conv.workspace_bytes());
  state.SetLabel(conv.algorithms());
  time_on_device(state, context.stream(), [&] {
    if (direction == 0) conv.forward(b.x.get(), b.w.get(), b.y.get(), workspace.get());
    if (direction == 1) conv.backward_data(b.w.get(), b.dy.get(), b.dx.get(), workspace.get());
    if (direction == 2) conv.backward_filter(b.x.get(), b.dy.get(), b.dw.get(), workspace.get(), 1.0f);
  });
  count_bytes(state, depthwise_bytes(s));
}

int register_conv_cases() {
  for (const StemShape& stem : kStemShapes)
    for (const Direction d : {Direction::forward, Direction::backward_filter, Direction::backward_data_filter}) {
      const DenseConvShape s = stem_conv(stem);
      register_case(dense_op(d), stem.name, kOurs, [s, d](benchmark::State& state) { dense_ours(state, s, d); });
      register_case(dense_op(d), stem.name, "cudnn", [s, d](benchmark::State& state) { dense_cudnn(state, s, d); });
    }
  for (const BlockShape& block : kGpuBlockShapes)
    for (const int kernel : kKernelSizes)
      for (int direction = 0; direction < 3; ++direction) {
        const std::string shape = with_kernel(block, kernel);
        register_case(depthwise_op(direction), shape, kOurs, [block, kernel, direction](benchmark::State& state) {
          depthwise_ours(state, block, kernel, direction);
        });
        register_case(depthwise_op(direction), shape, "cudnn", [block, kernel, direction](benchmark::State& state) {
          depthwise_cudnn(state, block, kernel, direction);
        });
      }
  return 0;
}

[[maybe_unused]] const int conv_cases_registered = register_conv_cases();

}  // namespace
}  // namespace ofa::cuda::yardstick
