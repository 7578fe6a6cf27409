#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <deque>
#include <string>
#include <vector>

#include "kernels/cuda/ops/dense_conv.cuh"
#include "kernels/cuda/ops/depthwise_conv.cuh"
#include "kernels/cuda/ops/elastic_kernel.cuh"
#include "kernels/cuda/ops/linear.cuh"
#include "kernels/cuda/ops/pointwise_conv.cuh"
#include "kernels/ops/dense_conv.h"
#include "kernels/ops/depthwise_conv.h"
#include "kernels/ops/elastic_kernel.h"
#include "kernels/ops/linear.h"
#include "kernels/ops/pointwise_conv.h"
#include "kernels/tensor.h"
#include "tests/cuda/compare.h"
#include "tests/cuda/device_buffer.h"

// The convolution-family kernels against the CPU op library, one case at a time, for any
// launcher: the emulated tests and the GPU tests run the same cases. Every case starts the
// parameter gradients from random values (they must accumulate, and entries outside the active
// slice must keep them) and leaves overwritten outputs in fresh device memory (NaN-poisoned
// under emulation, so an output the kernel never writes fails the comparison).

namespace ofa::cuda::testing {

inline Tensor random_tensor(const Shape& shape, std::mt19937& rng, float low = -1.0f, float high = 1.0f) {
  std::uniform_real_distribution<float> uniform(low, high);
  Tensor t = Tensor::empty(shape);
  float* p = t.f32();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = uniform(rng);
  return t;
}

inline std::vector<float> values(const Tensor& t) {
  const Tensor packed = t.clone();
  return std::vector<float>(packed.f32(), packed.f32() + packed.numel());
}

inline DeviceBuffer<float> on_device(const Tensor& t) { return DeviceBuffer<float>(values(t)); }

// A device buffer of at least one float: a workspace some shapes need none of.
inline DeviceBuffer<float> workspace(std::size_t floats) { return DeviceBuffer<float>(std::max<std::size_t>(floats, 1)); }

// Within tolerance * max(1, max |expected|) + tolerance * |expected| everywhere: float sums in
// another order (and FMAs on a GPU) differ from the CPU's in proportion to the output's scale.
inline void expect_matches(const std::vector<float>& actual, const Tensor& expected, double tolerance,
                           const std::string& what) {
  const std::vector<float> want = values(expected);
  double scale = 1.0;
  for (float v : want) scale = std::max(scale, double(std::abs(v)));
  expect_all_close(actual, std::vector<double>(want.begin(), want.end()), tolerance * scale, tolerance, what);
}

inline int draw(std::mt19937& rng, int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng); }

// ---- linear and pointwise (1x1) convolution ----

struct LinearCase {
  int rows, in, out, in_max, out_max;
  bool bias, input_gradient;

  std::string name() const {
    return "linear " + std::to_string(rows) + "x" + std::to_string(in) + "->" + std::to_string(out) + " of " +
           std::to_string(in_max) + "x" + std::to_string(out_max) + (bias ? " bias" : "") +
           (input_gradient ? "" : " no dx");
  }
};

