#!/usr/bin/env bash
# GEMM-rate probe: float32 GEMM GFLOP/s of each OpenBLAS kernel on this CPU (runs interleaved,
# medians), each also as a share of the best, with its SGEMM self-check against float64.
# Usage: scripts/bench_gemm.sh BUILD_DIR [N=2048] [THREADS=2] [ROUNDS=3] [KERNELS...]
# KERNELS default: Prescott Haswell Zen SkylakeX, plus "default" (OpenBLAS's own choice, with
# OPENBLAS_CORETYPE unset). Kernels the CPU lacks are skipped by OpenBLAS (it says so).
set -euo pipefail
build=${1:?usage: scripts/bench_gemm.sh BUILD_DIR [N] [THREADS] [ROUNDS] [KERNELS...]}
n=${2:-2048}
threads=${3:-2}
rounds=${4:-3}
shift $(( $# < 4 ? $# : 4 ))
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(Prescott Haswell Zen SkylakeX default)
probe="$build/tests/bench/bench_gemm"
[ -x "$probe" ] || { echo "bench_gemm: build it first: cmake --build $build --target bench_gemm" >&2; exit 1; }

declare -A rates names checks
for ((r = 0; r < rounds; r++)); do
  for k in "${kernels[@]}"; do
    if [ "$k" = default ]; then
      line=$(env -u OPENBLAS_CORETYPE "$probe" "$n" "$threads" 3)
    else
      line=$(OPENBLAS_CORETYPE="$k" "$probe" "$n" "$threads" 3)
    fi
    rates[$k]+="$(sed -n 's/.*gflops=\([0-9.]*\).*/\1/p' <<<"$line") "
    names[$k]=$(sed -n 's/.*kernel=\([^ ]*\).*/\1/p' <<<"$line")
    checks[$k]=$(sed -n 's/.*self_check=\([^ ]*\).*/\1/p' <<<"$line")
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
best=0
declare -A med
for k in "${kernels[@]}"; do
  med[$k]=$(median <<<"${rates[$k]}")
  best=$(awk -v a="$best" -v b="${med[$k]}" 'BEGIN {print (b > a ? b : a)}')
done
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); $n x $n float32 GEMM, $threads threads, median of $rounds rounds x 3"
printf '%-10s %-12s %10s %8s %s\n' asked ran GFLOP/s share self_check
for k in "${kernels[@]}"; do
  printf '%-10s %-12s %10s %7.0f%% %s\n' "$k" "${names[$k]}" "${med[$k]}" \
    "$(awk -v a="${med[$k]}" -v b="$best" 'BEGIN {print 100 * a / b}')" "${checks[$k]}"
done
