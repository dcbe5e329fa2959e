#include "device_memory.hpp"

#include <othrun/error.hpp>

#include <fmt/format.h>

namespace othrun::cuda_gpt {

void check_cuda(cudaError_t error, const char* what) {
  if (error != cudaSuccess) {
    throw Error(fmt::format("CUDA: {} failed: {} ({})", what, cudaGetErrorString(error),
                            cudaGetErrorName(error)));
  }
}

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw Error(fmt::format("cuBLAS: {} failed: {} ({})", what, cublasGetStatusString(status),
                            static_cast<int>(status)));
  }
}

CublasHandle::CublasHandle() {
  check_cublas(cublasCreate(&handle_), "cublasCreate");
  // Full float32 products (the default mode; said explicitly): TF32 tensor cores
  // (CUBLAS_TF32_TENSOR_OP_MATH) would round the inputs to
  // 10 mantissa bits and miss the CPU path by ~1e-3, far outside the 1e-5 the forward is held to.
  check_cublas(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
}

}  // namespace othrun::cuda_gpt
