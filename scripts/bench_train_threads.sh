#!/usr/bin/env bash
# Training throughput on 1 and 2 threads, two ways (docs/benchmarks.md, "Training on N threads"):
# "intra-op": one forward and backward over the whole batch, parallel only inside each kernel
# (LibTorch's and OpenBLAS's own pools; the training loop before batch shards), and "shards=S":
# train_model's step, S shards of the batch on the threads, every kernel on one thread. Both run
# under othrun's thread policy for N threads (the variables `othrun --system --threads N` reports
# under "thread policy"). Rounds interleaved, medians; tokens/s of a full training step and the
# process's CPU seconds per step (tests/train/bench_train_step.cpp).
# Usage: scripts/bench_train_threads.sh BUILD_DIR [ROUNDS=3] [CONFIG=1: 0-3 of bench_train_step]
#        [SHARDS: 0 = train_model's default] [STEPS=5]
set -euo pipefail
build=${1:?usage: scripts/bench_train_threads.sh BUILD_DIR [ROUNDS] [CONFIG] [SHARDS] [STEPS]}
rounds=${2:-3}
config_arg=${3:-1}
shards=${4:-0}
steps=${5:-5}
bench="$build/tests/train/bench_train_step"
[ -x "$bench" ] || { echo "build $bench first" >&2; exit 1; }
[ -x "$build/bin/othrun" ] || { echo "build $build/bin/othrun first" >&2; exit 1; }

# The policy's variables for N threads, as othrun sets them (the user's own values are kept).
policy_env() {
  "$build/bin/othrun" --system --threads "$1" | sed -n 's/^thread policy: //p' |
    sed 's/ (yours)//g'
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A rate cpu
for ((r = 0; r < rounds; r++)); do
  for t in 1 2; do
    # One process per scheme: neither inherits the other's pools.
    for scheme in intra-op shards; do
      # shellcheck disable=SC2046
      out=$(env $(policy_env "$t") "$bench" "$t" "$config_arg" "$scheme" "$shards" "$steps")
      echo "round $((r + 1)) ${t}t: $out" >&2
      while IFS= read -r line; do
        key=${line%%:*}
        rate["$t|$key"]+="$(sed -n 's/.*: \([0-9]*\) tokens\/s.*/\1/p' <<<"$line") "
        cpu["$t|$key"]+="$(sed -n 's/.*, \([0-9.]*\) CPU s\/step/\1/p' <<<"$line") "
      done <<<"$out"
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "medians of $rounds interleaved rounds; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-70s %9s %9s %6s %11s %11s\n' "scheme and config" "1t tok/s" "2t tok/s" "2t/1t" \
  "1t CPU s/st" "2t CPU s/st"
for key in "${!rate[@]}"; do echo "${key#*|}"; done | sort -u | while IFS= read -r key; do
  r1=$(median <<<"${rate["1|$key"]}")
  r2=$(median <<<"${rate["2|$key"]}")
  c1=$(median <<<"${cpu["1|$key"]}")
  c2=$(median <<<"${cpu["2|$key"]}")
  printf '%-70s %9s %9s %5.2fx %11s %11s\n' "$key" "$r1" "$r2" \
    "$(awk -v a="$r2" -v b="$r1" 'BEGIN {print a / b}')" "$c1" "$c2"
done
