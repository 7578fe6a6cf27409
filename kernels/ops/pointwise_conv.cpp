#include "kernels/ops/pointwise_conv.h"

#include "kernels/ops/checks.h"
#include "kernels/ops/linear.h"

namespace ofa {
namespace {

// NHWC makes a 1x1 convolution exactly a linear layer over N*H*W rows.
Tensor as_rows(const char* op, const char* name, const Tensor& t) {
  checks::contiguous(op, name, t);
  checks::rank(op, name, t, 4);
  return t.reshape(Shape{t.dim(0) * t.dim(1) * t.dim(2), t.dim(3)});
}

}  // namespace

void pointwise_conv_forward(const Tensor& x, const Tensor& weight, std::int64_t out_channels, Tensor& y) {
  const char* op = "pointwise_conv_forward";
  checks::common_device(op, {{"x", &x}, {"weight", &weight}, {"y", &y}});
  checks::rank(op, "x", x, 4);
  checks::shape(op, "y", y, Shape{x.dim(0), x.dim(1), x.dim(2), out_channels});
  Tensor rows_y = as_rows(op, "y", y);
  linear_forward(as_rows(op, "x", x), weight, nullptr, out_channels, rows_y);
}

void pointwise_conv_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, Tensor* dx, Tensor& dweight) {
  const char* op = "pointwise_conv_backward";
  checks::common_device(op, {{"x", &x}, {"weight", &weight}, {"dy", &dy}, {"dx", dx}, {"dweight", &dweight}});
  checks::rank(op, "x", x, 4);
  checks::rank(op, "dy", dy, 4);
  checks::shape(op, "dy", dy, Shape{x.dim(0), x.dim(1), x.dim(2), dy.dim(3)});
  Tensor rows_dx;
  if (dx != nullptr) {
    checks::shape(op, "dx", *dx, x.shape());
    rows_dx = as_rows(op, "dx", *dx);
  }
  linear_backward(as_rows(op, "x", x), weight, as_rows(op, "dy", dy), dx != nullptr ? &rows_dx : nullptr, dweight,
                  nullptr);
}

}  // namespace ofa
