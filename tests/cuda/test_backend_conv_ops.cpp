#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/ops/dense_conv.h"
#include "kernels/ops/depthwise_conv.h"
#include "kernels/ops/elastic_kernel.h"
#include "kernels/ops/linear.h"
#include "kernels/ops/pointwise_conv.h"
#include "tests/cuda/backend_ops_support.h"

// The convolution-family ops through the public op API with cuda tensors (the emulated
// backend), against the same calls on CPU tensors: odd sizes, active prefixes of max-size
// weights, gradients accumulating into random starting values.

namespace ofa::cuda::testing {
namespace {

using ofa::testing::random_tensor;

class BackendConvOps : public EmulatedDevice {};
OFA_IN_BOTH_THREAD_ORDERS(BackendConvOps);

constexpr double kTolerance = 1e-5;

TEST_P(BackendConvOps, LinearOnActivePrefixes) {
  const Tensor x = random_tensor({7, 5}), weight = random_tensor({6, 9}), bias = random_tensor({6});
  const Tensor dy = random_tensor({7, 4});
  Tensor y = Tensor::empty({7, 4}), dx = Tensor::empty(x.shape());
  Tensor dweight = random_tensor(weight.shape()), dbias = random_tensor(bias.shape());
  const Tensor cx = to_cuda(x), cweight = to_cuda(weight), cbias = to_cuda(bias), cdy = to_cuda(dy);
  Tensor cy = Tensor::empty(y.shape(), DType::f32, Device::cuda), cdx = Tensor::empty(x.shape(), DType::f32, Device::cuda);
  Tensor cdweight = to_cuda(dweight), cdbias = to_cuda(dbias);

  linear_forward(x, weight, &bias, 4, y);
  linear_forward(cx, cweight, &cbias, 4, cy);
  expect_matches(cy, y, kTolerance, "linear y");
  linear_backward(x, weight, dy, &dx, dweight, &dbias);
  linear_backward(cx, cweight, cdy, &cdx, cdweight, &cdbias);
  expect_matches(cdx, dx, kTolerance, "linear dx");
  expect_matches(cdweight, dweight, kTolerance, "linear dweight");
  expect_matches(cdbias, dbias, kTolerance, "linear dbias");
}

TEST_P(BackendConvOps, PointwiseConvOnActivePrefixes) {
  const Tensor x = random_tensor({2, 3, 5, 7}), weight = random_tensor({11, 9}), dy = random_tensor({2, 3, 5, 10});
  Tensor y = Tensor::empty(dy.shape()), dx = Tensor::empty(x.shape()), dweight = random_tensor(weight.shape());
  Tensor cy = Tensor::empty(dy.shape(), DType::f32, Device::cuda);
  Tensor cdx = Tensor::empty(x.shape(), DType::f32, Device::cuda), cdweight = to_cuda(dweight);
  pointwise_conv_forward(x, weight, 10, y);
  pointwise_conv_forward(to_cuda(x), to_cuda(weight), 10, cy);
  expect_matches(cy, y, kTolerance, "pointwise y");
  pointwise_conv_backward(x, weight, dy, &dx, dweight);
  pointwise_conv_backward(to_cuda(x), to_cuda(weight), to_cuda(dy), &cdx, cdweight);
  expect_matches(cdx, dx, kTolerance, "pointwise dx");
  expect_matches(cdweight, dweight, kTolerance, "pointwise dweight");
}

TEST_P(BackendConvOps, DenseConvStemForEveryStride) {
  for (const std::int64_t stride : {1, 2}) {
    const Tensor x = random_tensor({2, 7, 5, 3}), weight = random_tensor({6, 3, 3, 3});
    const std::int64_t out_h = (7 - 1) / stride + 1, out_w = (5 - 1) / stride + 1;
    const Tensor dy = random_tensor({2, out_h, out_w, 4});
    Tensor y = Tensor::empty(dy.shape()), dx = Tensor::empty(x.shape()), dweight = random_tensor(weight.shape());
    Tensor cy = Tensor::empty(dy.shape(), DType::f32, Device::cuda);
    Tensor cdx = Tensor::empty(x.shape(), DType::f32, Device::cuda), cdweight = to_cuda(dweight);
    dense_conv_forward(x, weight, 4, stride, y);
    dense_conv_forward(to_cuda(x), to_cuda(weight), 4, stride, cy);
    expect_matches(cy, y, kTolerance, "dense conv y");
    dense_conv_backward(x, weight, stride, dy, &dx, dweight);
    dense_conv_backward(to_cuda(x), to_cuda(weight), stride, to_cuda(dy), &cdx, cdweight);
    expect_matches(cdx, dx, kTolerance, "dense conv dx");
    expect_matches(cdweight, dweight, kTolerance, "dense conv dweight");
  }
}

TEST_P(BackendConvOps, DepthwiseConvOnAChannelPrefixForEveryKernelAndStride) {
  for (const std::int64_t k : {3, 5, 7})
    for (const std::int64_t stride : {1, 2}) {
      const Tensor x = random_tensor({1, 6, 5, 5}), weight = random_tensor({k, k, 8});
      const Tensor dy = random_tensor({1, (6 - 1) / stride + 1, (5 - 1) / stride + 1, 5});
      const Shape active{k, k, 5};
      Tensor y = Tensor::empty(dy.shape()), dx = Tensor::empty(x.shape()), dweight = random_tensor(weight.shape());
      const Tensor cweight = to_cuda(weight);
      Tensor cy = Tensor::empty(dy.shape(), DType::f32, Device::cuda);
      Tensor cdx = Tensor::empty(x.shape(), DType::f32, Device::cuda), cdweight = to_cuda(dweight);
      depthwise_conv_forward(x, weight.prefix(active), stride, y);
      depthwise_conv_forward(to_cuda(x), cweight.prefix(active), stride, cy);
      expect_matches(cy, y, kTolerance, "depthwise y");
      Tensor dkernel = dweight.prefix(active), cdkernel = cdweight.prefix(active);
      depthwise_conv_backward(x, weight.prefix(active), stride, dy, &dx, dkernel);
      depthwise_conv_backward(to_cuda(x), cweight.prefix(active), stride, to_cuda(dy), &cdx, cdkernel);
      expect_matches(cdx, dx, kTolerance, "depthwise dx");
      expect_matches(cdweight, dweight, kTolerance, "depthwise dweight (outside the prefix untouched)");
    }
}

struct ElasticWeights {
  std::vector<std::int64_t> sizes{7, 5, 3};
  Tensor weight = random_tensor({7, 7, 9});
  std::vector<Tensor> transforms{random_tensor({25, 25}, -0.5f, 0.5f), random_tensor({9, 9}, -0.5f, 0.5f)};