template <Launcher L>
void expect_linear_matches_cpu(const L& launcher, const LinearCase& c, double tolerance, unsigned seed) {
  std::mt19937 rng(seed);
  const Tensor x = random_tensor({c.rows, c.in}, rng), weight = random_tensor({c.out_max, c.in_max}, rng);
  const Tensor bias = random_tensor({c.out_max}, rng), dy = random_tensor({c.rows, c.out}, rng);
  Tensor dweight = random_tensor(weight.shape(), rng), dbias = random_tensor(bias.shape(), rng);
  const DeviceBuffer<float> d_x = on_device(x), d_weight = on_device(weight), d_bias = on_device(bias),
                            d_dy = on_device(dy), d_dweight = on_device(dweight), d_dbias = on_device(dbias);
  const DeviceBuffer<float> d_y(std::size_t(c.rows) * std::size_t(c.out)), d_dx(std::size_t(c.rows) * std::size_t(c.in));
  const LinearShape shape{c.rows, c.in, c.out, c.in_max};
  const DeviceBuffer<float> scratch = workspace(linear_backward_workspace(shape));

  Tensor y = Tensor::empty({c.rows, c.out});
  ofa::linear_forward(x, weight, c.bias ? &bias : nullptr, c.out, y);
  cuda::linear_forward(launcher, d_x.get(), d_weight.get(), c.bias ? d_bias.get() : nullptr, d_y.get(), shape);
  expect_matches(d_y.to_host(), y, tolerance, c.name() + " y");

  Tensor dx = Tensor::empty(x.shape());
  ofa::linear_backward(x, weight, dy, c.input_gradient ? &dx : nullptr, dweight, c.bias ? &dbias : nullptr);
  cuda::linear_backward(launcher, d_x.get(), d_weight.get(), d_dy.get(), c.input_gradient ? d_dx.get() : nullptr,
                        d_dweight.get(), c.bias ? d_dbias.get() : nullptr, scratch.get(), shape);
  if (c.input_gradient) expect_matches(d_dx.to_host(), dx, tolerance, c.name() + " dx");
  expect_matches(d_dweight.to_host(), dweight, tolerance, c.name() + " dweight");
  expect_matches(d_dbias.to_host(), dbias, tolerance, c.name() + " dbias");
}

struct PointwiseCase {
  int batch, height, width, in, out, in_max, out_max;

  std::string name() const {
    return "pointwise " + std::to_string(batch) + "x" + std::to_string(height) + "x" + std::to_string(width) + " " +
           std::to_string(in) + "->" + std::to_string(out) + " of " + std::to_string(in_max) + "x" +
           std::to_string(out_max);
  }
};

template <Launcher L>
void expect_pointwise_conv_matches_cpu(const L& launcher, const PointwiseCase& c, double tolerance, unsigned seed) {
  std::mt19937 rng(seed);
  const Tensor x = random_tensor({c.batch, c.height, c.width, c.in}, rng);
  const Tensor weight = random_tensor({c.out_max, c.in_max}, rng);
  const Tensor dy = random_tensor({c.batch, c.height, c.width, c.out}, rng);
  Tensor dweight = random_tensor(weight.shape(), rng);
  const DeviceBuffer<float> d_x = on_device(x), d_weight = on_device(weight), d_dy = on_device(dy),
                            d_dweight = on_device(dweight);
  const DeviceBuffer<float> d_y(std::size_t(dy.numel())), d_dx(std::size_t(x.numel()));
  const PointwiseConvShape shape{c.batch, c.height, c.width, c.in, c.out, c.in_max};
  const DeviceBuffer<float> scratch = workspace(pointwise_conv_backward_workspace(shape));

  Tensor y = Tensor::empty(dy.shape());
  ofa::pointwise_conv_forward(x, weight, c.out, y);
  cuda::pointwise_conv_forward(launcher, d_x.get(), d_weight.get(), d_y.get(), shape);
  expect_matches(d_y.to_host(), y, tolerance, c.name() + " y");

  Tensor dx = Tensor::empty(x.shape());
  ofa::pointwise_conv_backward(x, weight, dy, &dx, dweight);
  cuda::pointwise_conv_backward(launcher, d_x.get(), d_weight.get(), d_dy.get(), d_dx.get(), d_dweight.get(),
                                scratch.get(), shape);
  expect_matches(d_dx.to_host(), dx, tolerance, c.name() + " dx");
  expect_matches(d_dweight.to_host(), dweight, tolerance, c.name() + " dweight");
}

// ---- dense (stem) convolution ----

struct DenseCase {
  int batch, height, width, in, out, out_max, kernel, stride;

  std::string name() const {
    return "dense k" + std::to_string(kernel) + " s" + std::to_string(stride) + " " + std::to_string(batch) + "x" +
           std::to_string(height) + "x" + std::to_string(width) + " " + std::to_string(in) + "->" +
           std::to_string(out) + " of " + std::to_string(out_max);
  }
};

