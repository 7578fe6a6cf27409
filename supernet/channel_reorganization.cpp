#include "supernet/channel_reorganization.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/error.h"

namespace ofa {
namespace {

void permute_batch_norm(BatchNormParams& bn, const std::vector<std::int64_t>& order) {
  for (Tensor* t : {&bn.gamma, &bn.beta, &bn.running_mean, &bn.running_var}) permute_axis(*t, 0, order);
}

// Sum of |t| over every axis but `axis`, per index of `axis`.
std::vector<double> l1_norms_along(const Tensor& t, int axis) {
  const std::int64_t n = t.dim(axis);
  std::int64_t inner = 1;
  for (int a = axis + 1; a < t.rank(); ++a) inner *= t.dim(a);
  const std::int64_t outer = t.numel() / (n * inner);
  std::vector<double> norms(static_cast<std::size_t>(n), 0.0);
  const float* p = t.f32();
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < inner; ++j)
        norms[static_cast<std::size_t>(i)] += std::abs(p[(o * n + i) * inner + j]);
  return norms;
}

// Every tensor indexed by the expanded (or SE hidden) channels, in a fixed order.
std::vector<Tensor*> reorganized_tensors(MBConvWeights& w) {
  std::vector<Tensor*> tensors = {&w.project, &w.depthwise};
  for (BatchNormParams* bn : {&w.depthwise_bn, &w.expand_bn})
    for (Tensor* t : {&bn->gamma, &bn->beta, &bn->running_mean, &bn->running_var}) tensors.push_back(t);
  for (Tensor* t : {&w.se.reduce_weight, &w.se.reduce_bias, &w.se.expand_weight, &w.se.expand_bias, &w.expand})
    tensors.push_back(t);
  std::erase_if(tensors, [](const Tensor* t) { return !t->defined(); });
  return tensors;
}

void sort_on_host(MBConvWeights& w) {
  const std::vector<std::int64_t> order = order_by_importance(l1_norms_along(w.project, 1));
  permute_axis(w.project, 1, order);
  permute_batch_norm(w.depthwise_bn, order);
  permute_axis(w.depthwise, 2, order);
  if (w.se.expand_weight.defined()) {
    permute_axis(w.se.expand_weight, 0, order);
    permute_axis(w.se.expand_bias, 0, order);
    permute_axis(w.se.reduce_weight, 1, order);
    const std::vector<std::int64_t> se_order = order_by_importance(l1_norms_along(w.se.expand_weight, 1));
    permute_axis(w.se.expand_weight, 1, se_order);
    permute_axis(w.se.reduce_weight, 0, se_order);
    permute_axis(w.se.reduce_bias, 0, se_order);
  }
  if (w.expand.defined()) {
    permute_batch_norm(w.expand_bn, order);
    permute_axis(w.expand, 0, order);
  }
}

}  // namespace

void permute_axis(Tensor& t, int axis, const std::vector<std::int64_t>& order) {
  OFA_CHECK(t.device() == Device::cpu && t.is_contiguous() && axis >= 0 && axis < t.rank() &&
                static_cast<std::int64_t>(order.size()) == t.dim(axis),
            "permute_axis", "needs a contiguous cpu tensor and one index per entry of axis ", axis, ", got ",
            t.describe(), " and ", order.size(), " indices");
  const std::int64_t n = t.dim(axis);
  std::int64_t inner = 1;
  for (int a = axis + 1; a < t.rank(); ++a) inner *= t.dim(a);
  const std::int64_t outer = t.numel() / (n * inner);
  const Tensor old = t.clone();
  const float* src = old.f32();
  float* dst = t.f32();
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t from = order[static_cast<std::size_t>(i)];
      OFA_CHECK(from >= 0 && from < n, "permute_axis", "index ", from, " outside 0..", n - 1);
      std::copy_n(src + (o * n + from) * inner, inner, dst + (o * n + i) * inner);
    }
}

std::vector<std::int64_t> order_by_importance(const std::vector<double>& importance) {
  std::vector<std::int64_t> order(importance.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    return importance[static_cast<std::size_t>(a)] > importance[static_cast<std::size_t>(b)];
  });
  return order;
}

void sort_middle_channels_by_importance(MBConvWeights& w) {
  if (w.project.device() == Device::cpu) return sort_on_host(w);
  // The sort reads every weight and moves whole rows once per expand phase: on host copies it is
  // the same code as on the CPU, exactly, and the upload costs nothing next to a phase.
  MBConvWeights host = w;
  const std::vector<Tensor*> device_tensors = reorganized_tensors(w), host_tensors = reorganized_tensors(host);
  for (Tensor* t : host_tensors) *t = t->to(Device::cpu);
  sort_on_host(host);
  for (std::size_t i = 0; i < device_tensors.size(); ++i) device_tensors[i]->copy_from(*host_tensors[i]);
}

}  // namespace ofa
