#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/ops/distillation.h"
#include "tests/support/expect_error.h"
#include "tests/support/test_tensors.h"

namespace ofa {
namespace {

using testing::expect_error_naming;

using testing::expect_close;
using testing::expect_gradient;
using testing::random_int;
using testing::random_tensor;

std::vector<double> reference_log_softmax(const Tensor& logits, std::int64_t n, double temperature) {
  const std::int64_t classes = logits.dim(1);
  std::vector<double> scaled;
  for (std::int64_t k = 0; k < classes; ++k) scaled.push_back(logits.at({n, k}) / temperature);
  const double max = *std::max_element(scaled.begin(), scaled.end());
  double sum = 0;
  for (double z : scaled) sum += std::exp(z - max);
  for (double& z : scaled) z -= max + std::log(sum);
  return scaled;
}

// T^2 * mean_n sum_k -softmax(t_n / T)_k log_softmax(s_n / T)_k, in double.
double reference_loss(const Tensor& student, const Tensor& teacher, double temperature) {
  double total = 0;
  for (std::int64_t n = 0; n < student.dim(0); ++n) {
    const std::vector<double> log_q = reference_log_softmax(student, n, temperature);
    const std::vector<double> log_p = reference_log_softmax(teacher, n, temperature);
    for (std::size_t k = 0; k < log_q.size(); ++k) total -= std::exp(log_p[k]) * log_q[k];
  }
  return temperature * temperature * total / static_cast<double>(student.dim(0));
}

Tensor scaled(const Tensor& t, float factor) {
  Tensor out = t.clone();
  for (std::int64_t i = 0; i < out.numel(); ++i) out.f32()[i] *= factor;
  return out;
}

TEST(Distillation, ForwardMatchesReference) {
  for (int trial = 0; trial < 12; ++trial) {
    const std::int64_t rows = random_int(1, 13), classes = random_int(1, 41);
    const float temperature = trial % 3 == 0 ? 1.0f : 0.5f + static_cast<float>(trial) * 0.4f;
    const Tensor student = random_tensor({rows, classes}, -5.0f, 5.0f);
    const Tensor teacher = random_tensor({rows, classes}, -5.0f, 5.0f);
    const double want = reference_loss(student, teacher, temperature);
    EXPECT_NEAR(distillation_forward(student, teacher, temperature), want, 1e-5 * (1 + std::abs(want)))
        << student.describe() << " T " << temperature;
  }
}

// The loss is O(T^2) and returned in float: at T = 3 (loss ~20, spacing ~2e-6) that is ~1e-4 of
// rounding noise in a central difference over the 1e-2 step; truncation is O(step^2 / T), far
// smaller. The worst error measured over 200 random cases at T = 3 was 1.3e-4, so atol 3e-4
// + 1% still catches a misplaced row or class.
TEST(Distillation, BackwardMatchesFiniteDifferences) {
  for (int trial = 0; trial < 8; ++trial) {
    const std::int64_t rows = random_int(1, 9), classes = random_int(2, 17);
    const float temperature = trial % 2 == 0 ? 1.0f : 3.0f;
    const float grad_scale = trial % 3 == 0 ? 1.0f : 0.5f;
    Tensor student = random_tensor({rows, classes}, -3.0f, 3.0f);
    const Tensor teacher = random_tensor({rows, classes}, -3.0f, 3.0f);
    auto loss = [&] { return static_cast<double>(grad_scale) * distillation_forward(student, teacher, temperature); };
    Tensor dstudent = Tensor::full(student.shape(), 7.0f);  // overwritten, not accumulated
    distillation_backward(student, teacher, temperature, grad_scale, dstudent);
    expect_gradient(loss, student, dstudent, "distillation dstudent T=" + std::to_string(temperature), 1e-2, 3e-4,
                    1e-2, 400);
  }
}

// At student == teacher (T = 1) the gradient vanishes, the loss is the teacher's entropy, and
// any perturbation of the student raises it (cross-entropy >= entropy, Gibbs' inequality).
TEST(Distillation, MinimalWhenStudentEqualsTeacher) {
  const Tensor teacher = random_tensor({6, 10}, -4.0f, 4.0f);
  const Tensor student = teacher.clone();
  Tensor dstudent = Tensor::empty(student.shape());
  distillation_backward(student, teacher, 1.0f, 1.0f, dstudent);
  expect_close(dstudent, std::vector<double>(60, 0.0), 1e-7, 0, "gradient at the minimum");
  const float at_minimum = distillation_forward(student, teacher, 1.0f);
  EXPECT_NEAR(at_minimum, reference_loss(teacher, teacher, 1.0), 1e-5);
  for (int trial = 0; trial < 5; ++trial) {
    Tensor perturbed = student.clone();
    const Tensor noise = random_tensor(student.shape(), -0.3f, 0.3f);
    for (std::int64_t i = 0; i < perturbed.numel(); ++i) perturbed.f32()[i] += noise.f32()[i];
    EXPECT_GT(distillation_forward(perturbed, teacher, 1.0f), at_minimum);
  }
}

// Logits scaled by T at temperature T give the same softmaxes as the originals at T = 1, so
// the T^2 factor shows alone: loss(Ts, Tt; T) = T^2 loss(s, t; 1), and the gradient with
// respect to the scaled logits is T times the original.
TEST(Distillation, TemperatureSquaredScaling) {
  const Tensor student = random_tensor({5, 12}, -3.0f, 3.0f);
  const Tensor teacher = random_tensor({5, 12}, -3.0f, 3.0f);
  const float base = distillation_forward(student, teacher, 1.0f);
  Tensor base_grad = Tensor::empty(student.shape());
  distillation_backward(student, teacher, 1.0f, 1.0f, base_grad);
  for (float temperature : {2.0f, 4.0f}) {
    const Tensor hot_student = scaled(student, temperature), hot_teacher = scaled(teacher, temperature);
    EXPECT_NEAR(distillation_forward(hot_student, hot_teacher, temperature), temperature * temperature * base,
                1e-5 * temperature * temperature * (1 + base));
    Tensor grad = Tensor::empty(student.shape());
    distillation_backward(hot_student, hot_teacher, temperature, 1.0f, grad);
    expect_close(grad, scaled(base_grad, temperature), 1e-6, 1e-4, "gradient at T=" + std::to_string(temperature));
  }
}

TEST(Distillation, RejectsBadInput) {
  const Tensor student = random_tensor({4, 10});
  const Tensor teacher = random_tensor({4, 10});
  Tensor grad = Tensor::empty({4, 10});
  expect_error_naming([&] { distillation_forward(student, teacher, 0.0f); }, "distillation_forward", "temperature");
  expect_error_naming([&] { distillation_backward(student, teacher, -1.0f, 1.0f, grad); }, "distillation_backward",
                      "temperature");
  expect_error_naming([&] { distillation_forward(student, teacher, std::nanf("")); }, "distillation_forward",
                      "temperature");
  expect_error_naming([&] { distillation_forward(student, random_tensor({4, 11}), 1.0f); }, "distillation_forward",
                      "[4,11]");
  expect_error_naming([&] { distillation_forward(Tensor(), teacher, 1.0f); }, "distillation_forward", "undefined");
  Tensor wrong_grad = Tensor::empty({5, 10});
  expect_error_naming([&] { distillation_backward(student, teacher, 1.0f, 1.0f, wrong_grad); },
                      "distillation_backward", "[5,10]");
}

}  // namespace
}  // namespace ofa
