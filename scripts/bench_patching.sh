#!/bin/sh
# Benchmark of activation_patching against the same sweep with Python torch eager hooks
# (docs/benchmarks.md): 8 layers x 59 positions x N pairs, resid_pre, logit_diff.
#   scripts/bench_patching.sh [BUILD_DIR] [--pairs N] [--threads T] [--repeats R] [--from-embedding]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
exec /usr/bin/python3 "$root/tests/bench/bench_patching.py" \
  --othrun "$build/bin/othrun" --plugins "$build/plugins-out" "$@"
