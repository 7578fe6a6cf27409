#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

namespace ofa {

namespace cuda {
class CachingAllocator;
}

// Storage is float32 today; the enum and per-dtype element size keep the door open for
// bf16/fp16 without changing any signature.
enum class DType : std::uint8_t { f32 };
std::size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);

enum class Device : std::uint8_t { cpu, cuda };
const char* device_name(Device device);

// Row-major extents, at most 4 (NHWC activations, [Cout,K,K,Cin] weights).
class Shape {
 public:
  static constexpr int kMaxRank = 4;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);

  int rank() const { return rank_; }
  std::int64_t operator[](int axis) const { return dims_[static_cast<std::size_t>(axis)]; }
  std::int64_t numel() const;
  bool operator==(const Shape& other) const;
  std::string str() const;

 private:
  std::array<std::int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// One allocation. Host memory is 64-byte aligned so a row of 16 floats fills a cache
// line and AVX-512 loads of a contiguous tensor never split. CUDA memory comes from the active
// CUDA backend's caching allocator (kernels/cuda/backend.h) on the current stream, and goes back
// to it, so tensors made and dropped inside a training step cost no cudaMalloc or cudaFree.
class Storage {
 public:
  static constexpr std::size_t kAlignment = 64;

  Storage(std::size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Device device_;
  cuda::CachingAllocator* allocator_ = nullptr;  // the allocator of a CUDA storage
};

// A strided view into shared Storage. Copies share memory; clone() copies data.
class Tensor {
 public:
  Tensor() = default;

  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor full(const Shape& shape, float value);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  std::int64_t dim(int axis) const { return shape_[axis]; }
  std::int64_t stride(int axis) const { return strides_[static_cast<std::size_t>(axis)]; }
  std::int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool is_contiguous() const;

  // The active slice of a maximum-size tensor: the first sizes[i] entries along every
  // axis, with the original strides (the leading dimension stays the maximum size).
  Tensor prefix(const Shape& sizes) const;
  Tensor prefix(int axis, std::int64_t count) const;
  // Entries [start, start + count) along `axis`, the other axes whole, same strides: a shard of a
  // batch's rows, or a bucket's slot in a flat buffer.
  Tensor narrow(int axis, std::int64_t start, std::int64_t count) const;
  // Same storage, new extents; only for contiguous tensors.
  Tensor reshape(const Shape& shape) const;
  // Contiguous copy on the same device.
  Tensor clone() const;
  // Contiguous copy on `device` (a copy even when it is this tensor's device).
  Tensor to(Device device) const;

  // Both work on either device; copy_from also copies between devices (a copy to the CPU waits
  // for the data).
  void fill(float value);
  void copy_from(const Tensor& source);

  // The data: a device pointer for a CUDA tensor, which host code must not dereference.
  float* f32();
  const float* f32() const;
  const void* raw() const;

  // Bounds-checked element access for tests and reference loops, never hot paths; CPU only.
  float& at(std::initializer_list<std::int64_t> index);
  float at(std::initializer_list<std::int64_t> index) const;

  std::string describe() const;

 private:
  std::int64_t element_offset(std::initializer_list<std::int64_t> index) const;
  template <class Visit>
  void for_each_offset(Visit visit) const;

  std::shared_ptr<Storage> storage_;
  std::int64_t offset_ = 0;
  Shape shape_;
  std::array<std::int64_t, Shape::kMaxRank> strides_{};
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu;
};

}  // namespace ofa
