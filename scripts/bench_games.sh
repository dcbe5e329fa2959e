#!/usr/bin/env bash
# Benchmark (b) of docs/games.md: wall time of `othrun` generating 100,000 full-length synthetic
# games with their ground truth into a store (experiments/bench_games_100k.yaml), median of
# several runs. Each run starts from scratch (--force) in a temporary store.
#
# Usage: scripts/bench_games.sh [BUILD_DIR] [REPETITIONS]
#   BUILD_DIR    a Release build with othrun and the games plugin (default: build)
#   REPETITIONS  default 5
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
repetitions=${2:-5}
othrun="$build/bin/othrun"
[ -x "$othrun" ] || { echo "bench_games: no $othrun (build the othrun and games targets)" >&2; exit 2; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "bench_games: 100,000 full-length synthetic games + ground truth, $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
times=()
for run in $(seq "$repetitions"); do
  start=$(date +%s.%N)
  "$othrun" --plugin-path "$build/plugins-out" --force --log-level warn \
    --set store="$scratch/bench.h5" "$root/experiments/bench_games_100k.yaml"
  end=$(date +%s.%N)
  seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  times+=("$seconds")
  echo "  run $run: $seconds s"
done
size=$(du -m "$scratch/bench.d" | cut -f1)
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "median: $median s wall over $repetitions runs (store ${size} MiB)"