template <Launcher L>
void expect_dense_conv_matches_cpu(const L& launcher, const DenseCase& c, double tolerance, unsigned seed) {
  std::mt19937 rng(seed);
  const DenseConvShape shape{c.batch, c.height, c.width, c.in, c.out, c.kernel, c.stride};
  const Tensor x = random_tensor({c.batch, c.height, c.width, c.in}, rng);
  const Tensor weight = random_tensor({c.out_max, c.kernel, c.kernel, c.in}, rng);
  const Tensor dy = random_tensor({c.batch, shape.out_height(), shape.out_width(), c.out}, rng);
  Tensor dweight = random_tensor(weight.shape(), rng);
  const DeviceBuffer<float> d_x = on_device(x), d_weight = on_device(weight), d_dy = on_device(dy),
                            d_dweight = on_device(dweight);
  const DeviceBuffer<float> d_y(std::size_t(dy.numel())), d_dx(std::size_t(x.numel()));
  const DeviceBuffer<float> scratch = workspace(dense_conv_backward_workspace(shape));

  Tensor y = Tensor::empty(dy.shape());
  ofa::dense_conv_forward(x, weight, c.out, c.stride, y);
  cuda::dense_conv_forward(launcher, d_x.get(), d_weight.get(), d_y.get(), shape);
  expect_matches(d_y.to_host(), y, tolerance, c.name() + " y");

  Tensor dx = Tensor::empty(x.shape());
  ofa::dense_conv_backward(x, weight, c.stride, dy, &dx, dweight);
  cuda::dense_conv_backward(launcher, d_x.get(), d_weight.get(), d_dy.get(), d_dx.get(), d_dweight.get(), scratch.get(),
                            shape);
  expect_matches(d_dx.to_host(), dx, tolerance, c.name() + " dx");
  expect_matches(d_dweight.to_host(), dweight, tolerance, c.name() + " dweight");
}

// ---- depthwise convolution on the prefix of a max-size kernel ----

struct DepthwiseCase {
  int batch, height, width, channels, channels_max, kernel, stride;
  bool input_gradient;

  std::string name() const {
    return "depthwise k" + std::to_string(kernel) + " s" + std::to_string(stride) + " " + std::to_string(batch) + "x" +
           std::to_string(height) + "x" + std::to_string(width) + " c" + std::to_string(channels) + " of " +
           std::to_string(channels_max) + (input_gradient ? "" : " no dx");
  }
};

template <Launcher L>
void expect_depthwise_conv_matches_cpu(const L& launcher, const DepthwiseCase& c, double tolerance, unsigned seed) {
  std::mt19937 rng(seed);
  const DepthwiseConvShape shape{c.batch, c.height, c.width, c.channels, c.kernel, c.stride};
  const Tensor x = random_tensor({c.batch, c.height, c.width, c.channels}, rng);
  const Tensor weight = random_tensor({c.kernel, c.kernel, c.channels_max}, rng);
  const Tensor dy = random_tensor({c.batch, shape.out_height(), shape.out_width(), c.channels}, rng);
  Tensor dweight = random_tensor(weight.shape(), rng);
  const Shape active{c.kernel, c.kernel, c.channels};
  const DeviceBuffer<float> d_x = on_device(x), d_weight = on_device(weight), d_dy = on_device(dy),
                            d_dweight = on_device(dweight);
  const DeviceBuffer<float> d_y(std::size_t(dy.numel())), d_dx(std::size_t(x.numel()));
  const DeviceBuffer<float> scratch = workspace(depthwise_conv_backward_workspace(shape));

  Tensor y = Tensor::empty(dy.shape());
  ofa::depthwise_conv_forward(x, weight.prefix(active), c.stride, y);
  cuda::depthwise_conv_forward(launcher, d_x.get(), d_weight.get(), c.channels_max, d_y.get(), shape);
  expect_matches(d_y.to_host(), y, tolerance, c.name() + " y");

  Tensor dx = Tensor::empty(x.shape());
  Tensor dkernel = dweight.prefix(active);
  ofa::depthwise_conv_backward(x, weight.prefix(active), c.stride, dy, c.input_gradient ? &dx : nullptr, dkernel);
  cuda::depthwise_conv_backward(launcher, d_x.get(), d_weight.get(), c.channels_max, d_dy.get(),
                                c.input_gradient ? d_dx.get() : nullptr, d_dweight.get(), scratch.get(), shape);
  if (c.input_gradient) expect_matches(d_dx.to_host(), dx, tolerance, c.name() + " dx");
  expect_matches(d_dweight.to_host(), dweight, tolerance, c.name() + " dweight");
}

