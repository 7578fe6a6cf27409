#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/cuda/backend.h"
#include "kernels/tensor.h"
#include "tests/cuda/thread_order.h"
#include "tests/support/test_tensors.h"

// What the device-dispatch tests share: the emulated backend in both thread orders, and the
// comparison of a cuda tensor with the CPU op's result.

namespace ofa::cuda::testing {

// Every test of the op API on cuda tensors runs on the emulated backend, in both thread orders,
// and must leave no device memory in use.
class EmulatedDevice : public BothThreadOrders {
 protected:
  void SetUp() override {
    BothThreadOrders::SetUp();
    use_backend(emulated_backend());
  }
  void TearDown() override {
    EXPECT_EQ(emulated_backend().allocator.stats().bytes_in_use, 0u) << "a cuda tensor or workspace outlived the test";
    BothThreadOrders::TearDown();
  }
};

inline Tensor to_cuda(const Tensor& t) { return t.to(Device::cuda); }

// The cuda result against the CPU one, within tolerance * max(1, max |cpu|) + tolerance * |cpu|:
// the kernels sum in other orders than the CPU ops.
inline void expect_matches(const Tensor& on_cuda, const Tensor& on_cpu, double tolerance, const std::string& what) {
  ASSERT_EQ(on_cuda.device(), Device::cuda) << what;
  ASSERT_EQ(on_cpu.device(), Device::cpu) << what;
  const std::vector<double> want = ofa::testing::to_doubles(on_cpu);
  double scale = 1.0;
  for (double v : want) scale = std::max(scale, std::abs(v));
  ofa::testing::expect_close(on_cuda.to(Device::cpu), want, tolerance * scale, tolerance, what);
}

}  // namespace ofa::cuda::testing
