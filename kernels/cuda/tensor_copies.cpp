#include "kernels/cuda/tensor_copies.h"

#include "kernels/cuda/backend.h"
#include "kernels/cuda/device_scratch.h"
#include "kernels/cuda/stream.h"

namespace ofa::cuda {
namespace {

StridedLayout layout_of(const Tensor& t) {
  StridedLayout layout{{1, 1, 1, 1}, {0, 0, 0, 0}};
  const int pad = Shape::kMaxRank - t.rank();
  for (int axis = 0; axis < t.rank(); ++axis) {
    layout.size[pad + axis] = t.dim(axis);
    layout.stride[pad + axis] = t.stride(axis);
  }
  return layout;
}

// The layout of a dense row-major buffer of t's shape.
StridedLayout packed_layout(const Tensor& t) {
  StridedLayout layout = layout_of(t);
  long long stride = 1;
  for (int axis = 3; axis >= 0; --axis) {
    layout.stride[axis] = stride;
    stride *= layout.size[axis];
  }
  return layout;
}

std::size_t bytes_of(const Tensor& t) { return static_cast<std::size_t>(t.numel()) * sizeof(float); }

// A contiguous device copy of a strided device view in `staging`, or the view itself.
const float* packed_on_device(const Tensor& t, const DeviceScratch& staging) {
  if (t.is_contiguous()) return t.f32();
  active_backend().kernels.copy_strided(current_stream(), t.f32(), layout_of(t), staging.floats(), packed_layout(t));
  return staging.floats();
}

void copy_device_to_device(const Tensor& source, Tensor& dst) {
  const Backend& backend = active_backend();
  if (source.is_contiguous() && dst.is_contiguous()) {
    backend.runtime.copy_async(dst.f32(), source.f32(), bytes_of(dst), CopyDirection::device_to_device,
                               current_stream());
    return;
  }
  backend.kernels.copy_strided(current_stream(), source.f32(), layout_of(source), dst.f32(), layout_of(dst));
}

void copy_host_to_device(const Tensor& source, Tensor& dst) {
  const Backend& backend = active_backend();
  // From pageable memory the copy has taken the host data when it returns, so `packed` may go.
  const Tensor packed = source.is_contiguous() ? source : source.clone();
  if (dst.is_contiguous()) {
    backend.runtime.copy_async(dst.f32(), packed.f32(), bytes_of(dst), CopyDirection::host_to_device,
                               current_stream());
    return;
  }
  const DeviceScratch staging(bytes_of(dst));
  backend.runtime.copy_async(staging.get(), packed.f32(), bytes_of(dst), CopyDirection::host_to_device,
                             current_stream());
  backend.kernels.copy_strided(current_stream(), staging.floats(), packed_layout(dst), dst.f32(),
                               layout_of(dst));
}

}  // namespace

CachingAllocator& active_allocator() { return active_backend().allocator; }

void* allocate_on_current_stream(CachingAllocator& allocator, std::size_t bytes) {
  return allocator.allocate(bytes, current_stream());
}

void zero_bytes(void* data, std::size_t bytes) {
  if (bytes > 0) active_backend().runtime.fill_bytes_async(data, 0, bytes, current_stream());
}

void fill_view(Tensor& dst, float value) {
  active_backend().kernels.fill_strided(current_stream(), dst.f32(), layout_of(dst), value);
}

void copy_view(const Tensor& source, Tensor& dst) {
  if (dst.numel() == 0) return;
  if (source.device() == Device::cuda && dst.device() == Device::cuda) return copy_device_to_device(source, dst);
  if (dst.device() == Device::cuda) return copy_host_to_device(source, dst);
  const Backend& backend = active_backend();
  const DeviceScratch staging(source.is_contiguous() ? 1 : bytes_of(source));
  const float* packed = packed_on_device(source, staging);
  Tensor host = dst.is_contiguous() ? dst : Tensor::empty(dst.shape());
  backend.runtime.copy_async(host.f32(), packed, bytes_of(dst), CopyDirection::device_to_host, current_stream());
  backend.runtime.synchronize_stream(current_stream());
  if (!dst.is_contiguous()) dst.copy_from(host);
}

}  // namespace ofa::cuda