  std::vector<Tensor> on_cuda(const std::vector<Tensor>& tensors) const {
    std::vector<Tensor> out;
    for (const Tensor& t : tensors) out.push_back(to_cuda(t));
    return out;
  }
};

TEST_P(BackendConvOps, ElasticKernelForEverySize) {
  const ElasticWeights w;
  const std::vector<Tensor> ctransforms = w.on_cuda(w.transforms);
  const Tensor cweight = to_cuda(w.weight);
  for (const std::int64_t k : w.sizes) {
    const std::int64_t channels = 6;
    Tensor effective = Tensor::empty({k, k, channels});
    Tensor ceffective = Tensor::empty(effective.shape(), DType::f32, Device::cuda);
    elastic_kernel_forward(w.weight, w.sizes, w.transforms, k, channels, effective);
    elastic_kernel_forward(cweight, w.sizes, ctransforms, k, channels, ceffective);
    expect_matches(ceffective, effective, kTolerance, "effective kernel " + std::to_string(k));

    const Tensor d_effective = random_tensor(effective.shape());
    Tensor dweight = random_tensor(w.weight.shape());
    std::vector<Tensor> dtransforms{random_tensor({25, 25}), random_tensor({9, 9})};
    Tensor cdweight = to_cuda(dweight);
    std::vector<Tensor> cdtransforms = w.on_cuda(dtransforms);
    elastic_kernel_backward(w.weight, w.sizes, w.transforms, k, channels, d_effective, dweight, dtransforms);
    elastic_kernel_backward(cweight, w.sizes, ctransforms, k, channels, to_cuda(d_effective), cdweight, cdtransforms);
    expect_matches(cdweight, dweight, kTolerance, "elastic dweight " + std::to_string(k));
    for (std::size_t i = 0; i < dtransforms.size(); ++i)
      expect_matches(cdtransforms[i], dtransforms[i], kTolerance, "elastic dtransform " + std::to_string(i));
  }
}

TEST_P(BackendConvOps, ElasticDepthwiseConvForEverySizeAndStride) {
  const ElasticWeights w;
  const std::vector<Tensor> ctransforms = w.on_cuda(w.transforms);
  const Tensor cweight = to_cuda(w.weight);
  for (const std::int64_t k : w.sizes)
    for (const std::int64_t stride : {1, 2}) {
      const Tensor x = random_tensor({2, 5, 4, 7});
      const Tensor dy = random_tensor({2, (5 - 1) / stride + 1, (4 - 1) / stride + 1, 7});
      Tensor y = Tensor::empty(dy.shape()), dx = Tensor::empty(x.shape()), dweight = random_tensor(w.weight.shape());
      std::vector<Tensor> dtransforms{random_tensor({25, 25}), random_tensor({9, 9})};
      Tensor cy = Tensor::empty(dy.shape(), DType::f32, Device::cuda);
      Tensor cdx = Tensor::empty(x.shape(), DType::f32, Device::cuda), cdweight = to_cuda(dweight);
      std::vector<Tensor> cdtransforms = w.on_cuda(dtransforms);
      const std::string what = "elastic depthwise k" + std::to_string(k) + " s" + std::to_string(stride);
      elastic_depthwise_conv_forward(x, w.weight, w.sizes, w.transforms, k, stride, y);
      elastic_depthwise_conv_forward(to_cuda(x), cweight, w.sizes, ctransforms, k, stride, cy);
      expect_matches(cy, y, kTolerance, what + " y");
      elastic_depthwise_conv_backward(x, w.weight, w.sizes, w.transforms, k, stride, dy, &dx, dweight, dtransforms);
      elastic_depthwise_conv_backward(to_cuda(x), cweight, w.sizes, ctransforms, k, stride, to_cuda(dy), &cdx, cdweight,
                                      cdtransforms);
      expect_matches(cdx, dx, kTolerance, what + " dx");
      expect_matches(cdweight, dweight, kTolerance, what + " dweight");
      for (std::size_t i = 0; i < dtransforms.size(); ++i)
        expect_matches(cdtransforms[i], dtransforms[i], kTolerance, what + " dtransform " + std::to_string(i));
    }
}

}  // namespace
}  // namespace ofa::cuda::testing
