#include "kernels/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/tensor_copies.h"
#include "kernels/error.h"

namespace ofa {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
  }
  fail("dtype_size", "unknown dtype");
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
  }
  return "?";
}

const char* device_name(Device device) { return device == Device::cpu ? "cpu" : "cuda"; }

Shape::Shape(std::initializer_list<std::int64_t> dims) {
  OFA_CHECK(dims.size() <= kMaxRank, "Shape", "rank ", dims.size(), " exceeds the maximum ", kMaxRank);
  for (std::int64_t d : dims) {
    OFA_CHECK(d >= 0, "Shape", "negative extent ", d);
    dims_[static_cast<std::size_t>(rank_++)] = d;
  }
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= (*this)[i];
  return n;
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if ((*this)[i] != other[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i > 0) s.push_back(',');
    s.append(std::to_string((*this)[i]));
  }
  s.push_back(']');
  return s;
}

Storage::Storage(std::size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device == Device::cuda) {
    allocator_ = &cuda::active_allocator();
    data_ = cuda::allocate_on_current_stream(*allocator_, bytes);
    return;
  }
  const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  data_ = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (data_ == nullptr) throw std::bad_alloc();
}

Storage::~Storage() {
  if (allocator_ != nullptr) {
    allocator_->deallocate(data_);
  } else {
    std::free(data_);
  }
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  Tensor t;
  t.storage_ = std::make_shared<Storage>(static_cast<std::size_t>(shape.numel()) * dtype_size(dtype), device);
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  std::int64_t stride = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    t.strides_[static_cast<std::size_t>(i)] = stride;
    stride *= shape[i];
  }
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (device == Device::cuda) {
    cuda::zero_bytes(t.storage_->data(), t.storage_->bytes());
  } else {
    std::memset(t.storage_->data(), 0, t.storage_->bytes());
  }
  return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  t.fill(value);
  return t;
}

bool Tensor::is_contiguous() const {
  std::int64_t expected = 1;
  for (int i = rank() - 1; i >= 0; --i) {
    if (dim(i) != 1 && stride(i) != expected) return false;
    expected *= dim(i);
  }
  return true;
}

Tensor Tensor::prefix(const Shape& sizes) const {
  OFA_CHECK(sizes.rank() == rank(), "Tensor::prefix", "asked for rank ", sizes.rank(), " of a ", describe());
  Tensor view = *this;
  for (int i = 0; i < rank(); ++i)
    OFA_CHECK(sizes[i] <= dim(i), "Tensor::prefix", "active size ", sizes.str(), " exceeds the maximum ", shape_.str());
  view.shape_ = sizes;
  return view;
}

Tensor Tensor::prefix(int axis, std::int64_t count) const {
  OFA_CHECK(axis >= 0 && axis < rank(), "Tensor::prefix", "axis ", axis, " out of range for ", describe());
  OFA_CHECK(count >= 0 && count <= dim(axis), "Tensor::prefix", "active size ", count, " on axis ", axis,
            " exceeds the maximum ", dim(axis));
  Tensor view = *this;
  std::array<std::int64_t, Shape::kMaxRank> dims{};
  for (int i = 0; i < rank(); ++i) dims[static_cast<std::size_t>(i)] = i == axis ? count : dim(i);
  switch (rank()) {
    case 1: view.shape_ = Shape{dims[0]}; break;
    case 2: view.shape_ = Shape{dims[0], dims[1]}; break;
    case 3: view.shape_ = Shape{dims[0], dims[1], dims[2]}; break;
    default: view.shape_ = Shape{dims[0], dims[1], dims[2], dims[3]}; break;
  }
  return view;
}

Tensor Tensor::narrow(int axis, std::int64_t start, std::int64_t count) const {
  OFA_CHECK(axis >= 0 && axis < rank(), "Tensor::narrow", "axis ", axis, " out of range for ", describe());
  OFA_CHECK(start >= 0 && count >= 0 && start + count <= dim(axis), "Tensor::narrow", "entries [", start, ", ",
            start + count, ") on axis ", axis, " exceed its ", dim(axis));
  Tensor view = prefix(axis, count);
  view.offset_ += start * stride(axis);
  return view;
}

