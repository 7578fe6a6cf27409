#include "kernels/ops/distillation.h"

#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"
#include "kernels/ops/cross_entropy.h"

namespace ofa {
namespace {

// sum_k -p_k log q_k for one row, p = softmax(t / T) (written to teacher_p), q = softmax(s / T).
double soft_target_row_loss(const float* s, const float* t, std::int64_t classes, float inv_temperature,
                            float* teacher_p) {
  softmax_row(t, classes, inv_temperature, teacher_p);
  const SoftmaxNorm student = softmax_norm(s, classes, inv_temperature);
  double loss = 0.0;
  for (std::int64_t k = 0; k < classes; ++k) {
    const float log_q = (s[k] - student.max) * inv_temperature - student.log_sum;
    loss -= static_cast<double>(teacher_p[k]) * static_cast<double>(log_q);
  }
  return loss;
}

}  // namespace

void check_distillation(const char* op, const Tensor& student, const Tensor& teacher, float temperature) {
  checks::row_major_matrix(op, "student", student);
  checks::row_major_matrix(op, "teacher", teacher);
  checks::shape(op, "teacher", teacher, student.shape());
  OFA_CHECK(student.dim(0) >= 1 && student.dim(1) >= 1, op,
            "logits must have at least one row and one class, got ", student.describe());
  OFA_CHECK(temperature > 0.0f && std::isfinite(temperature), op, "temperature must be finite and > 0, got ",
            temperature);
}

float distillation_forward(const Tensor& student, const Tensor& teacher, float temperature) {
  const Device device = checks::common_device("distillation_forward", {{"student", &student}, {"teacher", &teacher}});
  check_distillation("distillation_forward", student, teacher, temperature);
  if (device == Device::cuda) return on_cuda::distillation_forward(student, teacher, temperature);
  const std::int64_t rows = student.dim(0), classes = student.dim(1);
  const std::int64_t ld_s = student.stride(0), ld_t = teacher.stride(0);
  const float inv_temperature = 1.0f / temperature;
  const float* s = student.f32();
  const float* t = teacher.f32();
  // Per-row losses summed serially afterwards: the result does not depend on the thread count.
  std::vector<double> row_loss(static_cast<std::size_t>(rows));
#pragma omp parallel
  {
    std::vector<float> teacher_p(static_cast<std::size_t>(classes));
#pragma omp for schedule(static)
    for (std::int64_t n = 0; n < rows; ++n)
      row_loss[static_cast<std::size_t>(n)] =
          soft_target_row_loss(s + n * ld_s, t + n * ld_t, classes, inv_temperature, teacher_p.data());
  }
  const double t_squared = static_cast<double>(temperature) * static_cast<double>(temperature);
  return static_cast<float>(t_squared * std::accumulate(row_loss.begin(), row_loss.end(), 0.0) /
                            static_cast<double>(rows));
}

void distillation_backward(const Tensor& student, const Tensor& teacher, float temperature, float grad_scale,
                           Tensor& dstudent) {
  const char* op = "distillation_backward";
  const Device device =
      checks::common_device(op, {{"student", &student}, {"teacher", &teacher}, {"dstudent", &dstudent}});
  check_distillation(op, student, teacher, temperature);
  checks::row_major_matrix(op, "dstudent", dstudent);
  checks::shape(op, "dstudent", dstudent, student.shape());
  if (device == Device::cuda)
    return on_cuda::distillation_backward(student, teacher, temperature, grad_scale, dstudent);
  const std::int64_t rows = student.dim(0), classes = student.dim(1);
  const std::int64_t ld_s = student.stride(0), ld_t = teacher.stride(0), ld_grad = dstudent.stride(0);
  const float inv_temperature = 1.0f / temperature;
  const float scale = grad_scale * temperature / static_cast<float>(rows);
  const float* s = student.f32();
  const float* t = teacher.f32();
  float* grad = dstudent.f32();

#pragma omp parallel
  {
    std::vector<float> teacher_p(static_cast<std::size_t>(classes));
#pragma omp for schedule(static)
    for (std::int64_t n = 0; n < rows; ++n) {
      float* out = grad + n * ld_grad;
      softmax_row(s + n * ld_s, classes, inv_temperature, out);
      softmax_row(t + n * ld_t, classes, inv_temperature, teacher_p.data());
      for (std::int64_t k = 0; k < classes; ++k) out[k] = scale * (out[k] - teacher_p[static_cast<std::size_t>(k)]);
    }
  }
}

}  // namespace ofa
