// Single-precision matrix products through CBLAS (OpenBLAS at run time on Debian). Row-major.
#pragma once

#include <cstdint>

namespace othrun::analysis {

// C[m, n] = alpha * A[m, k] * op(B) + beta * C, op(B) = B[k, n] or, with `b_transposed`, B[n, k]^T.
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b, float* c,
          bool b_transposed = false, float alpha = 1.0f, float beta = 0.0f);

}  // namespace othrun::analysis
