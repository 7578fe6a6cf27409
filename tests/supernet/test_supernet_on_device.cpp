#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cuda/backend.h"
#include "kernels/error.h"
#include "kernels/threads.h"
#include "supernet/extraction.h"
#include "supernet/supernet.h"
#include "supernet/weight_file.h"
#include "tests/support/counting_backend.h"
#include "tests/support/test_tensors.h"
#include "tests/supernet/device_training.h"
#include "tests/supernet/tiny_space.h"

// The supernet on cuda tensors (the emulated backend, with the calls that would make a host wait
// for a GPU counted) against the same supernet on the cpu: initialisation, channel
// re-organisation, extraction, and training steps made of the op calls ofa train makes.
namespace ofa {
namespace {

using testing::counting_backend;
using testing::max_relative_difference;
using testing::random_tensor;
using testing::state_of;
using testing::tiny_space;

// One thread: the emulation launches hundreds of tiny grids per step, and OpenMP's barriers
// cost more than they save on them (several times more on a loaded machine).
class SupernetOnDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    cuda::use_backend(counting_backend());
    set_num_threads(1);
  }
  void TearDown() override {
    set_num_threads(threads_);
    EXPECT_EQ(counting_backend().allocator.stats().bytes_in_use, 0u) << "a cuda tensor outlived the test";
    cuda::use_backend(cuda::emulated_backend());
  }

 private:
  int threads_ = num_threads();
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> names_of(const Network& network) {
  std::vector<std::string> names;
  for (const Parameter& p : network.parameters().parameters) names.push_back(p.name);
  for (const Buffer& b : network.parameters().buffers) names.push_back(b.name);
  return names;
}

void expect_identical(const Network& on_cuda, const Network& on_cpu) {
  const std::vector<Tensor> got = state_of(on_cuda), want = state_of(on_cpu);
  const std::vector<std::string> names = names_of(on_cpu);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].device(), Device::cuda) << names[i];
    EXPECT_EQ(testing::to_doubles(got[i].to(Device::cpu)), testing::to_doubles(want[i])) << names[i];
  }
}

// The same values in both supernets, far from their initialisation.
void perturb_both(Supernet& on_cuda, Supernet& on_cpu) {
  std::vector<Parameter>& gpu = on_cuda.network().parameters().parameters;
  std::vector<Parameter>& cpu = on_cpu.network().parameters().parameters;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    cpu[i].value.copy_from(random_tensor(cpu[i].value.shape()));
    gpu[i].value.copy_from(cpu[i].value);
  }
}

TEST_F(SupernetOnDevice, InitialisesTheCpuWeightsExactly) {
  Supernet gpu(tiny_space(), 5, Device::cuda), cpu(tiny_space(), 5);
  EXPECT_EQ(gpu.network().device(), Device::cuda);
  expect_identical(gpu.network(), cpu.network());
  for (const Parameter& p : gpu.network().parameters().parameters) EXPECT_EQ(p.grad.device(), Device::cuda) << p.name;
}

// Re-organisation sorts host copies with the cpu's code, so the result is the cpu's exactly.
TEST_F(SupernetOnDevice, ReorganisesChannelsAsTheCpuDoes) {
  Supernet gpu(tiny_space(), 5, Device::cuda), cpu(tiny_space(), 5);
  perturb_both(gpu, cpu);
  gpu.reorganize_channels();
  cpu.reorganize_channels();
  expect_identical(gpu.network(), cpu.network());
}

TEST_F(SupernetOnDevice, ExtractsOnTheDevice) {
  Supernet gpu(tiny_space(), 5, Device::cuda), cpu(tiny_space(), 5);
  perturb_both(gpu, cpu);
  Subnet subnet = smallest_subnet(cpu.space());
  subnet.kernel = {3, 5, 7, 5};
  const ExtractedNetwork from_gpu = extract_subnet(gpu, subnet), from_cpu = extract_subnet(cpu, subnet);
  EXPECT_EQ(from_gpu.network->device(), Device::cuda);
  // The kernel transforms are folded in by the elastic-kernel op, whose sums run in other orders.
  EXPECT_LE(max_relative_difference(state_of(*from_gpu.network), state_of(*from_cpu.network)), 1e-6);
  const Tensor images = random_tensor({3, 8, 8, 3});
  EXPECT_THROW(from_gpu.network->forward(images, false), Error) << "cpu images reached a cuda network";
}

// Weight files go through host copies: the same bytes from either device, loadable on either.
TEST_F(SupernetOnDevice, WeightFilesAreTheSameFromEitherDevice) {
  Supernet gpu(tiny_space(), 5, Device::cuda), cpu(tiny_space(), 5);
  perturb_both(gpu, cpu);
  const std::string dir = ::testing::TempDir();
  save_supernet(dir + "gpu.safetensors", gpu);
  save_supernet(dir + "cpu.safetensors", cpu);
  EXPECT_EQ(read_file(dir + "gpu.safetensors"), read_file(dir + "cpu.safetensors"));
  const std::unique_ptr<Supernet> loaded = load_supernet(dir + "cpu.safetensors", Device::cuda);
  expect_identical(loaded->network(), cpu.network());

  const Subnet subnet = smallest_subnet(cpu.space());
  save_extracted(dir + "subnet.safetensors", extract_subnet(cpu, subnet));
  const ExtractedNetwork extracted = load_extracted(dir + "subnet.safetensors", Device::cuda);
  expect_identical(*extracted.network, *extract_subnet(cpu, subnet).network);
}

// Steps 0-2 warm the caching allocator up; steps 3-5 repeat their subnets and resolutions, and
// must neither allocate device memory nor wait for the device. Afterwards every weight, BN
// statistic and momentum matches the cpu's within 1e-5 of the tensor's scale (the kernels sum in
// other orders; measured 2.4e-7 for weights and 7.7e-7 for momentum).
TEST_F(SupernetOnDevice, TrainingStepsMatchTheCpuWithoutAllocatingOrWaiting) {
  const testing::TrainingComparison result = testing::train_on_both();
  EXPECT_EQ(result.repeated_cycle_allocations, 0u) << "a step after warm-up called cudaMalloc";
  EXPECT_EQ(result.repeated_cycle_host_waits, 0u) << "a step waited for the device";
  EXPECT_EQ(result.on_device.losses, result.on_cpu.losses);
  EXPECT_NEAR(result.on_device.loss, result.on_cpu.loss, 1e-5 * result.on_cpu.loss);
  EXPECT_EQ(result.on_device.top1, result.on_cpu.top1);
  RecordProperty("max_relative_weight_difference", concat(result.weights));
  RecordProperty("max_relative_momentum_difference", concat(result.momentum));
  EXPECT_LE(result.weights, 1e-5);
  EXPECT_LE(result.momentum, 1e-5);
}

}  // namespace
}  // namespace ofa
