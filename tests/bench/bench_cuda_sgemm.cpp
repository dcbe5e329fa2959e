// cuBLAS sgemm rate on this GPU (scripts/gpu_check.sh): the peak (large squares) and the rate at
// the Othello-GPT forward's shapes for a batch of B games (rows = B * 59), in full float32 as the
// CUDA forward runs them (no TF32). Prints one `key value` line per figure, GFLOP/s.
//   bench_cuda_sgemm [--batch B]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "device_memory.hpp"
#include "device_status.hpp"

namespace {

using namespace othrun::cuda_gpt;

// Median GFLOP/s of `repeats` row-major [m, k] @ [k, n] products.
double sgemm_rate(CublasHandle& handle, int m, int k, int n, int repeats) {
  DeviceArray<float> a(static_cast<std::size_t>(m) * k), b(static_cast<std::size_t>(k) * n),
      c(static_cast<std::size_t>(m) * n);
  check_cuda(cudaMemset(a.get(), 0, a.size() * sizeof(float)), "cudaMemset");
  check_cuda(cudaMemset(b.get(), 0, b.size() * sizeof(float)), "cudaMemset");
  const float one = 1.0f, zero = 0.0f;
  CudaEvent start(true), stop(true);
  std::vector<double> rates;
  for (int r = 0; r <= repeats; ++r) {  // r == 0 warms up
    check_cuda(cudaEventRecord(start.get(), nullptr), "cudaEventRecord");
    check_cublas(cublasSgemm(handle.get(), CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, b.get(), n,
                             a.get(), k, &zero, c.get(), n),
                 "cublasSgemm");
    check_cuda(cudaEventRecord(stop.get(), nullptr), "cudaEventRecord");
    check_cuda(cudaEventSynchronize(stop.get()), "cudaEventSynchronize");
    float ms = 0;
    check_cuda(cudaEventElapsedTime(&ms, start.get(), stop.get()), "cudaEventElapsedTime");
    if (r > 0) rates.push_back(2.0 * m * k * n / (ms / 1e3) / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int batch = 100;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
      batch = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: bench_cuda_sgemm [--batch B]\n");
      return 2;
    }
  }
  const DeviceStatus status = cuda_device_status();
  if (!status.available) {
    std::fprintf(stderr, "bench_cuda_sgemm: no GPU: %s\n", status.reason.c_str());
    return 3;
  }
  try {
    CublasHandle handle;
    std::printf("device %s\n", status.name.c_str());
    double peak = 0;
    for (int size : {4096, 8192}) peak = std::max(peak, sgemm_rate(handle, size, size, size, 5));
    std::printf("peak_gflops %.1f\n", peak);
    const int rows = batch * 59, D = 512, M = 2048;
    const int shapes[4][3] = {{rows, D, 3 * D}, {rows, D, D}, {rows, D, M}, {rows, M, D}};
    double flops = 0, seconds = 0;
    for (const auto& s : shapes) {
      const double rate = sgemm_rate(handle, s[0], s[1], s[2], 5);
      const double f = 2.0 * s[0] * s[1] * s[2];
      std::printf("shape_gflops %dx%dx%d %.1f\n", s[0], s[1], s[2], rate);
      flops += f;
      seconds += f / (rate * 1e9);
    }
    std::printf("mix_gflops %.1f\n", flops / seconds / 1e9);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda_sgemm: %s\n", e.what());
    return 1;
  }
  return 0;
}
