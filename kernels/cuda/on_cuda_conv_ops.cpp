#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/cuda/on_cuda_support.h"

// The linear layer and the convolutions on cuda.

namespace ofa::on_cuda {

using namespace support;

namespace {

cuda::LinearShape linear_shape(const char* op, const Tensor& x, const Tensor& weight, std::int64_t out) {
  dense_rows(op, "x", x);
  return {as_int(op, "rows", x.dim(0)), as_int(op, "input features", x.dim(1)), as_int(op, "output features", out),
          as_int(op, "weight row stride", weight.stride(0))};
}

cuda::DepthwiseConvShape depthwise_shape(const char* op, const Tensor& x, std::int64_t kernel, std::int64_t stride) {
  return {as_int(op, "batch", x.dim(0)), as_int(op, "height", x.dim(1)), as_int(op, "width", x.dim(2)),
          as_int(op, "channels", x.dim(3)), as_int(op, "kernel size", kernel), as_int(op, "stride", stride)};
}

// The kernels address a depthwise kernel's taps `tap stride` floats apart, rows k taps apart.
int tap_stride(const char* op, const char* name, const Tensor& kernel) {
  const std::int64_t taps = kernel.stride(1);
  OFA_CHECK(kernel.stride(0) == kernel.dim(1) * taps, op, name, " must be a channel prefix of a [k,k,C_max] tensor ",
            "on cuda, got strides ", kernel.stride(0), ", ", taps);
  return as_int(op, "tap stride", taps);
}

// The transformation matrices (or their gradients) of the steps taken; the others stay null.
template <class Pointer, class Tensors>
cuda::ElasticTransforms<Pointer> step_matrices(Tensors& matrices, const cuda::ElasticKernelShape& shape) {
  cuda::ElasticTransforms<Pointer> out{};
  for (int step = 0; step < shape.steps; ++step) out.matrix[step] = matrices[std::size_t(step)].f32();
  return out;
}

std::size_t float_bytes(std::size_t floats) { return floats * sizeof(float); }

}  // namespace

void linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, std::int64_t out_features, Tensor& y) {
  const char* op = "linear_forward";
  dense_rows(op, "y", y);
  kernels().linear_forward(stream(), x.f32(), weight.f32(), bias != nullptr ? bias->f32() : nullptr, y.f32(),
                           linear_shape(op, x, weight, out_features));
}

void linear_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, Tensor* dx, Tensor& dweight,
                     Tensor* dbias) {
  const char* op = "linear_backward";
  const cuda::LinearShape shape = linear_shape(op, x, weight, dy.dim(1));
  dense_rows(op, "dy", dy);
  if (dx != nullptr) dense_rows(op, "dx", *dx);
  same_row_stride(op, "dweight", dweight, weight);
  const cuda::DeviceScratch workspace(float_bytes(cuda::linear_backward_workspace(shape)));
  kernels().linear_backward(stream(), x.f32(), weight.f32(), dy.f32(), dx != nullptr ? dx->f32() : nullptr,
                            dweight.f32(), dbias != nullptr ? dbias->f32() : nullptr, workspace.floats(), shape);
}

void dense_conv_forward(const Tensor& x, const Tensor& weight, std::int64_t out_channels, std::int64_t stride,
                        Tensor& y) {
  const char* op = "dense_conv_forward";
  const cuda::DenseConvShape shape{as_int(op, "batch", x.dim(0)),       as_int(op, "height", x.dim(1)),
                                   as_int(op, "width", x.dim(2)),       as_int(op, "input channels", x.dim(3)),
                                   as_int(op, "output channels", out_channels), as_int(op, "kernel size", weight.dim(1)),
                                   as_int(op, "stride", stride)};
  kernels().dense_conv_forward(stream(), x.f32(), weight.f32(), y.f32(), shape);
}

void dense_conv_backward(const Tensor& x, const Tensor& weight, std::int64_t stride, const Tensor& dy, Tensor* dx,
                         Tensor& dweight) {
  const char* op = "dense_conv_backward";
  const cuda::DenseConvShape shape{as_int(op, "batch", x.dim(0)),       as_int(op, "height", x.dim(1)),
                                   as_int(op, "width", x.dim(2)),       as_int(op, "input channels", x.dim(3)),
                                   as_int(op, "output channels", dy.dim(3)), as_int(op, "kernel size", weight.dim(1)),
                                   as_int(op, "stride", stride)};
  const cuda::DeviceScratch workspace(float_bytes(cuda::dense_conv_backward_workspace(shape)));
  kernels().dense_conv_backward(stream(), x.f32(), weight.f32(), dy.f32(), dx != nullptr ? dx->f32() : nullptr,
                                dweight.f32(), workspace.floats(), shape);
}

