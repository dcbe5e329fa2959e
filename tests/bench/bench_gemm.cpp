// GEMM-rate probe: float32 GEMM throughput of the OpenBLAS kernel this process loads (set
// OPENBLAS_CORETYPE to pick one), and its SGEMM self-check against float64. One line per run;
// scripts/bench_gemm.sh runs it per kernel, interleaved, and prints medians and shares of the best.
// Usage: bench_gemm [N=2048] [THREADS=2] [REPEATS=5]
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "runtime/blas.hpp"

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2048;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  void* library = ::dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    std::fprintf(stderr, "bench_gemm: %s\n", ::dlerror());
    return 1;
  }
  const auto corename = reinterpret_cast<char* (*)()>(::dlsym(library, "openblas_get_corename"));
  const auto set_threads =
      reinterpret_cast<void (*)(int)>(::dlsym(library, "openblas_set_num_threads"));
  const auto sgemm = reinterpret_cast<othrun::blas::Sgemm>(::dlsym(library, "cblas_sgemm"));
  if (corename == nullptr || set_threads == nullptr || sgemm == nullptr) {
    std::fprintf(stderr, "bench_gemm: libopenblas.so.0 lacks the OpenBLAS functions\n");
    return 1;
  }
  set_threads(threads);
  const double check = othrun::blas::sgemm_self_check(sgemm);
  const std::size_t size = static_cast<std::size_t>(n) * n;
  std::vector<float> a(size), b(size), c(size);
  for (std::size_t i = 0; i < size; ++i) {
    a[i] = static_cast<float>(i % 97) / 97.0f - 0.5f;
    b[i] = static_cast<float>(i % 89) / 89.0f - 0.5f;
  }
  auto once = [&] {
    const auto start = std::chrono::steady_clock::now();
    sgemm(101, 111, 111, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  once();  // warm-up: thread start, page faults
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) seconds.push_back(once());
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::printf("kernel=%s n=%d threads=%d gflops=%.1f self_check=%.3g (<1 passes)\n", corename(), n,
              threads, 2.0 * n * n * n / median / 1e9, check);
  return check < 1.0 ? 0 : 2;
}
