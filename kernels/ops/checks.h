#pragma once

#include <cstdint>

#include "kernels/error.h"
#include "kernels/tensor.h"

// Argument validation shared by every op. Each failure names the op, the argument and
// the offending sizes; nothing reaches a loop with a null, misaligned or mis-shaped buffer.
namespace ofa::checks {

// Defined, float32, on the CPU, with a float-aligned data pointer.
void cpu_f32(const char* op, const char* name, const Tensor& t);
// As cpu_f32, plus dense row-major storage.
void contiguous(const char* op, const char* name, const Tensor& t);
void rank(const char* op, const char* name, const Tensor& t, int expected);
void shape(const char* op, const char* name, const Tensor& t, const Shape& expected);
// A 2-D strided view whose rows are contiguous (a prefix of a max-size weight).
void row_major_matrix(const char* op, const char* name, const Tensor& t);
void active_size(const char* op, const char* what, std::int64_t active, std::int64_t maximum);

}  // namespace ofa::checks