void depthwise_conv_forward(const Tensor& x, const Tensor& kernel, std::int64_t stride, Tensor& y) {
  const char* op = "depthwise_conv_forward";
  kernels().depthwise_conv_forward(stream(), x.f32(), kernel.f32(), tap_stride(op, "kernel", kernel), y.f32(),
                                   depthwise_shape(op, x, kernel.dim(0), stride));
}

void depthwise_conv_backward(const Tensor& x, const Tensor& kernel, std::int64_t stride, const Tensor& dy, Tensor* dx,
                             Tensor& dkernel) {
  const char* op = "depthwise_conv_backward";
  const int taps = tap_stride(op, "kernel", kernel);
  OFA_CHECK(tap_stride(op, "dkernel", dkernel) == taps, op, "dkernel must have the kernel's tap stride ", taps,
            " on cuda, got ", dkernel.stride(1));
  const cuda::DepthwiseConvShape shape = depthwise_shape(op, x, kernel.dim(0), stride);
  const cuda::DeviceScratch workspace(float_bytes(cuda::depthwise_conv_backward_workspace(shape)));
  kernels().depthwise_conv_backward(stream(), x.f32(), kernel.f32(), taps, dy.f32(),
                                    dx != nullptr ? dx->f32() : nullptr, dkernel.f32(), workspace.floats(), shape);
}

void elastic_kernel_forward(const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                            std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels,
                            Tensor& effective) {
  const cuda::ElasticKernelShape shape = cuda::elastic_kernel_shape(kernel_sizes, kernel_size, channels, weight.dim(2));
  kernels().elastic_kernel_forward(stream(), weight.f32(), step_matrices<const float*>(transforms, shape), shape,
                                   effective.f32());
}

void elastic_kernel_backward(const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                             std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels,
                             const Tensor& d_effective, Tensor& dweight, std::span<Tensor> dtransforms) {
  const cuda::ElasticKernelShape shape = cuda::elastic_kernel_shape(kernel_sizes, kernel_size, channels, weight.dim(2));
  const cuda::DeviceScratch workspace(float_bytes(cuda::elastic_kernel_backward_workspace(shape)));
  kernels().elastic_kernel_backward(stream(), weight.f32(), step_matrices<const float*>(transforms, shape), shape,
                                    d_effective.f32(), dweight.f32(), step_matrices<float*>(dtransforms, shape),
                                    workspace.floats());
}

void elastic_depthwise_conv_forward(const Tensor& x, const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                                    std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t stride,
                                    Tensor& y) {
  const char* op = "elastic_depthwise_conv_forward";
  const cuda::ElasticKernelShape kernel = cuda::elastic_kernel_shape(kernel_sizes, kernel_size, x.dim(3), weight.dim(2));
  const cuda::DepthwiseConvShape conv = depthwise_shape(op, x, kernel_size, stride);
  const cuda::DeviceScratch workspace(float_bytes(cuda::elastic_depthwise_conv_forward_workspace(kernel)));
  kernels().elastic_depthwise_conv_forward(stream(), x.f32(), weight.f32(),
                                           step_matrices<const float*>(transforms, kernel), kernel, conv, y.f32(),
                                           workspace.floats());
}

void elastic_depthwise_conv_backward(const Tensor& x, const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                                     std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t stride,
                                     const Tensor& dy, Tensor* dx, Tensor& dweight, std::span<Tensor> dtransforms) {
  const char* op = "elastic_depthwise_conv_backward";
  const cuda::ElasticKernelShape kernel = cuda::elastic_kernel_shape(kernel_sizes, kernel_size, x.dim(3), weight.dim(2));
  const cuda::DepthwiseConvShape conv = depthwise_shape(op, x, kernel_size, stride);
  const cuda::DeviceScratch workspace(float_bytes(cuda::elastic_depthwise_conv_backward_workspace(kernel, conv)));
  kernels().elastic_depthwise_conv_backward(stream(), x.f32(), weight.f32(),
                                            step_matrices<const float*>(transforms, kernel), kernel, conv, dy.f32(),
                                            dx != nullptr ? dx->f32() : nullptr, dweight.f32(),
                                            step_matrices<float*>(dtransforms, kernel), workspace.floats());
}

}  // namespace ofa::on_cuda
