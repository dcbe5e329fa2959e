#!/bin/sh
# sae_correlation at full scale (docs/analyses.md, "Benchmark"): 4,096 features, 100,000 games.
#   scripts/bench_sae_correlation.sh [BUILD_DIR] [WORK_DIR] [games] [d_sae] [l0] [threads] \
#     [encode_games] [chunk_games] [compare]
# compare=1 (default) also times the accumulation before/after its per-feature regrouping on the
# same chunks, interleaved, and checks both give the same numbers.
# The first run writes the games and synthetic features into WORK_DIR (about 1 GB); later runs
# reuse them and time only sae_correlation (its product is replaced). Peak memory from
# /usr/bin/time -v.
set -eu
build=${1:-build}
work=${2:-/tmp/othrun-bench-sae}
ninja -C "$build" bench_sae_correlation
/usr/bin/time -v "$build/tests/analysis/bench_sae_correlation" "$work" "${3:-100000}" "${4:-4096}" \
  "${5:-32}" "${6:-2}" "${7:-100}" "${8:-256}" "${9:-1}" 2>&1 | grep -E -v "^\s+(Average|Exit|Swaps|File system|Socket|Signals|Page size|Voluntary|Involuntary|Minor|Major)"