Tensor Tensor::reshape(const Shape& shape) const {
  OFA_CHECK(is_contiguous(), "Tensor::reshape", "needs a contiguous tensor, got ", describe());
  OFA_CHECK(shape.numel() == numel(), "Tensor::reshape", "cannot view ", describe(), " as ", shape.str());
  Tensor view = *this;
  view.shape_ = shape;
  std::int64_t stride = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    view.strides_[static_cast<std::size_t>(i)] = stride;
    stride *= shape[i];
  }
  return view;
}

template <class Visit>
void Tensor::for_each_offset(Visit visit) const {
  std::array<std::int64_t, Shape::kMaxRank> dims{1, 1, 1, 1};
  std::array<std::int64_t, Shape::kMaxRank> strides{0, 0, 0, 0};
  const int pad = Shape::kMaxRank - rank();
  for (int i = 0; i < rank(); ++i) {
    dims[static_cast<std::size_t>(pad + i)] = dim(i);
    strides[static_cast<std::size_t>(pad + i)] = stride(i);
  }
  std::int64_t linear = 0;
  for (std::int64_t a = 0; a < dims[0]; ++a)
    for (std::int64_t b = 0; b < dims[1]; ++b)
      for (std::int64_t c = 0; c < dims[2]; ++c)
        for (std::int64_t d = 0; d < dims[3]; ++d)
          visit(linear++, offset_ + a * strides[0] + b * strides[1] + c * strides[2] + d * strides[3]);
}

Tensor Tensor::clone() const { return to(device_); }

Tensor Tensor::to(Device device) const {
  Tensor copy = empty(shape_, dtype_, device);
  copy.copy_from(*this);
  return copy;
}

void Tensor::fill(float value) {
  if (device_ == Device::cuda) {
    cuda::fill_view(*this, value);
    return;
  }
  float* base = static_cast<float*>(storage_->data());
  for_each_offset([&](std::int64_t, std::int64_t offset) { base[offset] = value; });
}

void Tensor::copy_from(const Tensor& source) {
  OFA_CHECK(source.shape() == shape(), "Tensor::copy_from", "shape ", source.shape().str(), " into ", describe());
  if (device_ == Device::cuda || source.device() == Device::cuda) {
    cuda::copy_view(source, *this);
    return;
  }
  const float* src = source.f32();
  float* dst = static_cast<float*>(storage_->data());
  if (is_contiguous() && source.is_contiguous()) {
    std::memcpy(dst + offset_, src, static_cast<std::size_t>(numel()) * sizeof(float));
    return;
  }
  std::vector<float> packed(static_cast<std::size_t>(numel()));
  const float* src_base = static_cast<const float*>(source.storage_->data());
  source.for_each_offset([&](std::int64_t i, std::int64_t offset) { packed[static_cast<std::size_t>(i)] = src_base[offset]; });
  for_each_offset([&](std::int64_t i, std::int64_t offset) { dst[offset] = packed[static_cast<std::size_t>(i)]; });
}

float* Tensor::f32() {
  OFA_CHECK(defined(), "Tensor::f32", "undefined tensor");
  OFA_CHECK(dtype_ == DType::f32, "Tensor::f32", "tensor is ", dtype_name(dtype_));
  return static_cast<float*>(storage_->data()) + offset_;
}

const float* Tensor::f32() const { return const_cast<Tensor*>(this)->f32(); }

const void* Tensor::raw() const {
  return defined() ? static_cast<const char*>(storage_->data()) + offset_ * static_cast<std::int64_t>(dtype_size(dtype_))
                   : nullptr;
}

std::int64_t Tensor::element_offset(std::initializer_list<std::int64_t> index) const {
  OFA_CHECK(device_ == Device::cpu, "Tensor::at", "reads host memory; copy the ", describe(),
            " to the cpu first (Tensor::to)");
  OFA_CHECK(static_cast<int>(index.size()) == rank(), "Tensor::at", index.size(), " indices for ", describe());
  std::int64_t offset = 0;
  int axis = 0;
  for (std::int64_t i : index) {
    OFA_CHECK(i >= 0 && i < dim(axis), "Tensor::at", "index ", i, " out of range on axis ", axis, " of ", describe());
    offset += i * stride(axis++);
  }
  return offset;
}

float& Tensor::at(std::initializer_list<std::int64_t> index) { return f32()[element_offset(index)]; }

float Tensor::at(std::initializer_list<std::int64_t> index) const { return f32()[element_offset(index)]; }

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return concat("tensor ", shape_.str(), " ", dtype_name(dtype_), " ", device_name(device_));
}

}  // namespace ofa