// ---- the elastic kernel and the elastic depthwise layer ----

struct ElasticCase {
  std::vector<std::int64_t> sizes;  // K_max down
  int kernel, channels, channels_max;

  std::string name() const {
    std::string s = "elastic {";
    for (std::int64_t size : sizes) s += std::to_string(size) + " ";
    return s + "} k" + std::to_string(kernel) + " c" + std::to_string(channels) + " of " + std::to_string(channels_max);
  }
};

// The max-size weight, the matrices and their gradients' starting values, on both sides.
struct ElasticTensors {
  Tensor weight, dweight;
  std::vector<Tensor> transforms, dtransforms;
  DeviceBuffer<float> d_weight, d_dweight;
  std::deque<DeviceBuffer<float>> d_transforms, d_dtransforms;  // DeviceBuffer cannot move

  ElasticTensors(const ElasticCase& c, std::mt19937& rng)
      : weight(random_tensor({c.sizes[0], c.sizes[0], c.channels_max}, rng)),
        dweight(random_tensor(weight.shape(), rng)),
        d_weight(on_device(weight)),
        d_dweight(on_device(dweight)) {
    for (std::size_t step = 0; step + 1 < c.sizes.size(); ++step) {
      const std::int64_t taps = c.sizes[step + 1] * c.sizes[step + 1];
      // Entries of +-0.5 keep the chained kernels' scale near the weight's, as OFA's near-identity matrices do.
      transforms.push_back(random_tensor({taps, taps}, rng, -0.5f, 0.5f));
      dtransforms.push_back(random_tensor({taps, taps}, rng));
    }
    for (std::size_t step = 0; step < transforms.size(); ++step) {
      d_transforms.emplace_back(values(transforms[step]));
      d_dtransforms.emplace_back(values(dtransforms[step]));
    }
  }

  ElasticTransforms<const float*> device_transforms() const {
    ElasticTransforms<const float*> t{};
    for (std::size_t i = 0; i < d_transforms.size() && i < std::size_t(kMaxElasticSteps); ++i) t.matrix[i] = d_transforms[i].get();
    return t;
  }
  ElasticTransforms<float*> device_dtransforms() const {
    ElasticTransforms<float*> t{};
    for (std::size_t i = 0; i < d_dtransforms.size() && i < std::size_t(kMaxElasticSteps); ++i) t.matrix[i] = d_dtransforms[i].get();
    return t;
  }

  // Every gradient against the CPU's, the matrices of steps not taken included (untouched).
  void expect_gradients_match(double tolerance, const std::string& what) const {
    expect_matches(d_dweight.to_host(), dweight, tolerance, what + " dweight");
    for (std::size_t step = 0; step < dtransforms.size(); ++step)
      expect_matches(d_dtransforms[step].to_host(), dtransforms[step], tolerance,
                     what + " dtransform " + std::to_string(step));
  }
};

