#pragma once

#include <cstdint>

namespace ofa {

// Row-major C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, through OpenBLAS.
// Leading dimensions are explicit so prefixes of max-size weights are used in place.
void gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc);

}  // namespace ofa
