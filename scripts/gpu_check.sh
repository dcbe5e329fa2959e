#!/usr/bin/env bash
# GPU check of the CUDA inference forward (docs/inference.md "CUDA", docs/benchmarks.md), on a
# Debian 12 machine with the CUDA toolkit (nvcc, cuBLAS) and an NVIDIA GPU:
#   1. installs the Debian packages othrun needs (scripts/setup.sh),
#   2. builds the targets it runs (Release, ./build-gpu unless --build-dir),
#   3. runs the cuda tests: every hook of the full-size random model (8 layers, d_model 512,
#      d_mlp 2048, 8 heads, n_ctx 59, vocab 61) against the CPU path at relative error <= 1e-5,
#      streaming, device: cuda against device: cpu end to end,
#   4. measures cuBLAS sgemm on this GPU and prints the throughput table: tokens/s, the share of
#      the sgemm peak the whole forward reaches, the store-write share.
# Finishes in under 8 minutes on a 16-core machine (the build is most of it).
#   scripts/gpu_check.sh [--build-dir DIR] [--games N] [--batch B] [--skip-setup] [--dry-run]
# Exit status: 0 all passed, 1 a step failed, 2 bad arguments, 3 no usable GPU or no nvcc.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {  # the comment block above
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

build_dir=$root/build-gpu
games=20000
batch=500
skip_setup=0
dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) [ $# -ge 2 ] || { echo "gpu_check: --build-dir needs a folder" >&2; exit 2; }
                 build_dir=$2; shift 2 ;;
    --games) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "gpu_check: --games needs a positive integer, got '${2:-}'" >&2; exit 2; }
             games=$2; shift 2 ;;
    --batch) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "gpu_check: --batch needs a positive integer, got '${2:-}'" >&2; exit 2; }
             batch=$2; shift 2 ;;
    --skip-setup) skip_setup=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_check: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

step() { printf '\n== gpu_check: %s (%ds)\n' "$1" "$SECONDS"; }

# A GPU first: nothing below means anything without one.
step "looking for a GPU"
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu_check: no GPU: nvidia-smi is not installed (no NVIDIA driver on this machine)" >&2
  exit 3
fi
if ! gpus=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1) ||
   [ -z "$gpus" ]; then
  echo "gpu_check: no GPU: nvidia-smi found none: $gpus" >&2
  exit 3
fi
echo "$gpus"
nvcc=$(command -v nvcc || true)
[ -n "$nvcc" ] || [ ! -x /usr/local/cuda/bin/nvcc ] || nvcc=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc" ]; then
  echo "gpu_check: no nvcc: install the CUDA toolkit (nvcc, cuBLAS) first" >&2
  exit 3
fi
echo "nvcc: $nvcc ($("$nvcc" --version | tail -1))"
if [ "$dry_run" -eq 1 ]; then
  echo "gpu_check: dry run: would set up, build in $build_dir, test, and benchmark $games games" \
       "in batches of $batch"
  exit 0
fi

if [ "$skip_setup" -eq 0 ]; then
  step "installing packages (scripts/setup.sh)"
  "$root/scripts/setup.sh" || { echo "gpu_check: scripts/setup.sh failed (above)" >&2; exit 1; }
fi

step "building in $build_dir"
mkdir -p "$build_dir"
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_COMPILER="$nvcc" >"$build_dir/configure.log" 2>&1 ||
  { cat "$build_dir/configure.log"; exit 1; }
cmake --build "$build_dir" -j"$(nproc)" --target othrun games inference othrun_cuda_backend \
  test_cuda_device test_cuda_host test_cuda_plan test_cuda_backend_loading bench_cuda_sgemm ||
  { echo "gpu_check: the build failed (above)" >&2; exit 1; }

step "cuda tests (every hook of the full-size model against the CPU path)"
if ! ctest --test-dir "$build_dir" -L cuda --output-on-failure -j"$(nproc)" --timeout 300 \
  -R 'Cuda' 2>&1 | tee "$build_dir/gpu_check_ctest.log"; then
  echo "gpu_check: the cuda tests failed (above)" >&2
  exit 1
fi
grep -h "gpu_check:" "$build_dir"/Testing/Temporary/LastTest*.log || true
if grep -q "Skipped.*CudaGpu\|CudaGpu.*Skipped" "$build_dir/gpu_check_ctest.log"; then
  echo "gpu_check: the GPU tests were skipped although nvidia-smi sees a GPU" >&2
  exit 1
fi

step "throughput (cuBLAS sgemm peak, then othrun inference on device: cuda)"
/usr/bin/python3 "$root/tests/bench/bench_cuda_inference.py" --othrun "$build_dir/bin/othrun" \
  --plugins "$build_dir/plugins-out" --sgemm "$build_dir/tests/bench/bench_cuda_sgemm" \
  --games "$games" --batch "$batch" || { echo "gpu_check: the benchmark failed (above)" >&2; exit 1; }
step "done"