template <Launcher L>
void expect_elastic_kernel_matches_cpu(const L& launcher, const ElasticCase& c, double tolerance, unsigned seed) {
  std::mt19937 rng(seed);
  ElasticTensors t(c, rng);
  const ElasticKernelShape shape = elastic_kernel_shape(c.sizes, c.kernel, c.channels, c.channels_max);
  const Tensor d_effective = random_tensor({c.kernel, c.kernel, c.channels}, rng);
  const DeviceBuffer<float> d_d_effective = on_device(d_effective), d_out(std::size_t(d_effective.numel()));
  const DeviceBuffer<float> scratch = workspace(elastic_kernel_backward_workspace(shape));

  Tensor effective = Tensor::empty(d_effective.shape());
  ofa::elastic_kernel_forward(t.weight, c.sizes, t.transforms, c.kernel, c.channels, effective);
  cuda::elastic_kernel_forward(launcher, t.d_weight.get(), t.device_transforms(), shape, d_out.get());
  expect_matches(d_out.to_host(), effective, tolerance, c.name() + " effective");

  ofa::elastic_kernel_backward(t.weight, c.sizes, t.transforms, c.kernel, c.channels, d_effective, t.dweight,
                          t.dtransforms);
  cuda::elastic_kernel_backward(launcher, t.d_weight.get(), t.device_transforms(), shape, d_d_effective.get(),
                                t.d_dweight.get(), t.device_dtransforms(), scratch.get());
  t.expect_gradients_match(tolerance, c.name());
}

struct ElasticDepthwiseCase {
  ElasticCase kernel;
  int batch, height, width, stride;

  std::string name() const {
    return kernel.name() + " depthwise s" + std::to_string(stride) + " " + std::to_string(batch) + "x" +
           std::to_string(height) + "x" + std::to_string(width);
  }
};

template <Launcher L>
void expect_elastic_depthwise_conv_matches_cpu(const L& launcher, const ElasticDepthwiseCase& c, double tolerance, unsigned seed) {
  std::mt19937 rng(seed);
  ElasticTensors t(c.kernel, rng);
  const ElasticKernelShape kernel =
      elastic_kernel_shape(c.kernel.sizes, c.kernel.kernel, c.kernel.channels, c.kernel.channels_max);
  const DepthwiseConvShape conv{c.batch, c.height, c.width, c.kernel.channels, c.kernel.kernel, c.stride};
  const Tensor x = random_tensor({c.batch, c.height, c.width, c.kernel.channels}, rng);
  const Tensor dy = random_tensor({c.batch, conv.out_height(), conv.out_width(), c.kernel.channels}, rng);
  const DeviceBuffer<float> d_x = on_device(x), d_dy = on_device(dy);
  const DeviceBuffer<float> d_y(std::size_t(dy.numel())), d_dx(std::size_t(x.numel()));
  const DeviceBuffer<float> forward_scratch = workspace(elastic_depthwise_conv_forward_workspace(kernel));
  const DeviceBuffer<float> backward_scratch = workspace(elastic_depthwise_conv_backward_workspace(kernel, conv));

  Tensor y = Tensor::empty(dy.shape());
  ofa::elastic_depthwise_conv_forward(x, t.weight, c.kernel.sizes, t.transforms, c.kernel.kernel, c.stride, y);
  cuda::elastic_depthwise_conv_forward(launcher, d_x.get(), t.d_weight.get(), t.device_transforms(), kernel, conv,
                                       d_y.get(), forward_scratch.get());
  expect_matches(d_y.to_host(), y, tolerance, c.name() + " y");

  Tensor dx = Tensor::empty(x.shape());
  ofa::elastic_depthwise_conv_backward(x, t.weight, c.kernel.sizes, t.transforms, c.kernel.kernel, c.stride, dy, &dx,
                                  t.dweight, t.dtransforms);
  cuda::elastic_depthwise_conv_backward(launcher, d_x.get(), t.d_weight.get(), t.device_transforms(), kernel, conv,
                                        d_dy.get(), d_dx.get(), t.d_dweight.get(), t.device_dtransforms(),
                                        backward_scratch.get());
  expect_matches(d_dx.to_host(), dx, tolerance, c.name() + " dx");
  t.expect_gradients_match(tolerance, c.name());
}

}  // namespace ofa::cuda::testing
