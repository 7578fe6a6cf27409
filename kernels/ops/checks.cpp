#include "kernels/ops/checks.h"

#include <cstdint>
#include <string>

namespace ofa::checks {

Device common_device(const char* op, std::initializer_list<Named> tensors) {
  const Tensor* first = nullptr;
  bool mixed = false;
  for (const Named& named : tensors) {
    if (named.tensor == nullptr || !named.tensor->defined()) continue;
    if (first == nullptr) first = named.tensor;
    mixed = mixed || named.tensor->device() != first->device();
  }
  if (!mixed) return first != nullptr ? first->device() : Device::cpu;
  std::string devices;
  for (const Named& named : tensors) {
    if (named.tensor == nullptr || !named.tensor->defined()) continue;
    devices += concat(devices.empty() ? "" : ", ", named.name, " on ", device_name(named.tensor->device()));
  }
  fail(op, "tensors on different devices (", devices, "); move them to one with Tensor::to");
}

void f32(const char* op, const char* name, const Tensor& t) {
  OFA_CHECK(t.defined(), op, name, " is an undefined (null) tensor");
  OFA_CHECK(t.dtype() == DType::f32, op, name, " must be f32, got ", t.describe());
  OFA_CHECK(reinterpret_cast<std::uintptr_t>(t.raw()) % alignof(float) == 0, op, name,
            " data pointer is not aligned to ", alignof(float), " bytes");
}

void contiguous(const char* op, const char* name, const Tensor& t) {
  f32(op, name, t);
  OFA_CHECK(t.is_contiguous(), op, name, " must be contiguous, got a strided view ", t.describe());
}

void rank(const char* op, const char* name, const Tensor& t, int expected) {
  OFA_CHECK(t.rank() == expected, op, name, " must have rank ", expected, ", got ", t.describe());
}

void shape(const char* op, const char* name, const Tensor& t, const Shape& expected) {
  OFA_CHECK(t.shape() == expected, op, name, " must be ", expected.str(), ", got ", t.describe());
}

void row_major_matrix(const char* op, const char* name, const Tensor& t) {
  f32(op, name, t);
  rank(op, name, t, 2);
  OFA_CHECK(t.dim(1) <= 1 || t.stride(1) == 1, op, name, " rows must be contiguous, got ", t.describe());
}

void active_size(const char* op, const char* what, std::int64_t active, std::int64_t maximum) {
  OFA_CHECK(active >= 1 && active <= maximum, op, "active ", what, " ", active, " must be in [1, ", maximum,
            "] (the maximum size)");
}

}  // namespace ofa::checks
