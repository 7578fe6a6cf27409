#pragma once

#include <cmath>
#include <cstddef>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/block_reduce.cuh"
#include "kernels/cuda/ops/cross_entropy.cuh"
#include "kernels/error.h"

// The knowledge-distillation loss on the GPU, as kernels/ops/distillation.h: student and
// teacher logits [rows, classes] (each with its own row stride), temperature T,
//   loss = T^2 * mean_n sum_k -softmax(t_n / T)_k * log_softmax(s_n / T)_k,
// one block per row and a one-block mean, as the cross-entropy kernels.

namespace ofa::cuda {

namespace distillation_detail {

// softmax(row / T) as the CPU op's softmax_row: each exp rounded to float, their sum in
// double, then multiplied by the float reciprocal of the sum.
struct Softmax {
  float max, inv_sum, inv_temperature;
  __device__ float exp_at(const float* row, int k) const { return expf((row[k] - max) * inv_temperature); }
  __device__ float at(const float* row, int k) const { return exp_at(row, k) * inv_sum; }
};

__device__ __forceinline__ Softmax row_softmax(const float* row, int classes, float inv_temperature) {
  float max = -INFINITY;
  for (int k = int(threadIdx.x); k < classes; k += int(blockDim.x)) max = max < row[k] ? row[k] : max;
  Softmax softmax{reduction::block_max(max), 0.0f, inv_temperature};
  double sum = 0.0;
  for (int k = int(threadIdx.x); k < classes; k += int(blockDim.x)) sum += double(softmax.exp_at(row, k));
  softmax.inv_sum = float(1.0 / reduction::block_sum(sum));
  return softmax;
}

inline void check(const char* op, const LogitsShape& student, long long ld_teacher, float temperature) {
  softmax_detail::check(op, student);
  OFA_CHECK(ld_teacher >= student.classes, op, "teacher row stride ", ld_teacher, " is below the ", student.classes,
            " classes");
  OFA_CHECK(temperature > 0.0f && std::isfinite(temperature), op, "temperature must be finite and > 0, got ",
            temperature);
}

}  // namespace distillation_detail

// row_loss[n] = sum_k -p_k log q_k with p = softmax(t / T), q = softmax(s / T).
template <int MaxThreads>
__global__ void __launch_bounds__(MaxThreads)
    distillation_rows_kernel(const float* __restrict__ student, LogitsShape s, const float* __restrict__ teacher,
                             long long ld_teacher, float inv_temperature, double* __restrict__ row_loss) {
  const float* z = student + static_cast<long long>(blockIdx.x) * s.ld;
  const float* t = teacher + static_cast<long long>(blockIdx.x) * ld_teacher;
  const distillation_detail::Softmax p = distillation_detail::row_softmax(t, s.classes, inv_temperature);
  const softmax_detail::Norm q = softmax_detail::row_norm(z, s.classes, inv_temperature);
  double loss = 0.0;
  for (int k = int(threadIdx.x); k < s.classes; k += int(blockDim.x)) {
    const float log_q = (z[k] - q.max) * inv_temperature - q.log_sum;
    loss -= double(p.at(t, k)) * double(log_q);
  }
  loss = reduction::block_sum(loss);
  if (threadIdx.x == 0) row_loss[blockIdx.x] = loss;
}

// dstudent = scale * (softmax(s / T) - softmax(t / T)); the student's exps go to dstudent
// first and are normalised in place by the thread that wrote them.
template <int MaxThreads>
__global__ void __launch_bounds__(MaxThreads)
    distillation_backward_kernel(const float* __restrict__ student, LogitsShape s, const float* __restrict__ teacher,
                                 long long ld_teacher, float inv_temperature, float scale, float* __restrict__ dstudent,
                                 long long ld_grad) {
  const float* z = student + static_cast<long long>(blockIdx.x) * s.ld;
  const float* t = teacher + static_cast<long long>(blockIdx.x) * ld_teacher;
  float* out = dstudent + static_cast<long long>(blockIdx.x) * ld_grad;
  const distillation_detail::Softmax p = distillation_detail::row_softmax(t, s.classes, inv_temperature);
  float max = -INFINITY;
  for (int k = int(threadIdx.x); k < s.classes; k += int(blockDim.x)) max = max < z[k] ? z[k] : max;
  max = reduction::block_max(max);
  double sum = 0.0;
  for (int k = int(threadIdx.x); k < s.classes; k += int(blockDim.x)) {
    out[k] = expf((z[k] - max) * inv_temperature);
    sum += double(out[k]);
  }
  const float inv_sum = float(1.0 / reduction::block_sum(sum));
  for (int k = int(threadIdx.x); k < s.classes; k += int(blockDim.x)) out[k] = scale * (out[k] * inv_sum - p.at(t, k));
}

// Device bytes of scratch distillation_forward needs.
inline std::size_t distillation_workspace_bytes(int rows) { return std::size_t(rows) * sizeof(double); }

// *loss (device) = the distillation loss; the teacher's row stride is ld_teacher.
template <Launcher L>
void distillation_forward(const L& launcher, const float* student, const LogitsShape& s, const float* teacher,
                          long long ld_teacher, float temperature, float* loss, void* workspace) {
  distillation_detail::check("distillation_forward", s, ld_teacher, temperature);
  double* row_loss = static_cast<double*>(workspace);
  launcher.launch(distillation_rows_kernel<reduction::kMaxRowThreads>, dim3(unsigned(s.rows)),
                  dim3(unsigned(reduction::row_threads(s.classes))), 0, student, s, teacher, ld_teacher,
                  1.0f / temperature, row_loss);
  softmax_detail::mean(launcher, row_loss, s.rows, double(temperature) * double(temperature), loss);
}

// dstudent (row stride ld_grad, overwritten) = grad_scale * T * (softmax(s / T) - softmax(t / T)) / rows.
template <Launcher L>
void distillation_backward(const L& launcher, const float* student, const LogitsShape& s, const float* teacher,
                           long long ld_teacher, float temperature, float grad_scale, float* dstudent,
                           long long ld_grad) {
  const char* op = "distillation_backward";
  distillation_detail::check(op, s, ld_teacher, temperature);
  OFA_CHECK(ld_grad >= s.classes, op, "dstudent row stride ", ld_grad, " is below the ", s.classes, " classes");
  launcher.launch(distillation_backward_kernel<reduction::kMaxRowThreads>, dim3(unsigned(s.rows)),
                  dim3(unsigned(reduction::row_threads(s.classes))), 0, student, s, teacher, ld_teacher,
                  1.0f / temperature, grad_scale * temperature / float(s.rows), dstudent, ld_grad);
}

}  // namespace ofa::cuda
