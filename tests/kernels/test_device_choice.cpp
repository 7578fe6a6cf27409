#include <gtest/gtest.h>

#include <string>

#include "kernels/device_choice.h"
#include "kernels/error.h"

namespace ofa {
namespace {

std::string error_of(const char* text) {
  try {
    parse_device(text, "--device");
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(DeviceChoice, NamesTheAcceptedDevices) {
  EXPECT_EQ(parse_device("cpu", "--device"), Device::cpu);
  EXPECT_EQ(parse_device("cuda", "--device"), Device::cuda);
  EXPECT_EQ(parse_device("cuda:0", "--device"), Device::cuda);
  EXPECT_EQ(describe_device(Device::cpu), "cpu");
}

TEST(DeviceChoice, BadValuesNameTheOption) {
  EXPECT_EQ(error_of("foo"), "--device: 'foo' is not a device; use cpu, cuda or cuda:0");
  EXPECT_EQ(error_of("CUDA"), "--device: 'CUDA' is not a device; use cpu, cuda or cuda:0");
  EXPECT_EQ(error_of("cuda:"), "--device: 'cuda:' is not a device; use cpu, cuda or cuda:0");
  EXPECT_EQ(error_of("cuda:-1"), "--device: 'cuda:-1' is not a device; use cpu, cuda or cuda:0");
  EXPECT_EQ(error_of("cuda:1x"), "--device: 'cuda:1x' is not a device; use cpu, cuda or cuda:0");
  EXPECT_EQ(error_of("cuda:7"),
            "--device: 'cuda:7': ofa runs on CUDA device 0 only (the first visible GPU); to run on GPU 7, set "
            "CUDA_VISIBLE_DEVICES=7 and pass --device cuda");
}

}  // namespace
}  // namespace ofa
