#pragma once

#include <gtest/gtest.h>

#include <string>

#include "kernels/cuda/emulation/grid.h"

namespace ofa::cuda::testing {

// Every emulated test runs with each block's threads in forward and in reverse order: a race
// that one order hides shows in the other.
class BothThreadOrders : public ::testing::TestWithParam<emu::ThreadOrder> {
 protected:
  void SetUp() override { emu::set_thread_order(GetParam()); }
  void TearDown() override { emu::set_thread_order(emu::ThreadOrder::forward); }
};

inline std::string order_name(const ::testing::TestParamInfo<emu::ThreadOrder>& info) {
  return info.param == emu::ThreadOrder::forward ? "forward" : "reverse";
}

}  // namespace ofa::cuda::testing

#define OFA_IN_BOTH_THREAD_ORDERS(fixture)                                                                    \
  INSTANTIATE_TEST_SUITE_P(Orders, fixture,                                                                   \
                           ::testing::Values(::ofa::emu::ThreadOrder::forward, ::ofa::emu::ThreadOrder::reverse), \
                           ::ofa::cuda::testing::order_name)
