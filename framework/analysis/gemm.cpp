#include <othrun/analysis/gemm.hpp>

#include <cblas.h>

namespace othrun::analysis {

void gemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b, float* c,
          bool b_transposed, float alpha, float beta) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, b_transposed ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(k), b, static_cast<int>(b_transposed ? k : n), beta, c,
              static_cast<int>(n));
}

}  // namespace othrun::analysis
