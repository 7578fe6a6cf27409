#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/residual_add.h"
#include "tests/support/expect_error.h"
#include "tests/support/test_tensors.h"

namespace ofa {
namespace {

using testing::expect_error_naming;

using testing::expect_close;
using testing::expect_gradient;
using testing::Probe;
using testing::random_int;
using testing::random_tensor;
using testing::to_doubles;

std::vector<double> reference_sum(const Tensor& a, const Tensor& b) {
  std::vector<double> y = to_doubles(a);
  const std::vector<double> rhs = to_doubles(b);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] += rhs[i];
  return y;
}

TEST(ResidualAdd, ForwardMatchesReferenceAndMayAliasEitherInput) {
  for (int trial = 0; trial < 6; ++trial) {
    // The last shape is large enough for the parallel path.
    const Shape shape = trial == 5 ? Shape{3, 29, 31, 13}
                                   : Shape{random_int(1, 3), random_int(1, 7), random_int(1, 7), random_int(1, 41)};
    Tensor a = random_tensor(shape);
    Tensor b = random_tensor(shape);
    Tensor y = Tensor::empty(shape);
    const std::vector<double> want = reference_sum(a, b);
    residual_add_forward(a, b, y);
    expect_close(y, want, 1e-7, 1e-6, "a + b " + shape.str());
    Tensor a_copy = a.clone();
    residual_add_forward(a, b, a);
    expect_close(a, want, 1e-7, 1e-6, "a += b");
    residual_add_forward(a_copy, b, b);
    expect_close(b, want, 1e-7, 1e-6, "b += a");
  }
}

TEST(ResidualAdd, GradientIsTheIdentityForBothInputs) {
  // The header documents no backward op: dy flows unchanged into a and b. The loss is
  // linear, so central differences are exact up to float rounding (default tolerances).
  for (int trial = 0; trial < 3; ++trial) {
    const Shape shape{random_int(1, 3), random_int(1, 5), random_int(1, 5), random_int(1, 17)};
    Tensor a = random_tensor(shape);
    Tensor b = random_tensor(shape);
    Tensor y = Tensor::empty(shape);
    Probe probe(shape);
    auto loss = [&] {
      residual_add_forward(a, b, y);
      return probe(y);
    };
    expect_gradient(loss, a, probe.weights, "residual da = dy");
    expect_gradient(loss, b, probe.weights, "residual db = dy");
  }
}

TEST(ResidualAdd, RejectsBadInput) {
  Tensor a = random_tensor({2, 3, 3, 4});
  Tensor y = Tensor::empty(a.shape());
  Tensor other = random_tensor({2, 3, 4, 3});
  expect_error_naming([&] { residual_add_forward(a, other, y); }, "residual_add_forward");
  expect_error_naming([&] { residual_add_forward(a, a, other); }, "residual_add_forward");
  expect_error_naming([&] { residual_add_forward(Tensor(), a, y); }, "residual_add_forward");
  Tensor strided = random_tensor({2, 3, 3, 8}).prefix(3, 4);
  expect_error_naming([&] { residual_add_forward(a, strided, y); }, "residual_add_forward");
}

}  // namespace
}  // namespace ofa
