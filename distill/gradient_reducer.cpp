#include "distill/gradient_reducer.h"

#include <algorithm>

#include "kernels/error.h"

namespace ofa {
namespace {

// The smallest prefix holding both prefixes (an untouched parameter's prefix has rank 0).
Shape union_prefix(const Shape& a, const Shape& b) {
  if (a.rank() == 0) return b;
  OFA_CHECK(a.rank() == b.rank(), "GradientReducer", "extents ", a.str(), " and ", b.str(), " of one parameter");
  switch (a.rank()) {
    case 1: return Shape{std::max(a[0], b[0])};
    case 2: return Shape{std::max(a[0], b[0]), std::max(a[1], b[1])};
    case 3: return Shape{std::max(a[0], b[0]), std::max(a[1], b[1]), std::max(a[2], b[2])};
    default: return Shape{std::max(a[0], b[0]), std::max(a[1], b[1]), std::max(a[2], b[2]), std::max(a[3], b[3])};
  }
}

}  // namespace

GradientReducer::GradientReducer(ParameterList& parameters, GradientTransport& transport, std::size_t bucket_bytes)
    : parameters_(parameters),
      transport_(transport),
      bucket_bytes_(bucket_bytes),
      touched_(parameters.parameters.size()),
      sent_(parameters.parameters.size(), false) {}

void GradientReducer::begin_step(std::int64_t global_step) {
  what_ = concat("the gradient all-reduce of step ", global_step);
  std::fill(touched_.begin(), touched_.end(), Shape{});
  std::fill(sent_.begin(), sent_.end(), false);
  last_backward_ = false;
  open_ = {};
  buckets_.clear();
  reduced_bytes_ = 0;
}

GradientHook* GradientReducer::backward_hook(bool last) {
  last_backward_ = last;
  return this;
}

void GradientReducer::layer_finished(std::span<const GradientExtent> gradients) {
  for (const GradientExtent& g : gradients) {
    OFA_CHECK(g.parameter < touched_.size(), "GradientReducer", "parameter ", g.parameter, " of ", touched_.size());
    touched_[g.parameter] = union_prefix(touched_[g.parameter], g.extent);
    if (last_backward_) add_to_bucket(g.parameter);
  }
  if (last_backward_ && static_cast<std::size_t>(open_.elements) * sizeof(float) >= bucket_bytes_) send_open_bucket();
}

void GradientReducer::add_to_bucket(std::size_t parameter) {
  if (sent_[parameter]) return;
  sent_[parameter] = true;
  open_.entries.push_back({parameter, touched_[parameter]});
  open_.elements += touched_[parameter].numel();
}

void GradientReducer::send_open_bucket() {
  if (open_.entries.empty()) return;
  const Device device = parameters_.parameters[open_.entries.front().parameter].grad.device();
  open_.buffer = Tensor::empty({open_.elements}, DType::f32, device);
  std::int64_t offset = 0;
  for (const GradientExtent& e : open_.entries) {
    const std::int64_t n = e.extent.numel();
    open_.buffer.narrow(0, offset, n).reshape(e.extent).copy_from(parameters_.parameters[e.parameter].grad.prefix(e.extent));
    offset += n;
  }
  transport_.start(open_.buffer, what_);
  reduced_bytes_ += open_.elements * static_cast<std::int64_t>(sizeof(float));
  buckets_.push_back(std::move(open_));
  open_ = {};
}

void GradientReducer::finish_step() {
  for (std::size_t p = 0; p < touched_.size(); ++p) {
    if (touched_[p].rank() == 0) continue;
    add_to_bucket(p);
    if (static_cast<std::size_t>(open_.elements) * sizeof(float) >= bucket_bytes_) send_open_bucket();
  }
  send_open_bucket();
  transport_.finish();
  for (Bucket& bucket : buckets_) {
    std::int64_t offset = 0;
    for (const GradientExtent& e : bucket.entries) {
      const std::int64_t n = e.extent.numel();
      Tensor destination = parameters_.parameters[e.parameter].grad.prefix(e.extent);
      destination.copy_from(bucket.buffer.narrow(0, offset, n).reshape(e.extent));
      offset += n;
    }
    bucket.buffer = Tensor();
  }
}

}  // namespace ofa
