#pragma once

#include "kernels/tensor.h"

namespace ofa {

// Knowledge-distillation loss of student logits against teacher logits, both [N, K] with
// contiguous rows; the teacher's are constants (it gets no gradient). With temperature T > 0,
//   loss = T^2 * mean_n sum_k -softmax(t_n / T)_k * log_softmax(s_n / T)_k.
// The T^2 keeps the gradient's size independent of T (Hinton et al.). At T = 1 this is
// exactly OFA's cross_entropy_loss_with_soft_target(student, softmax(teacher)). Its minimum
// over the student (gradient zero) is at student == teacher up to a per-row constant, where
// the loss equals T^2 times the teacher's mean entropy, not zero.
float distillation_forward(const Tensor& student, const Tensor& teacher, float temperature);

// dstudent [N, K] (overwritten) = grad_scale * T * (softmax(s / T) - softmax(t / T)) / N,
// the gradient of grad_scale * loss (grad_scale carries OFA's KD ratio).
void distillation_backward(const Tensor& student, const Tensor& teacher, float temperature, float grad_scale,
                           Tensor& dstudent);

// Throws ofa::Error naming `op` unless distillation_forward accepts these arguments (shared with
// MetricSums).
void check_distillation(const char* op, const Tensor& student, const Tensor& teacher, float temperature);

}  // namespace ofa
