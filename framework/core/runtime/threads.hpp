// One thread policy for every pool in the process (docs/benchmarks.md, "BLAS kernels and
// threads"): `--threads N` means N cores busy. othrun's workers, LibTorch's intra-op pool (OpenMP)
// and OpenBLAS's own pool each get N threads, and idle OpenMP threads sleep instead of spinning,
// so that the pools take turns on the N cores instead of fighting over them. The OpenMP and
// OpenBLAS settings are environment variables their libraries read once, when loaded: the host
// applies the policy before the first plugin loads.
#pragma once

#include <string>
#include <vector>

namespace othrun::threads {

// N when given (> 0), else every hardware thread.
int resolve(int requested);

// A variable of the policy and who set it.
struct Setting {
  std::string name, value;
  bool by_user = false;  // the user's own value, kept as it was
};

// Sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS (both = threads) and OMP_WAIT_POLICY=PASSIVE in
// this process's environment, each unless the user set it. Call before any plugin loads.
std::vector<Setting> apply_policy(int threads);

}  // namespace othrun::threads
