#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/cuda/on_cuda_support.h"

// Losses, accuracy and the optimiser step on cuda. The losses and counts the public ops return
// come back to the host (a wait for the stream); MetricSums' forms leave them on the device. The
// labels go to the device per call (an asynchronous copy into a cached block).

namespace ofa::on_cuda {

using namespace support;

namespace {

cuda::LogitsShape logits_shape(const char* op, const Tensor& logits) {
  return {as_int(op, "rows", logits.dim(0)), as_int(op, "classes", logits.dim(1)), logits.stride(0)};
}

Upload upload_labels(std::span<const std::int32_t> labels) { return Upload(labels.data(), labels.size_bytes()); }

}  // namespace

void cross_entropy_forward(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing,
                           float* device_loss) {
  const char* op = "cross_entropy_forward";
  const cuda::LogitsShape shape = logits_shape(op, logits);
  const Upload device_labels = upload_labels(labels);
  const cuda::DeviceScratch workspace(cuda::cross_entropy_workspace_bytes(shape.rows));
  kernels().cross_entropy_forward(stream(), logits.f32(), shape, static_cast<const std::int32_t*>(device_labels.get()),
                                  label_smoothing, device_loss, workspace.get());
}

float cross_entropy_forward(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing) {
  const cuda::DeviceScratch loss(sizeof(float));
  cross_entropy_forward(logits, labels, label_smoothing, loss.floats());
  return read_back<float>(loss.get());
}

void cross_entropy_backward(const Tensor& logits, std::span<const std::int32_t> labels, float label_smoothing,
                            float grad_scale, Tensor& dlogits) {
  const char* op = "cross_entropy_backward";
  const Upload device_labels = upload_labels(labels);
  kernels().cross_entropy_backward(stream(), logits.f32(), logits_shape(op, logits),
                                   static_cast<const std::int32_t*>(device_labels.get()), label_smoothing, grad_scale,
                                   dlogits.f32(), dlogits.stride(0));
}

void distillation_forward(const Tensor& student, const Tensor& teacher, float temperature, float* device_loss) {
  const char* op = "distillation_forward";
  const cuda::LogitsShape shape = logits_shape(op, student);
  const cuda::DeviceScratch workspace(cuda::distillation_workspace_bytes(shape.rows));
  kernels().distillation_forward(stream(), student.f32(), shape, teacher.f32(), teacher.stride(0), temperature,
                                 device_loss, workspace.get());
}

float distillation_forward(const Tensor& student, const Tensor& teacher, float temperature) {
  const cuda::DeviceScratch loss(sizeof(float));
  distillation_forward(student, teacher, temperature, loss.floats());
  return read_back<float>(loss.get());
}

void distillation_backward(const Tensor& student, const Tensor& teacher, float temperature, float grad_scale,
                           Tensor& dstudent) {
  const char* op = "distillation_backward";
  kernels().distillation_backward(stream(), student.f32(), logits_shape(op, student), teacher.f32(), teacher.stride(0),
                                  temperature, grad_scale, dstudent.f32(), dstudent.stride(0));
}

void add_accuracy_counts(const Tensor& logits, std::span<const std::int32_t> labels, std::int64_t k,
                         unsigned long long* device_counts) {
  const char* op = "accuracy_counts";
  const Upload device_labels = upload_labels(labels);
  kernels().accuracy_counts(stream(), logits.f32(), logits_shape(op, logits),
                            static_cast<const std::int32_t*>(device_labels.get()),
                            as_int(op, "k", std::min(k, logits.dim(1))), device_counts);
}

AccuracyCounts accuracy_counts(const Tensor& logits, std::span<const std::int32_t> labels, std::int64_t k) {
  using Counts = std::array<unsigned long long, 2>;
  const cuda::DeviceScratch counts(sizeof(Counts));
  runtime().fill_bytes_async(counts.get(), 0, sizeof(Counts), stream());
  add_accuracy_counts(logits, labels, k, static_cast<unsigned long long*>(counts.get()));
  const Counts host = read_back<Counts>(counts.get());
  return {static_cast<std::int64_t>(host[0]), static_cast<std::int64_t>(host[1])};
}

SgdDeviceParameters upload_sgd_parameters(std::span<SgdParameter> parameters) {
  const char* op = "sgd_step";
  std::vector<cuda::SgdDeviceTensor> descriptors;
  descriptors.reserve(parameters.size());
  for (SgdParameter& p : parameters)
    descriptors.push_back({p.param.f32(), p.grad.f32(), p.momentum_buffer.f32(), 0, p.param.numel(),
                           p.weight_decay ? 1 : 0});
  SgdDeviceParameters device;
  device.total = cuda::sgd_lay_out(descriptors);
  device.count = as_int(op, "parameter count", std::int64_t(descriptors.size()));
  const std::size_t bytes = descriptors.size() * sizeof(cuda::SgdDeviceTensor);
  device.descriptors = std::make_shared<Storage>(bytes, Device::cuda);
  // From pageable memory the copy has taken the host data when it returns, so `descriptors` may go.
  if (bytes > 0)
    runtime().copy_async(device.descriptors->data(), descriptors.data(), bytes, cuda::CopyDirection::host_to_device,
                         stream());
  return device;
}

void sgd_step(const SgdDeviceParameters& parameters, const SgdConfig& config) {
  kernels().sgd_step(stream(), static_cast<const cuda::SgdDeviceTensor*>(parameters.descriptors->data()),
                     parameters.count, parameters.total, config);
}

// The one-off form uploads its descriptors per call; the copy is ordered before the update on
// the stream, so it costs no synchronisation. A training loop keeps them on the device (Sgd).
void sgd_step(std::span<SgdParameter> parameters, const SgdConfig& config) {
  sgd_step(upload_sgd_parameters(parameters), config);
}

}  // namespace ofa::on_cuda
