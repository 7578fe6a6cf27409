#pragma once

#include <cstdint>
#include <initializer_list>

#include "kernels/error.h"
#include "kernels/tensor.h"

// Argument validation shared by every op. Each failure names the op, the argument and
// the offending sizes; nothing reaches a loop with a null, misaligned or mis-shaped buffer.
namespace ofa::checks {

// An op's tensor argument by name; a null tensor is an optional one not given.
struct Named {
  const char* name;
  const Tensor* tensor;
};
// The device every given, defined tensor is on (cpu when there are none). Ops run where their
// tensors are, so a mix throws, naming each tensor's device.
Device common_device(const char* op, std::initializer_list<Named> tensors);

// Defined, float32, with a float-aligned data pointer.
void f32(const char* op, const char* name, const Tensor& t);
// As f32, plus dense row-major storage.
void contiguous(const char* op, const char* name, const Tensor& t);
void rank(const char* op, const char* name, const Tensor& t, int expected);
void shape(const char* op, const char* name, const Tensor& t, const Shape& expected);
// A 2-D strided view whose rows are contiguous (a prefix of a max-size weight).
void row_major_matrix(const char* op, const char* name, const Tensor& t);
void active_size(const char* op, const char* what, std::int64_t active, std::int64_t maximum);

}  // namespace ofa::checks
