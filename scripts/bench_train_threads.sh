#!/usr/bin/env bash
# Training throughput on 1 and 2 threads, without and with othrun's thread policy
# (docs/benchmarks.md, "BLAS kernels and threads"). "before": the environment as it is (what
# training got before the policy); "policy": the variables `othrun --system --threads N` reports
# under "thread policy" (OpenMP/OpenBLAS thread counts, passive OpenMP waiting). Runs interleaved,
# medians of ROUNDS; tokens/s of a full training step (tests/train/bench_train_step.cpp).
# Usage: scripts/bench_train_threads.sh BUILD_DIR [ROUNDS=3] [CONFIG: 0-3 of bench_train_step]
set -euo pipefail
build=${1:?usage: scripts/bench_train_threads.sh BUILD_DIR [ROUNDS]}
rounds=${2:-3}
config_arg=${3:-}
bench="$build/tests/train/bench_train_step"
[ -x "$bench" ] || { echo "build $bench first" >&2; exit 1; }

# The policy's variables for N threads, as othrun sets them (the user's own values are kept).
policy_env() {
  "$build/bin/othrun" --system --threads "$1" | sed -n 's/^thread policy: //p' |
    sed 's/ (yours)//g'
}

declare -A results
for ((r = 0; r < rounds; r++)); do
  for mode in before policy; do
    for t in 1 2; do
      if [ "$mode" = policy ]; then
        # shellcheck disable=SC2046
        out=$(env $(policy_env "$t") "$bench" "$t" $config_arg)
      else
        out=$("$bench" "$t" $config_arg)
      fi
      echo "round $((r + 1)) $mode ${t}t: $out" >&2
      while IFS= read -r line; do
        config=${line%%:*}
        results["$mode|$t|$config"]+="$(sed -n 's/.*: \([0-9]*\) tokens\/s/\1/p' <<<"$line") "
      done <<<"$out"
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "tokens/s, median of $rounds interleaved rounds; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-48s %10s %10s %7s %10s %10s %7s\n' config "before 1t" "before 2t" "2t/1t" \
  "policy 1t" "policy 2t" "2t/1t"
for key in "${!results[@]}"; do echo "${key##*|}"; done | sort -u | while IFS= read -r config; do
  b1=$(median <<<"${results["before|1|$config"]}")
  b2=$(median <<<"${results["before|2|$config"]}")
  p1=$(median <<<"${results["policy|1|$config"]}")
  p2=$(median <<<"${results["policy|2|$config"]}")
  printf '%-48s %10s %10s %6.2fx %10s %10s %6.2fx\n' "$config" "$b1" "$b2" \
    "$(awk -v a="$b2" -v b="$b1" 'BEGIN {print a / b}')" "$p1" "$p2" \
    "$(awk -v a="$p2" -v b="$p1" 'BEGIN {print a / b}')"
done
