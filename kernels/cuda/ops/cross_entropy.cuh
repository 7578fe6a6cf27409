#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/ops/block_reduce.cuh"
#include "kernels/error.h"

// Softmax cross-entropy with label smoothing on the GPU, as kernels/ops/cross_entropy.h:
// logits [rows, classes] with row stride ld (a prefix view of a wider buffer is fine), labels
// int32 in device memory. One block per row reduces the row (block_reduce.cuh); the mean over
// rows is a second one-block kernel, so the loss is deterministic and stays on the device (no
// host synchronisation in a training step). A label outside [0, classes) makes its row's loss
// and gradient NaN instead of reading out of bounds; the CPU op rejects it, as a caller that
// can see the labels on the host should.

namespace ofa::cuda {

struct LogitsShape {
  int rows, classes;
  long long ld;  // row stride in floats, >= classes
};

namespace softmax_detail {

// Per row: max and log(sum_k exp((z_k - max) * inv_temperature)), exps summed in double.
struct Norm {
  float max, log_sum;
};

__device__ __forceinline__ Norm row_norm(const float* row, int classes, float inv_temperature) {
  float max = -INFINITY;
  for (int k = int(threadIdx.x); k < classes; k += int(blockDim.x)) max = max < row[k] ? row[k] : max;
  max = reduction::block_max(max);
  double sum = 0.0;
  for (int k = int(threadIdx.x); k < classes; k += int(blockDim.x))
    sum += double(expf((row[k] - max) * inv_temperature));
  return {max, float(log(reduction::block_sum(sum)))};
}

// The mean of the rows' losses times `factor`, by one block, in a fixed order.
template <int MaxThreads>
__global__ void __launch_bounds__(MaxThreads)
    mean_kernel(const double* __restrict__ row_loss, int rows, double factor, float* __restrict__ loss) {
  double sum = 0.0;
  for (int n = int(threadIdx.x); n < rows; n += int(blockDim.x)) sum += row_loss[n];
  sum = reduction::block_sum(sum);
  if (threadIdx.x == 0) *loss = float(factor * sum / double(rows));
}

template <Launcher L>
void mean(const L& launcher, const double* row_loss, int rows, double factor, float* loss) {
  launcher.launch(mean_kernel<reduction::kMaxRowThreads>, dim3(1), dim3(unsigned(reduction::row_threads(rows))), 0,
                  row_loss, rows, factor, loss);
}

inline void check(const char* op, const LogitsShape& s) {
  OFA_CHECK(s.rows >= 1 && s.classes >= 1, op, "logits must have at least one row and one class, got ", s.rows, " x ",
            s.classes);
  OFA_CHECK(s.ld >= s.classes, op, "row stride ", s.ld, " is below the ", s.classes, " classes");
}

}  // namespace softmax_detail

// row_loss[n] = logsumexp(z) - sum_k target_k z_k, every logit shifted by the row maximum.
template <int MaxThreads>
__global__ void __launch_bounds__(MaxThreads)
    cross_entropy_rows_kernel(const float* __restrict__ logits, LogitsShape s, const std::int32_t* __restrict__ labels,
                              float label_smoothing, double* __restrict__ row_loss) {
  const float* z = logits + static_cast<long long>(blockIdx.x) * s.ld;
  const softmax_detail::Norm norm = softmax_detail::row_norm(z, s.classes, 1.0f);
  double shifted = 0.0;
  for (int k = int(threadIdx.x); k < s.classes; k += int(blockDim.x)) shifted += double(z[k] - norm.max);
  shifted = reduction::block_sum(shifted);
  if (threadIdx.x != 0) return;
  const std::int32_t label = labels[blockIdx.x];
  const bool valid = label >= 0 && label < s.classes;
  const double on_label = valid ? double(z[label] - norm.max) : NAN;
  row_loss[blockIdx.x] = double(norm.log_sum) - (1.0 - double(label_smoothing)) * on_label -
                         double(label_smoothing) / double(s.classes) * shifted;
}

// dlogits = grad_scale * (softmax(z) - target) / rows: exps go to dlogits first and are
// normalised in place by the thread that wrote them.
template <int MaxThreads>
__global__ void __launch_bounds__(MaxThreads)
    cross_entropy_backward_kernel(const float* __restrict__ logits, LogitsShape s,
                                  const std::int32_t* __restrict__ labels, float label_smoothing, float scale,
                                  float* __restrict__ dlogits, long long ld_grad) {
  const float* z = logits + static_cast<long long>(blockIdx.x) * s.ld;
  float* out = dlogits + static_cast<long long>(blockIdx.x) * ld_grad;
  float max = -INFINITY;
  for (int k = int(threadIdx.x); k < s.classes; k += int(blockDim.x)) max = max < z[k] ? z[k] : max;
  max = reduction::block_max(max);
  double sum = 0.0;
  for (int k = int(threadIdx.x); k < s.classes; k += int(blockDim.x)) {
    out[k] = expf(z[k] - max);
    sum += double(out[k]);
  }
  const float inv_sum = float(1.0 / reduction::block_sum(sum));
  const std::int32_t label = labels[blockIdx.x];
  const bool valid = label >= 0 && label < s.classes;
  const float spread = label_smoothing / float(s.classes);
  for (int k = int(threadIdx.x); k < s.classes; k += int(blockDim.x)) {
    const float g = scale * (out[k] * inv_sum - spread);
    out[k] = !valid ? NAN : (k == label ? g - scale * (1.0f - label_smoothing) : g);
  }
}

// Device bytes of scratch cross_entropy_forward needs.
inline std::size_t cross_entropy_workspace_bytes(int rows) { return std::size_t(rows) * sizeof(double); }

// *loss (device) = mean over rows of the smoothed cross-entropy.
template <Launcher L>
void cross_entropy_forward(const L& launcher, const float* logits, const LogitsShape& s, const std::int32_t* labels,
                           float label_smoothing, float* loss, void* workspace) {
  const char* op = "cross_entropy_forward";
  softmax_detail::check(op, s);
  OFA_CHECK(label_smoothing >= 0.0f && label_smoothing <= 1.0f, op, "label_smoothing must be in [0, 1], got ",
            label_smoothing);
  double* row_loss = static_cast<double*>(workspace);
  launcher.launch(cross_entropy_rows_kernel<reduction::kMaxRowThreads>, dim3(unsigned(s.rows)),
                  dim3(unsigned(reduction::row_threads(s.classes))), 0, logits, s, labels, label_smoothing, row_loss);
  softmax_detail::mean(launcher, row_loss, s.rows, 1.0, loss);
}

// dlogits [rows, classes] with row stride ld_grad (overwritten) = the gradient of
// grad_scale * loss.
template <Launcher L>
void cross_entropy_backward(const L& launcher, const float* logits, const LogitsShape& s, const std::int32_t* labels,
                            float label_smoothing, float grad_scale, float* dlogits, long long ld_grad) {
  const char* op = "cross_entropy_backward";
  softmax_detail::check(op, s);
  OFA_CHECK(label_smoothing >= 0.0f && label_smoothing <= 1.0f, op, "label_smoothing must be in [0, 1], got ",
            label_smoothing);
  OFA_CHECK(ld_grad >= s.classes, op, "dlogits row stride ", ld_grad, " is below the ", s.classes, " classes");
  launcher.launch(cross_entropy_backward_kernel<reduction::kMaxRowThreads>, dim3(unsigned(s.rows)),
                  dim3(unsigned(reduction::row_threads(s.classes))), 0, logits, s, labels, label_smoothing,
                  grad_scale / float(s.rows), dlogits, ld_grad);
}

}  // namespace ofa::cuda
