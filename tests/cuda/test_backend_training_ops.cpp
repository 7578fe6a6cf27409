#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cuda/backend.h"
#include "kernels/error.h"
#include "kernels/ops/accuracy.h"
#include "kernels/ops/cross_entropy.h"
#include "kernels/ops/distillation.h"
#include "kernels/ops/metric_sums.h"
#include "kernels/ops/sgd.h"
#include "tests/cuda/backend_ops_support.h"
#include "tests/support/counting_backend.h"

// What a training loop keeps on the device between host reads: MetricSums (losses and accuracy
// hits) and Sgd (the optimiser's descriptors), on the emulated backend with the runtime calls
// that would make a host wait for a GPU counted.

namespace ofa::cuda::testing {
namespace {

using ofa::testing::counting_backend;
using ofa::testing::random_tensor;
using ofa::testing::RuntimeCounts;
using ofa::testing::runtime_counts;

class BackendTrainingOps : public BothThreadOrders {
 protected:
  void SetUp() override {
    BothThreadOrders::SetUp();
    use_backend(counting_backend());
  }
  void TearDown() override {
    EXPECT_EQ(counting_backend().allocator.stats().bytes_in_use, 0u) << "a cuda tensor or workspace outlived the test";
    use_backend(emulated_backend());
    BothThreadOrders::TearDown();
  }
};
OFA_IN_BOTH_THREAD_ORDERS(BackendTrainingOps);

constexpr double kTolerance = 2e-5;

std::vector<std::int32_t> random_labels(std::int64_t rows, std::int64_t classes) {
  std::vector<std::int32_t> labels;
  for (std::int64_t i = 0; i < rows; ++i)
    labels.push_back(static_cast<std::int32_t>(ofa::testing::random_int(0, classes - 1)));
  return labels;
}

TEST_P(BackendTrainingOps, MetricSumsMatchTheCpuAndWaitOnlyWhenRead) {
  MetricSums cpu(Device::cpu), gpu(Device::cuda);
  double want_loss = 0;
  for (int batch = 0; batch < 3; ++batch) {
    const std::int64_t rows = 5 + batch, classes = 7;
    const Tensor logits = random_tensor({rows, classes}, -3.0f, 3.0f), teacher = random_tensor({rows, classes});
    const std::vector<std::int32_t> labels = random_labels(rows, classes);
    const Tensor cuda_logits = to_cuda(logits), cuda_teacher = to_cuda(teacher);
    const std::uint64_t waits_before = runtime_counts().host_waits();
    for (MetricSums* sums : {&cpu, &gpu}) {
      const bool on_cuda = sums == &gpu;
      sums->add_cross_entropy(on_cuda ? cuda_logits : logits, labels, 0.1f);
      sums->add_distillation(on_cuda ? cuda_logits : logits, on_cuda ? cuda_teacher : teacher, 2.0f, 0.5);
      sums->add_accuracy(on_cuda ? cuda_logits : logits, labels, 3);
    }
    EXPECT_EQ(runtime_counts().host_waits(), waits_before) << "an add waited for the device";
    want_loss += cross_entropy_forward(logits, labels, 0.1f) + 0.5 * distillation_forward(logits, teacher, 2.0f);
  }
  const MetricTotals got = gpu.read(), want = cpu.read();
  EXPECT_NEAR(want.loss, want_loss, 1e-12);
  EXPECT_NEAR(got.loss, want.loss, kTolerance * std::abs(want.loss));
  EXPECT_EQ(got.losses, 6);
  EXPECT_EQ(want.losses, 6);
  EXPECT_EQ(got.top1, want.top1);
  EXPECT_EQ(got.topk, want.topk);
  EXPECT_EQ(got.rows, 5 + 6 + 7);
  EXPECT_EQ(want.rows, got.rows);
  EXPECT_TRUE(got.finite);

  gpu.clear();
  const MetricTotals cleared = gpu.read();
  EXPECT_EQ(cleared.loss, 0.0);
  EXPECT_EQ(cleared.losses, 0);
  EXPECT_EQ(cleared.top1 + cleared.topk + cleared.rows, 0);
}

// The device buffer starts with room for 64 losses and doubles, keeping what it holds.
TEST_P(BackendTrainingOps, MetricSumsKeepEveryLossPastTheFirstBuffer) {
  MetricSums cpu(Device::cpu), gpu(Device::cuda);
  for (int i = 0; i < 150; ++i) {
    const Tensor logits = random_tensor({2, 3});
    const std::vector<std::int32_t> labels = random_labels(2, 3);
    cpu.add_cross_entropy(logits, labels, 0.0f, i);
    gpu.add_cross_entropy(to_cuda(logits), labels, 0.0f, i);
  }
  const MetricTotals got = gpu.read(), want = cpu.read();
  EXPECT_EQ(got.losses, 150);
  EXPECT_NEAR(got.loss, want.loss, kTolerance * std::abs(want.loss));
}

TEST_P(BackendTrainingOps, MetricSumsReportANonFiniteLoss) {
  MetricSums gpu(Device::cuda);
  Tensor logits = Tensor::empty({2, 3}, DType::f32, Device::cuda);
  logits.fill(0.0f);
  gpu.add_cross_entropy(logits, std::vector<std::int32_t>{0, 1}, 0.0f);
  EXPECT_TRUE(gpu.read().finite);
  logits.fill(std::numeric_limits<float>::quiet_NaN());
  gpu.add_cross_entropy(logits, std::vector<std::int32_t>{0, 1}, 0.0f);
  EXPECT_FALSE(gpu.read().finite);
}

TEST_P(BackendTrainingOps, MetricSumsRejectLogitsOfTheOtherDevice) {
  MetricSums gpu(Device::cuda);
  try {
    gpu.add_cross_entropy(random_tensor({2, 3}), std::vector<std::int32_t>{0, 1}, 0.0f);
    FAIL() << "cpu logits were accepted";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "MetricSums::add_cross_entropy: logits are on cpu, the sums on cuda");
  }
  EXPECT_THROW(gpu.add_accuracy(to_cuda(random_tensor({2, 3})), std::vector<std::int32_t>{0, 3}, 1), Error)
      << "a label out of range";
}

// Sgd uploads its descriptors when it is made; a step then copies nothing to the device,
// allocates nothing and never waits, and updates as sgd_step on the cpu does.
TEST_P(BackendTrainingOps, SgdUploadsItsDescriptorsOnce) {
  std::vector<SgdParameter> cpu, gpu;
  for (const std::int64_t size : {1, 37, 5, 300}) {
    const Tensor p = random_tensor({size}), g = random_tensor({size}), m = random_tensor({size}, -0.1f, 0.1f);
    cpu.push_back({p.clone(), g.clone(), m.clone(), size != 5});
    gpu.push_back({to_cuda(p), to_cuda(g), to_cuda(m), size != 5});
  }
  Sgd sgd(gpu);
  const RuntimeCounts counts = runtime_counts();
  const AllocatorStats allocations = counting_backend().allocator.stats();
  for (const float lr : {0.1f, 0.3f, 0.05f}) {
    sgd_step(cpu, SgdConfig{lr, 0.9f, 3e-3f, true});
    sgd.step(SgdConfig{lr, 0.9f, 3e-3f, true});
  }
  EXPECT_EQ(runtime_counts().copies_to_device, counts.copies_to_device);
  EXPECT_EQ(runtime_counts().host_waits(), counts.host_waits());
  EXPECT_EQ(counting_backend().allocator.stats().requests, allocations.requests);
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    expect_matches(gpu[i].param, cpu[i].param, kTolerance, "sgd param " + std::to_string(i));
    expect_matches(gpu[i].momentum_buffer, cpu[i].momentum_buffer, kTolerance, "sgd momentum " + std::to_string(i));
  }
  EXPECT_THROW(sgd.step(SgdConfig{}), Error) << "the learning rate is unset";
}

}  // namespace
}  // namespace ofa::cuda::testing
