#include "kernels/ops/metric_sums.h"

#include <array>
#include <cmath>
#include <cstring>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/accuracy.h"
#include "kernels/ops/checks.h"
#include "kernels/ops/cross_entropy.h"
#include "kernels/ops/distillation.h"

namespace ofa {
namespace {

using DeviceCounts = std::array<unsigned long long, 2>;
static_assert(sizeof(DeviceCounts) == 4 * sizeof(float));

// Room for the losses of a few logging windows' first steps; it doubles when a window needs more.
constexpr std::int64_t kInitialLossCapacity = 64;

}  // namespace

MetricSums::MetricSums(Device device) : device_(device) {
  if (device_ != Device::cuda) return;
  device_losses_ = Tensor::empty({kInitialLossCapacity}, DType::f32, Device::cuda);
  device_counts_ = Tensor::zeros({4}, DType::f32, Device::cuda);
}

void MetricSums::check_device(const char* op, const Tensor& logits) const {
  const Device device = checks::common_device(op, {{"logits", &logits}});
  OFA_CHECK(device == device_, op, "logits are on ", device_name(device), ", the sums on ", device_name(device_));
}

float* MetricSums::next_device_loss(double weight) {
  const auto used = static_cast<std::int64_t>(weights_.size());
  if (used == device_losses_.numel()) {
    Tensor larger = Tensor::empty({2 * used}, DType::f32, Device::cuda);
    larger.prefix(0, used).copy_from(device_losses_);
    device_losses_ = larger;
  }
  weights_.push_back(weight);
  return device_losses_.f32() + used;
}

void MetricSums::add_cross_entropy(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing,
                                   double weight) {
  const char* op = "MetricSums::add_cross_entropy";
  check_device(op, logits);
  if (device_ == Device::cuda) {
    check_cross_entropy(op, logits, labels, label_smoothing);
    on_cuda::cross_entropy_forward(logits, labels, label_smoothing, next_device_loss(weight));
    return;
  }
  host_losses_.push_back(cross_entropy_forward(logits, labels, label_smoothing));
  weights_.push_back(weight);
}

void MetricSums::add_distillation(const Tensor& student, const Tensor& teacher, float temperature, double weight) {
  const char* op = "MetricSums::add_distillation";
  check_device(op, student);
  if (device_ == Device::cuda) {
    checks::common_device(op, {{"student", &student}, {"teacher", &teacher}});
    check_distillation(op, student, teacher, temperature);
    on_cuda::distillation_forward(student, teacher, temperature, next_device_loss(weight));
    return;
  }
  host_losses_.push_back(distillation_forward(student, teacher, temperature));
  weights_.push_back(weight);
}

void MetricSums::add_accuracy(const Tensor& logits, std::span<const std::int32_t> labels, std::int64_t k) {
  const char* op = "MetricSums::add_accuracy";
  check_device(op, logits);
  if (device_ == Device::cuda) {
    check_accuracy(op, logits, labels, k);
    on_cuda::add_accuracy_counts(logits, labels, k, reinterpret_cast<unsigned long long*>(device_counts_.f32()));
  } else {
    const AccuracyCounts counts = accuracy_counts(logits, labels, k);
    top1_ += counts.top1;
    topk_ += counts.topk;
  }
  rows_ += static_cast<std::int64_t>(labels.size());
}

MetricTotals MetricSums::read() const {
  MetricTotals totals;
  totals.losses = static_cast<std::int64_t>(weights_.size());
  totals.rows = rows_;
  std::vector<float> losses = host_losses_;
  if (device_ == Device::cuda) {
    // Each copy back waits for the stream: only what was added is read.
    if (rows_ > 0) {
      DeviceCounts counts{};
      const Tensor host_counts = device_counts_.to(Device::cpu);
      std::memcpy(counts.data(), host_counts.f32(), sizeof(counts));
      totals.top1 = static_cast<std::int64_t>(counts[0]);
      totals.topk = static_cast<std::int64_t>(counts[1]);
    }
    if (totals.losses > 0) {
      const Tensor host_losses = device_losses_.prefix(0, totals.losses).to(Device::cpu);
      losses.assign(host_losses.f32(), host_losses.f32() + totals.losses);
    }
  } else {
    totals.top1 = top1_;
    totals.topk = topk_;
  }
  for (std::size_t i = 0; i < losses.size(); ++i) {
    totals.finite = totals.finite && std::isfinite(losses[i]);
    totals.loss += weights_[i] * static_cast<double>(losses[i]);
  }
  return totals;
}

void MetricSums::clear() {
  weights_.clear();
  host_losses_.clear();
  top1_ = topk_ = rows_ = 0;
  if (device_ == Device::cuda) device_counts_.fill(0.0f);
}

}  // namespace ofa
