// The BLAS kernel choice (docs/benchmarks.md, "BLAS kernels and threads"). othrun itself does not
// link a BLAS: plugins load OpenBLAS (through libothrun_analysis and LibTorch), and OpenBLAS reads
// OPENBLAS_CORETYPE once, when it is loaded. So the host decides before the first plugin loads,
// probing OpenBLAS in short-lived child processes: which kernel it picks by itself, and whether a
// better one the CPU supports computes SGEMM correctly. Nothing here links LibTorch or a BLAS.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace othrun::blas {

// What the CPU supports (cpuid, with the OS's register-state support: __builtin_cpu_supports).
struct CpuFeatures {
  std::string model;  // "AMD EPYC 9B14", from /proc/cpuinfo (empty when unknown)
  bool sse3 = false, ssse3 = false, sse4_2 = false, avx = false, avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false, avx512cd = false;
  bool avx512bf16 = false;
  // The names of the supported features above, in that order ("avx2 fma avx512f ...").
  std::string names() const;
};
CpuFeatures cpu_features();

// OpenBLAS kernels by instruction-set level: 0 unknown, 1 SSE (Prescott, Nehalem, ...), 2 AVX
// (Sandybridge, Bulldozer, ...), 3 AVX2+FMA (Haswell, Zen), 4 AVX-512 (SkylakeX, Cooperlake, ...).
int kernel_level(const std::string& corename);
// The best kernel `cpu` can run, as an OPENBLAS_CORETYPE value, best first: {"SkylakeX",
// "Haswell"} with AVX-512 F/BW/DQ/VL/CD, {"Haswell"} with AVX2 and FMA, else {}.
std::vector<std::string> candidate_kernels(const CpuFeatures& cpu);

// The outcome of loading OpenBLAS with one OPENBLAS_CORETYPE in a child process.
struct Probe {
  bool loaded = false;   // libopenblas.so.0 was found and loaded
  std::string corename;  // openblas_get_corename()
  bool checked = false;  // the SGEMM self-check ran
  bool correct = false;  // ... and every entry was within its error bound
  double worst = 0;      // largest |error| / bound over the entries (< 1 passes)
  std::string failure;   // why it did not load or check (crash, timeout, bound exceeded)
};
// Loads OpenBLAS in a child process with OPENBLAS_CORETYPE = coretype (unset when empty); runs
// the SGEMM self-check when `self_check`. Never loads a BLAS into this process.
Probe probe_in_child(const std::string& coretype, bool self_check);

// SGEMM self-check: C = alpha A B + beta C, row-major, B plain and transposed, odd sizes so that
// the kernels' edge code runs too, against a float64 reference. Each entry must lie within
// 2 (k + 2) u (|alpha| sum_k |a||b| + |beta||c|) of it, u = 2^-24: twice the worst-case bound of
// float32 accumulation over k + 2 terms; a wrong kernel misses it by orders of magnitude.
// `sgemm` is cblas_sgemm's signature. Returns the worst |error| / bound.
using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int,
                       float, float*, int);
double sgemm_self_check(Sgemm sgemm);

// The decision the host took, for the log and `othrun --system`.
struct Selection {
  std::string user_setting;      // the user's OPENBLAS_CORETYPE (then nothing else was tried)
  std::string default_kernel;    // OpenBLAS's own choice ("" when OpenBLAS was not found)
  std::string chosen;            // the OPENBLAS_CORETYPE set for the plugins ("" when none)
  std::vector<std::string> log;  // what was done, one line each
};

// Decides the kernel from the CPU's features and a prober (probe_in_child in othrun; a fake in the
// tests). Switches only when OpenBLAS's own choice is a lower level than the CPU supports, and only
// to a kernel that passed the self-check; otherwise keeps OpenBLAS's choice.
Selection select_kernel(const CpuFeatures& cpu, const std::optional<std::string>& user_coretype,
                        const std::function<Probe(const std::string&, bool)>& probe);

// Runs select_kernel for this process and sets OPENBLAS_CORETYPE when it chose a kernel. Call
// before anything loads a BLAS (the first plugin). Logs each line at info level, once.
const Selection& select_kernel_for_this_process();

}  // namespace othrun::blas
