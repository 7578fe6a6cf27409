#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/tensor.h"

namespace ofa {

struct MetricTotals {
  double loss = 0;                   // sum of weight * loss over the losses added
  bool finite = true;                // whether every loss added was finite
  std::int64_t losses = 0;           // how many were added
  std::int64_t top1 = 0, topk = 0;   // hits over the accuracy batches added
  std::int64_t rows = 0;             // rows of those batches
};

// Losses and accuracy hits summed where the logits are. The ops that return a loss or counts
// make the host wait for the device on cuda (the value has to reach the host); a loop that adds
// them here instead and reads every N steps waits once per N steps. On cuda each add is a launch
// on the current stream that writes into device memory (cached blocks after the first window),
// and only read() waits. The losses are summed on the host in double, in the order added, on
// either device, so cpu and cuda totals differ only by each loss's own rounding.
class MetricSums {
 public:
  explicit MetricSums(Device device);

  // Adds weight * cross_entropy_forward(logits, labels, label_smoothing).
  void add_cross_entropy(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing,
                         double weight = 1.0);
  // Adds weight * distillation_forward(student, teacher, temperature).
  void add_distillation(const Tensor& student, const Tensor& teacher, float temperature, double weight = 1.0);
  // Adds accuracy_counts(logits, labels, k) and the batch's rows.
  void add_accuracy(const Tensor& logits, std::span<const std::int32_t> labels, std::int64_t k);

  // Everything added since the last clear(); on cuda it waits for the current stream.
  MetricTotals read() const;
  void clear();

 private:
  void check_device(const char* op, const Tensor& logits) const;
  // Device memory for the next loss (cuda only), growing the buffer by doubling.
  float* next_device_loss(double weight);

  Device device_;
  std::vector<double> weights_;    // one per loss added
  std::vector<float> host_losses_;  // cpu: the losses
  Tensor device_losses_;           // cuda: [capacity]; the first weights_.size() are written
  // cuda: the top-1 and top-k hits as two unsigned 64-bit counters (the kernel's type) in the
  // bytes of four floats, since tensors hold floats only.
  Tensor device_counts_;
  std::int64_t top1_ = 0, topk_ = 0;  // cpu hits
  std::int64_t rows_ = 0;
};

}  // namespace ofa
